"""One synthetic image with its exact annotations.

``render_sample(seed, index, size)`` is a pure function of its arguments: the pose comes from
``poses.pose_rng(seed, index)`` and the camera, appearance and noise from a second stream of the same seed
and index, so any process can render any index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from posebrowser.pose import skeleton as sk
from posebrowser.synth import appearance
from posebrowser.synth.assets import MotionClips, load_motions
from posebrowser.synth.camera import Camera, fit_camera
from posebrowser.synth.options import DEFAULT_OPTIONS, SynthOptions
from posebrowser.synth.poses import PosedBody, PoseSample, draw_pose, pose_rng, split_of
from posebrowser.synth.scene import Rendering, render_scene, vertex_colours
from posebrowser.synth.skin import BodyModel, default_body_model

#: How far (m) behind the visible surface a joint may lie and still count as visible (joints are inside
#: the body: torso joints deeper than limb joints, the head top is on the surface).
VISIBILITY_DEPTH: NDArray[np.float64] = np.array(
    [0.10, 0.12, 0.16, 0.16, 0.12, 0.10, 0.20, 0.18, 0.14, 0.06, 0.08, 0.10, 0.12, 0.12, 0.10, 0.08]
)
NOISE_SIGMA_RANGE = (0.0, 0.025)


@dataclass(frozen=True)
class SyntheticSample:
    """image ``(S, S, 3)`` uint8 RGB; joints_3d ``(16, 3)`` metres Z up; joints_2d ``(16, 2)`` pixels of the
    ``S × S`` image (x right, y down, pixel centres at +0.5); visibility ``(16,)`` bool; camera; body_id;
    source; split (0 train, 1 val, 2 test); mask ``(S, S)`` float32 body coverage."""

    image: NDArray[np.uint8]
    joints_3d: NDArray[np.float32]
    joints_2d: NDArray[np.float32]
    visibility: NDArray[np.bool_]
    camera: Camera
    body_id: int
    source: str
    split: int
    mask: NDArray[np.float32]


def look_rng(seed: int, index: int) -> np.random.Generator:
    """The generator for camera, appearance and noise of image ``index``."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, int(index), 1])


def joint_visibility(camera: Camera, joints: NDArray[np.floating], rendering: Rendering) -> NDArray[np.bool_]:
    """``(16,)`` bool: the joint projects into the image and no surface lies more than
    :data:`VISIBILITY_DEPTH` in front of it (z-buffer test over the 3×3 neighbourhood, most lenient pixel)."""
    ss = rendering.supersample
    depth = rendering.fragments.depth
    hi = depth.shape[0]
    proj = camera.project(joints, scale=ss)
    visible = np.zeros(len(proj), bool)
    for j, (x, y, z) in enumerate(proj):
        col, row = int(np.floor(x)), int(np.floor(y))
        if not (0 <= col < hi and 0 <= row < hi) or z <= 0:
            continue
        window = depth[max(row - ss, 0) : row + ss + 1, max(col - ss, 0) : col + ss + 1]
        surface = float(window.max())
        visible[j] = (not np.isfinite(surface)) or surface >= z - VISIBILITY_DEPTH[j]
    return visible


def random_camera(
    vertices: NDArray[np.floating], rng: np.random.Generator, size: int, options: SynthOptions
) -> Camera:
    """A camera drawn from ``options``' ranges, fitted around ``vertices``, then rolled about its optical
    axis (the image turns about its centre, so a wide, rolled person may lose a hand or foot at a corner:
    such joints are marked not visible)."""
    camera = fit_camera(
        vertices,
        azimuth=float(np.radians(rng.uniform(*options.azimuth))),
        elevation=float(np.radians(rng.uniform(*options.elevation))),
        distance=float(rng.uniform(*options.distance)),
        fill=float(rng.uniform(*options.fill)),
        size=size,
    )
    roll = float(np.radians(rng.uniform(*options.roll)))
    if roll == 0.0:
        return camera
    spin = Rotation.from_rotvec([0.0, 0.0, roll]).as_matrix()
    return Camera(
        rotation=spin @ camera.rotation,
        translation=spin @ camera.translation,
        focal=camera.focal,
        size=camera.size,
    )


