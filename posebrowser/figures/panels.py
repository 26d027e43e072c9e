"""Drawing on one matplotlib Axes: an image with its 2-D skeleton, a 3-D skeleton, a coloured frame.

Bones and colours follow :data:`posebrowser.pose.skeleton.BONES` (the thesis' colours); the upper neck
is never drawn as a dot. Every vector artist carries a ``gid`` so exported SVGs name what they draw.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.axes import Axes
from numpy.typing import NDArray

from posebrowser.pose.similarity import facing_aligned
from posebrowser.pose.skeleton import BONES, PELVIS, UPPER_NECK

CORRECT_COLOUR = "#2ca02c"
WRONG_COLOUR = "#d62728"
JOINT_COLOUR = "#f5f5f5"
#: Half-extent in metres of the 3-D skeleton boxes.
SKELETON_REACH = 1.0


def _drawn_joints(count: int) -> list[int]:
    return [j for j in range(count) if j != UPPER_NECK]


def draw_image(axes: Axes, image: NDArray[np.uint8] | None, faded: bool = False) -> None:
    """Show ``image`` (H, W, 3) without ticks; a grey square when there is none."""
    axes.set_xticks([])
    axes.set_yticks([])
    if image is None:
        axes.set_facecolor("0.85")
        return
    axes.imshow(image, alpha=0.45 if faded else 1.0, interpolation="none")


def draw_skeleton_2d(axes: Axes, joints: NDArray[np.floating] | None, gid: str = "joints-2d") -> None:
    """Bones as lines and joints as dots over an image in its pixel coordinates."""
    if joints is None:
        return
    points = np.asarray(joints, dtype=np.float64)
    for first, second, colour in BONES:
        if np.isfinite(points[[first, second]]).all():
            axes.plot(
                points[[first, second], 0],
                points[[first, second], 1],
                "-",
                color=colour,
                linewidth=1.2,
                gid=f"{gid}-bone",
            )
    shown = points[_drawn_joints(len(points))]
    axes.scatter(
        shown[:, 0], shown[:, 1], s=6, c=JOINT_COLOUR, edgecolors="0.2", linewidths=0.4, zorder=3, gid=gid
    )


def pose_for_view(joints: NDArray[np.floating]) -> NDArray[np.float64]:
    """Z-up 3-D joints turned to face the viewer and centred on the pelvis (a comparable view)."""
    aligned = facing_aligned(np.asarray(joints, dtype=np.float64)[None])[0]
    centred: NDArray[np.float64] = aligned - aligned[PELVIS]
    return centred


def draw_skeleton_3d(axes: Any, joints: NDArray[np.floating] | None, gid: str = "skeleton-3d") -> None:
    """A 3-D stick figure on a ``projection="3d"`` axes: pelvis-centred, facing aligned, axes hidden."""
    axes.set_axis_off()
    if joints is None:
        return
    pose = pose_for_view(joints)
    for first, second, colour in BONES:
        segment = pose[[first, second]]
        if np.isfinite(segment).all():
            axes.plot(
                segment[:, 0],
                segment[:, 1],
                segment[:, 2],
                "-",
                color=colour,
                linewidth=1.5,
                gid=f"{gid}-bone",
            )
    shown = pose[_drawn_joints(len(pose))]
    axes.scatter(shown[:, 0], shown[:, 1], shown[:, 2], s=5, c="0.25", depthshade=False, gid=gid)
    reach = SKELETON_REACH
    axes.set_xlim(-reach, reach)
    axes.set_ylim(-reach, reach)
    axes.set_zlim(-reach, reach)
    axes.set_box_aspect((1, 1, 1))
    axes.view_init(elev=12, azim=-75)


def draw_frame(axes: Axes, correct: bool | None, width: float = 4.0) -> None:
    """Colour the axes' border green (correct) or red (wrong); no border when ``correct`` is None."""
    for spine in axes.spines.values():
        if correct is None:
            spine.set_visible(False)
        else:
            spine.set_visible(True)
            spine.set_edgecolor(CORRECT_COLOUR if correct else WRONG_COLOUR)
            spine.set_linewidth(width)
            spine.set_gid("frame-correct" if correct else "frame-wrong")
