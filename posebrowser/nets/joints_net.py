"""JointsNet: 3-D joints of the 16-joint skeleton → the 128-d L2-normalised embedding space.

The input is a pose in the net's *joints-net frame* (:func:`joints_frame`), in metres, pelvis at the origin:

* ``"facing"`` (the default): turned about the vertical so the hips point along +x — the facing alignment
  of the 3-D ground-truth metric; the body's lean (its torso's angle to the vertical) is kept;
* ``"torso"`` (:func:`torso_frame`): the whole body turned so its spine (pelvis → upper neck) is +z and its
  hips point along +x — every global rotation is removed, the lean with it. A pose estimator that assumes
  a level camera reads a body seen from above as leaning; this frame does not see that error.
The net is a plain MLP — ``Linear(48, hidden)``, then ``depth − 1`` more ``Linear(hidden, hidden)``, each
followed by ReLU (and dropout), then ``Linear(hidden, embedding_dim)`` and L2 normalisation. It answers the
thesis' question from the other side: how well is pose retrieved *with* an explicit pose estimate in front
of the embedding, rather than by a CNN that never names a joint. The buffer ``mean_pose`` (the training
poses' mean in that frame) is saved with the weights.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike, NDArray
from torch import nn

from posebrowser.pose.similarity import facing_aligned
from posebrowser.pose.skeleton import L_HIP, NUM_JOINTS, PELVIS, R_HIP, UPPER_NECK

#: Inputs are multiplied by this before the first layer (poses span about ±1 m; this brings them to ±2).
INPUT_SCALE = 2.0


#: The joints-net frames a net can be trained in (see the module doc).
FRAMES = ("facing", "torso")


def joints_frame(joints: ArrayLike, frame: str = "facing") -> NDArray[np.float32]:
    """``(N, 16, 3)`` Z-up joints → the same poses in the joints-net ``frame`` (pelvis-centred; facing-
    aligned, or in the torso's own axes for ``"torso"``), float32.

    Idempotent: a pose already in the frame is returned unchanged (up to rounding).
    """
    if frame not in FRAMES:
        raise ValueError(f"frame must be one of {FRAMES}, not {frame!r}")
    poses = np.asarray(joints, dtype=np.float64)
    if poses.ndim != 3 or poses.shape[1:] != (NUM_JOINTS, 3):
        raise ValueError(f"Expected joints of shape (N, {NUM_JOINTS}, 3), got {poses.shape}.")
    centred = poses - poses[:, PELVIS : PELVIS + 1]
    if frame == "torso":
        return torso_frame(centred)
    return np.asarray(facing_aligned(centred), dtype=np.float32)


def torso_frame(centred: NDArray[np.float64]) -> NDArray[np.float32]:
    """Pelvis-centred ``(N, 16, 3)`` poses in their torso's axes: z along the spine (pelvis → upper neck),
    x along the hips (left − right) made orthogonal to it, y = z × x. A pose whose spine has no length or
    whose hips lie on the spine's line has no such axes: its rows are NaN."""
    up = centred[:, UPPER_NECK]
    with np.errstate(invalid="ignore", divide="ignore"):
        up = up / np.linalg.norm(up, axis=1, keepdims=True)
        across = centred[:, L_HIP] - centred[:, R_HIP]
        across = across - np.sum(across * up, axis=1, keepdims=True) * up
        across = across / np.linalg.norm(across, axis=1, keepdims=True)
    axes = np.stack([across, np.cross(up, across), up], axis=2)  # (N, 3, 3): columns x, y, z
    return np.asarray(np.einsum("njc,ncd->njd", centred, axes), dtype=np.float32)


def embed_joints(module: nn.Module, joints: ArrayLike, device: str = "cpu") -> NDArray[np.float32]:
    """``(N, 16, 3)`` Z-up joints (any frame) → ``(N, D)`` float32 unit rows of a joints net."""
    framed = torch.from_numpy(joints_frame(joints, getattr(module, "frame", "facing"))).to(device)
    with torch.inference_mode():
        out = F.normalize(module(framed).float(), dim=1)
    return np.asarray(out.cpu().numpy(), dtype=np.float32)


class JointsNet(nn.Module):
    """``(N, 16, 3)`` (or ``(N, 48)``) float32 poses in the joints-net frame → ``(N, 128)`` unit rows."""

    def __init__(
        self,
        num_joints: int = NUM_JOINTS,
        hidden: int = 512,
        depth: int = 2,
        embedding_dim: int = 128,
        dropout: float = 0.0,
        frame: str = "facing",
    ) -> None:
        super().__init__()
        if num_joints < 1 or hidden < 1 or depth < 1 or embedding_dim < 1:
            raise ValueError("num_joints, hidden, depth and embedding_dim must all be positive.")
        if frame not in FRAMES:
            raise ValueError(f"frame must be one of {FRAMES}, not {frame!r}")
        self.num_joints = num_joints
        #: The joints-net frame its inputs are put in (:func:`joints_frame`); saved in the card's config.
        self.frame = frame
        widths = [num_joints * 3] + [hidden] * depth
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in itertools.pairwise(widths))
        self.head = nn.Linear(hidden, embedding_dim)
        self.dropout = nn.Dropout(dropout)
        #: The mean training pose (set by the trainer, saved with the weights): the input that says
        #: nothing about a particular pose, embedded for an image without a person when a row is needed.
        self.register_buffer("mean_pose", torch.zeros(num_joints, 3))

    def neutral_embedding(self) -> torch.Tensor:
        """``(1, embedding_dim)`` embedding of :attr:`mean_pose` (a zero-information row)."""
        output: torch.Tensor = self(self.get_buffer("mean_pose")[None])
        return output

    def forward(self, joints: torch.Tensor) -> torch.Tensor:
        """``(N, J, 3)`` or ``(N, 3J)`` float32 → ``(N, embedding_dim)`` float32, L2-normalised."""
        x = joints.reshape(joints.shape[0], self.num_joints * 3) * INPUT_SCALE
        for layer in self.layers:
            x = self.dropout(F.relu(layer(x)))
        return F.normalize(self.head(x), dim=1)