def render_posed(
    model: BodyModel,
    posed: PosedBody,
    rng: np.random.Generator,
    size: int,
    supersample: int = 2,
    camera: Camera | None = None,
    options: SynthOptions = DEFAULT_OPTIONS,
) -> tuple[Rendering, Camera]:
    """Render a posed body with random camera (unless given), outfit, light, ground and background."""
    model = posed.model or model
    vertices = model.skin(posed.body, posed.transforms)
    normals = model.vertex_normals(vertices)
    if camera is None:
        camera = random_camera(vertices, rng, size, options)
    arrays = model.arrays
    outfit = appearance.random_outfit(rng, arrays.region_names)
    albedo = vertex_colours(
        outfit, arrays.vertex_regions, arrays.rest_vertices[posed.body], arrays.region_names
    )
    lighting = appearance.random_lighting(rng)
    ground = appearance.random_ground(rng) if rng.uniform() < 0.85 else None
    background = appearance.random_background(rng, size)
    rendering = render_scene(
        vertices, model.faces, normals, albedo, camera, lighting, ground, background, supersample
    )
    return rendering, camera


def finish_image(image: NDArray[np.floating], rng: np.random.Generator) -> NDArray[np.uint8]:
    """Float image in [0, 1] → uint8 with Gaussian pixel noise of a random strength."""
    sigma = float(rng.uniform(*NOISE_SIGMA_RANGE))
    noisy = np.asarray(image, dtype=np.float32) + rng.normal(0, sigma, np.shape(image)).astype(np.float32)
    return np.asarray(np.clip(noisy * 255 + 0.5, 0, 255), dtype=np.uint8)


def render_sample(
    seed: int,
    index: int,
    size: int = 128,
    supersample: int = 2,
    model: BodyModel | None = None,
    motions: MotionClips | None = None,
    options: SynthOptions = DEFAULT_OPTIONS,
) -> SyntheticSample:
    """Render image ``index`` of the gallery with ``seed`` and ``options`` at ``size × size`` pixels."""
    model = model or default_body_model()
    motions = motions or load_motions()
    pose: PoseSample
    pose, posed = draw_pose(pose_rng(seed, index), index, model, motions, options)
    rng = look_rng(seed, index)
    rendering, camera = render_posed(model, posed, rng, size, supersample, options=options)
    joints_2d = camera.project(posed.joints)[:, :2]
    return SyntheticSample(
        image=finish_image(rendering.image, rng),
        joints_3d=posed.joints.astype(np.float32),
        joints_2d=joints_2d.astype(np.float32),
        visibility=joint_visibility(camera, posed.joints, rendering),
        camera=camera,
        body_id=posed.body_id,
        source=pose.source,
        split=split_of(pose.split_key),
        mask=rendering.mask,
    )


def draw_skeleton(
    image: NDArray[np.uint8], joints_2d: NDArray[np.floating], visibility: NDArray[np.bool_], scale: int = 4
) -> NDArray[np.uint8]:
    """A debugging overlay: the image enlarged ``scale`` times with the stick figure drawn on it."""
    from PIL import Image, ImageDraw

    canvas = Image.fromarray(image).resize(
        (image.shape[1] * scale, image.shape[0] * scale), Image.Resampling.NEAREST
    )
    draw = ImageDraw.Draw(canvas)
    pts = np.asarray(joints_2d) * scale
    for a, b, colour in sk.BONES:
        draw.line([tuple(pts[a]), tuple(pts[b])], fill=colour, width=2)
    for j, (x, y) in enumerate(pts):
        fill = "white" if visibility[j] else "black"
        draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=fill)
    return np.asarray(canvas)
