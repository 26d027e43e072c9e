"""Vectorised geometry behind the posebits: the torso frame and one margin function per family.

Every function works on a whole batch of poses at once (no Python loop over samples). Joint arrays are
``(N, 16, 3)`` float in the MPII order of :mod:`posebrowser.pose.skeleton`, in any world frame whose
"up" direction is given (metres are typical, but the posebits are scale-free).

**Torso frame** (camera-independent; computed by :func:`torso_frame`):

* origin = pelvis
* ``up`` = normalise(upper_neck − pelvis) — the upper neck rather than the thorax, because the longer
  lever arm makes the axis less sensitive to annotation noise at the thorax
* ``right`` = (right_hip − left_hip) made orthogonal to ``up`` and normalised
* ``fwd`` = ``up × right`` — the direction the person faces: for a person standing in a Z-up world with
  the right hip at −X, ``fwd`` = (0, 0, 1) × (−1, 0, 0) = (0, −1, 0), i.e. they face −Y
* scale T = |upper_neck − pelvis|

Poses whose frame is degenerate (zero torso length, hips on the spine axis, non-finite joints) give NaN
margins; :meth:`PosebitVocabulary.compute` turns those into 0 bits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from posebrowser.pose.skeleton import L_HIP, L_SHOULDER, PELVIS, R_HIP, R_SHOULDER, UPPER_NECK

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

#: Column order of the local coordinates returned by :func:`torso_frame`.
AXES: tuple[str, ...] = ("right", "up", "fwd")
AXIS_INDEX: dict[str, int] = {name: i for i, name in enumerate(AXES)}


@dataclass(frozen=True)
class TorsoFrame:
    """Per-pose torso frames of a batch.

    Attributes:
        local: ``(N, 16, 3)`` float64 joint coordinates relative to the pelvis, divided by the torso length
            T, with columns (right, up, fwd) as in :data:`AXES`.
        up: ``(N, 3)`` float64 unit torso-up vectors in world coordinates.
        world_up: ``(3,)`` float64 unit world-up vector.
    """

    local: FloatArray
    up: FloatArray
    world_up: FloatArray


def _normalise(vectors: FloatArray) -> FloatArray:
    """Divide ``(..., 3)`` vectors by their length; zero-length vectors become NaN."""
    length = np.linalg.norm(vectors, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(length > 1e-12, vectors / np.where(length > 0, length, 1.0), np.nan)


def as_joints(joints_3d: ArrayLike) -> FloatArray:
    """Check and convert joints to ``(N, 16, 3)`` float64 (a single ``(16, 3)`` pose gets N = 1)."""
    joints = np.asarray(joints_3d, dtype=np.float64)
    if joints.ndim == 2:
        joints = joints[None]
    if joints.ndim != 3 or joints.shape[1:] != (16, 3):
        raise ValueError(f"Expected 3D joints of shape (N, 16, 3), got {joints.shape}.")
    return joints


def as_up_vector(up: ArrayLike) -> FloatArray:
    """The world-up direction as a unit ``(3,)`` float64 vector."""
    vector = np.asarray(up, dtype=np.float64).reshape(-1)
    if vector.shape != (3,) or not np.all(np.isfinite(vector)) or np.linalg.norm(vector) < 1e-12:
        raise ValueError(f"The world-up direction must be a finite non-zero 3-vector, got {up!r}.")
    return vector / np.linalg.norm(vector)


def torso_frame(joints_3d: ArrayLike, up: ArrayLike = (0.0, 0.0, 1.0)) -> TorsoFrame:
    """Express joints ``(N, 16, 3)`` in the camera-independent torso frame (see module docstring)."""
    joints = as_joints(joints_3d)
    world_up = as_up_vector(up)
    pelvis = joints[:, PELVIS]
    spine = joints[:, UPPER_NECK] - pelvis
    torso_length = np.linalg.norm(spine, axis=-1)
    up_axis = _normalise(spine)
    hips = joints[:, R_HIP] - joints[:, L_HIP]
    right_axis = _normalise(hips - np.sum(hips * up_axis, axis=-1, keepdims=True) * up_axis)
    fwd_axis = np.cross(up_axis, right_axis)
    basis = np.stack([right_axis, up_axis, fwd_axis], axis=-1)  # (N, 3 world, 3 local)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(torso_length > 1e-12, 1.0 / np.where(torso_length > 0, torso_length, 1.0), np.nan)
    local = np.einsum("njw,nwl->njl", joints - pelvis[:, None, :], basis) * scale[:, None, None]
    return TorsoFrame(local=local, up=up_axis, world_up=world_up)


def _angle_degrees(first: FloatArray, second: FloatArray) -> FloatArray:
    """Angle in degrees between ``(..., 3)`` vectors (NaN where either has zero length)."""
    cosine = np.sum(_normalise(first) * _normalise(second), axis=-1)
    angle: FloatArray = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
    return angle


def hinge_margins(local: FloatArray, joints: IntArray, thresholds: FloatArray) -> FloatArray:
    """Bent-joint margins ``(N, K)`` in degrees: threshold − interior angle (positive = more bent).

    ``joints`` is ``(K, 3)``: (proximal, vertex, distal) joint indices, e.g. (shoulder, elbow, wrist).
    """
    vertex = local[:, joints[:, 1]]
    angle = _angle_degrees(local[:, joints[:, 0]] - vertex, local[:, joints[:, 2]] - vertex)
    return thresholds[None, :] - angle


def elevation_margins(local: FloatArray, joints: IntArray, thresholds: FloatArray) -> FloatArray:
    """Limb-elevation margins ``(N, K)`` in degrees: angle of the segment from torso-down − threshold.

    ``joints`` is ``(K, 2)``: (proximal, distal), e.g. (shoulder, elbow) for the upper arm. An arm hanging
    down has angle 0°, held sideways 90°, straight overhead 180°.
    """
    segment = local[:, joints[:, 1]] - local[:, joints[:, 0]]
    down = np.array([0.0, -1.0, 0.0])
    angle = _angle_degrees(segment, np.broadcast_to(down, segment.shape))
    return angle - thresholds[None, :]


def beyond_margins(
    local: FloatArray, joints: IntArray, axes: IntArray, directions: FloatArray, thresholds: FloatArray
) -> FloatArray:
    """"Beyond" margins ``(N, K)`` in torso lengths: direction · (A − B) along the axis − threshold.

    ``joints`` is ``(K, 2)`` (A, B); ``axes`` indexes :data:`AXES`; ``directions`` is ±1.
    """
    offset = local[:, joints[:, 0], axes] - local[:, joints[:, 1], axes]
    return directions[None, :] * offset - thresholds[None, :]


def near_margins(local: FloatArray, joints: IntArray, thresholds: FloatArray) -> FloatArray:
    """"Near" margins ``(N, K)`` in torso lengths: threshold − distance(A, B) / T."""
    distance = np.linalg.norm(local[:, joints[:, 0]] - local[:, joints[:, 1]], axis=-1)
    margins: FloatArray = thresholds[None, :] - distance
    return margins


def far_margins(local: FloatArray, joints: IntArray, thresholds: FloatArray) -> FloatArray:
    """"Far" margins ``(N, K)`` in torso lengths: distance(A, B) / T − threshold."""
    distance = np.linalg.norm(local[:, joints[:, 0]] - local[:, joints[:, 1]], axis=-1)
    margins: FloatArray = distance - thresholds[None, :]
    return margins


def torso_tilt_degrees(frame: TorsoFrame) -> FloatArray:
    """Angle ``(N,)`` in degrees between the torso-up axis and world up (0 upright, 180 upside down)."""
    return _angle_degrees(frame.up, np.broadcast_to(frame.world_up, frame.up.shape))


def tilt_band_margins(frame: TorsoFrame, lows: FloatArray, highs: FloatArray) -> FloatArray:
    """Margins ``(N, K)`` in degrees for "torso tilt lies in [low, high]": min(tilt − low, high − tilt).

    Use ``low = -inf`` or ``high = +inf`` for one-sided bands.
    """
    tilt = torso_tilt_degrees(frame)[:, None]
    with np.errstate(invalid="ignore"):
        return np.minimum(tilt - lows[None, :], highs[None, :] - tilt)


def shoulder_twist_degrees(local: FloatArray) -> FloatArray:
    """Twist ``(N,)`` in degrees of the shoulder line against the hip line, about the torso-up axis.

    The shoulder vector (right − left shoulder) is projected onto the torso's (right, fwd) plane; the hip
    line is the ``right`` axis by construction, so the twist is the absolute azimuth of that projection.
    """
    shoulders = local[:, R_SHOULDER] - local[:, L_SHOULDER]
    return np.abs(np.degrees(np.arctan2(shoulders[:, AXIS_INDEX["fwd"]], shoulders[:, AXIS_INDEX["right"]])))


def twist_margins(local: FloatArray, thresholds: FloatArray) -> FloatArray:
    """Margins ``(N, K)`` in degrees for "shoulders twisted against hips": twist − threshold."""
    return shoulder_twist_degrees(local)[:, None] - thresholds[None, :]
