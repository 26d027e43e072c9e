"""Rotation helpers and forward kinematics of the DeepMimic humanoid.

A *DeepMimic pose* is the set of 13 link rotations, each relative to its parent link, in DeepMimic's
own frame (Y up, the figure faces +X, +Z is the figure's right), plus the root position in metres.
Knees and elbows are hinges about local +Z (knee −π..0 bends backwards, elbow 0..π forwards).

Clip frames (44 numbers) are ``[dt, root pos(3), root quat(4), chest(4), neck(4), r_hip(4), r_knee(1),
r_ankle(4), r_shoulder(4), r_elbow(1), l_hip(4), l_knee(1), l_ankle(4), l_shoulder(4), l_elbow(1)]``
with quaternions in w, x, y, z order.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]

#: The DeepMimic links in FK order (a parent always precedes its children).
LINKS: tuple[str, ...] = (
    "root",
    "chest",
    "neck",
    "right_hip",
    "right_knee",
    "right_ankle",
    "right_shoulder",
    "right_elbow",
    "left_hip",
    "left_knee",
    "left_ankle",
    "left_shoulder",
    "left_elbow",
)
LINK_INDEX: dict[str, int] = {name: i for i, name in enumerate(LINKS)}
LINK_PARENTS: tuple[int, ...] = (-1, 0, 1, 0, 3, 4, 1, 6, 0, 8, 9, 1, 11)
HINGE_LINKS: tuple[int, ...] = (4, 7, 9, 12)
SPHERICAL_LINKS: tuple[int, ...] = (1, 2, 3, 5, 6, 8, 10, 11)

_SCALE = 0.25  # the URDF is loaded with globalScaling=0.25
#: Joint offsets from the parent link frame (metres, DeepMimic frame), from ``humanoid.urdf``.
LINK_OFFSETS: FloatArray = _SCALE * np.array(
    [
        (0.0, 0.0, 0.0),
        (0.0, 0.944604, 0.0),
        (0.0, 0.895576, 0.0),
        (0.0, 0.0, 0.339548),
        (0.0, -1.686184, 0.0),
        (0.0, -1.639480, 0.0),
        (-0.096200, 0.974000, 0.732440),
        (0.0, -1.099152, 0.0),
        (0.0, 0.0, -0.339548),
        (0.0, -1.686184, 0.0),
        (0.0, -1.639480, 0.0),
        (-0.096200, 0.974000, -0.732440),
        (0.0, -1.099152, 0.0),
    ]
)
#: Extra DeepMimic points used for contact tests: wrists (from elbows), head top (from neck).
WRIST_OFFSET: FloatArray = _SCALE * np.array([0.0, -1.035788, 0.0])
HEAD_TOP_OFFSET: FloatArray = _SCALE * np.array([0.0, 1.11, 0.0])
FOOT_SOLE_OFFSET: FloatArray = _SCALE * np.array([0.18, -0.20, 0.0])

#: DeepMimic (Y up, +X forward, +Z right) → posebrowser world (Z up, forward −Y, right −X).
DM_TO_WORLD: FloatArray = np.array([[0.0, 0.0, -1.0], [-1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])


def quat_to_matrix(quat_wxyz: NDArray[np.floating]) -> FloatArray:
    """Unit quaternions ``(..., 4)`` in w, x, y, z order → rotation matrices ``(..., 3, 3)``."""
    q = np.asarray(quat_wxyz, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


def _rodrigues(x: float, y: float, z: float) -> FloatArray:
    """One rotation vector → matrix ``(3, 3)`` in plain floats (the sampler's hot path)."""
    angle = math.sqrt(x * x + y * y + z * z)
    if angle < 1e-12:
        return np.eye(3)
    x, y, z = x / angle, y / angle, z / angle
    s, c = math.sin(angle), math.cos(angle)
    t = 1.0 - c
    return np.array(
        [
            [c + t * x * x, t * x * y - s * z, t * x * z + s * y],
            [t * x * y + s * z, c + t * y * y, t * y * z - s * x],
            [t * x * z - s * y, t * y * z + s * x, c + t * z * z],
        ]
    )


def axis_angle_to_matrix(rotvec: NDArray[np.floating]) -> FloatArray:
    """Rotation vectors ``(..., 3)`` (axis × angle in radians) → matrices ``(..., 3, 3)`` (Rodrigues)."""
    v = np.asarray(rotvec, dtype=np.float64)
    if v.shape == (3,):
        return _rodrigues(float(v[0]), float(v[1]), float(v[2]))
    angle = np.linalg.norm(v, axis=-1, keepdims=True)
    axis = v / np.maximum(angle, 1e-12)
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zero = np.zeros_like(x)
    k = np.stack([np.stack([zero, -z, y], -1), np.stack([z, zero, -x], -1), np.stack([-y, x, zero], -1)], -2)
    s = np.sin(angle)[..., None]
    c = np.cos(angle)[..., None]
    eye = np.broadcast_to(np.eye(3), k.shape)
    return np.asarray(eye + s * k + (1 - c) * (k @ k))


def matrix_to_axis_angle(rot: NDArray[np.floating]) -> FloatArray:
    """Rotation matrices ``(..., 3, 3)`` → rotation vectors ``(..., 3)`` (angle in [0, π])."""
    r = np.asarray(rot, dtype=np.float64)
    cos = np.clip((np.trace(r, axis1=-2, axis2=-1) - 1) / 2, -1.0, 1.0)
    angle = np.arccos(cos)
    vec = np.stack(
        [r[..., 2, 1] - r[..., 1, 2], r[..., 0, 2] - r[..., 2, 0], r[..., 1, 0] - r[..., 0, 1]], -1
    )
    sin = np.sin(angle)
    small = sin < 1e-6
    out = vec / np.where(small, 1.0, 2 * sin)[..., None] * angle[..., None]
    if np.any(small & (angle > 1.0)):  # angle ≈ π: axis from the symmetric part
        idx = np.nonzero(small & (angle > 1.0))
        sym = (r[idx] + np.eye(3)) / 2
        axis = np.sqrt(np.clip(np.diagonal(sym, axis1=-2, axis2=-1), 0, None))
        signs = np.sign(sym[..., 0, :] + 1e-12)
        out[idx] = axis * signs * np.pi
    out[small & (angle <= 1.0)] = 0.0
    return np.asarray(out)


def slerp_matrix(a: NDArray[np.floating], b: NDArray[np.floating], t: float) -> FloatArray:
    """Spherical interpolation between rotations ``a`` and ``b`` ``(3, 3)``; ``t`` = 0 gives ``a``."""
    rel = matrix_to_axis_angle(np.asarray(a).T @ np.asarray(b))
    return np.asarray(a @ axis_angle_to_matrix(rel * t))


def rotation_between(src: NDArray[np.floating], dst: NDArray[np.floating]) -> FloatArray:
    """The minimal rotation ``(3, 3)`` that turns direction ``src`` onto direction ``dst`` (both ``(3,)``)."""
    a = np.asarray(src, dtype=np.float64) / np.linalg.norm(src)
    b = np.asarray(dst, dtype=np.float64) / np.linalg.norm(dst)
    axis = np.cross(a, b)
    sin = float(np.linalg.norm(axis))
    cos = float(np.dot(a, b))
    if sin < 1e-9:
        if cos > 0:
            return np.eye(3)
        ortho = np.cross(a, [1.0, 0.0, 0.0])
        if np.linalg.norm(ortho) < 1e-6:
            ortho = np.cross(a, [0.0, 1.0, 0.0])
        return axis_angle_to_matrix(ortho / np.linalg.norm(ortho) * np.pi)
    return axis_angle_to_matrix(axis / sin * np.arctan2(sin, cos))


def frame_to_local_rotations(frame: NDArray[np.floating]) -> tuple[FloatArray, FloatArray]:
    """One 44-number clip frame → (local link rotations ``(13, 3, 3)``, root position ``(3,)`` metres).

    Both are in the DeepMimic frame; index order is :data:`LINKS`.
    """
    f = np.asarray(frame, dtype=np.float64)
    local = np.tile(np.eye(3), (len(LINKS), 1, 1))
    local[0] = quat_to_matrix(f[4:8])
    cursor = 8
    for link in range(1, len(LINKS)):
        if link in HINGE_LINKS:
            local[link] = axis_angle_to_matrix(np.array([0.0, 0.0, f[cursor]]))
            cursor += 1
        else:
            local[link] = quat_to_matrix(f[cursor : cursor + 4])
            cursor += 4
    return local, f[1:4].copy()


def forward_kinematics(local: NDArray[np.floating]) -> tuple[FloatArray, FloatArray]:
    """Local link rotations ``(..., 13, 3, 3)`` → (world rotations ``(..., 13, 3, 3)``, joint positions
    ``(..., 13, 3)`` relative to the root joint), all in the DeepMimic frame (metres)."""
    loc = np.asarray(local, dtype=np.float64)
    world = np.empty_like(loc)
    pos = np.zeros(loc.shape[:-1])
    world[..., 0, :, :] = loc[..., 0, :, :]
    for link in range(1, len(LINKS)):
        parent = LINK_PARENTS[link]
        world[..., link, :, :] = world[..., parent, :, :] @ loc[..., link, :, :]
        pos[..., link, :] = pos[..., parent, :] + world[..., parent, :, :] @ LINK_OFFSETS[link]
    return world, pos


def contact_points(world: NDArray[np.floating], pos: NDArray[np.floating]) -> FloatArray:
    """Points that can touch the ground ``(..., 7, 3)`` (soles, knees, wrists, head top), DeepMimic frame,
    relative to the root joint; used to keep a clip's airborne height."""
    w = np.asarray(world)
    p = np.asarray(pos)
    idx = LINK_INDEX
    points = [
        p[..., idx["right_ankle"], :] + w[..., idx["right_ankle"], :, :] @ FOOT_SOLE_OFFSET,
        p[..., idx["left_ankle"], :] + w[..., idx["left_ankle"], :, :] @ FOOT_SOLE_OFFSET,
        p[..., idx["right_knee"], :],
        p[..., idx["left_knee"], :],
        p[..., idx["right_elbow"], :] + w[..., idx["right_elbow"], :, :] @ WRIST_OFFSET,
        p[..., idx["left_elbow"], :] + w[..., idx["left_elbow"], :, :] @ WRIST_OFFSET,
        p[..., idx["neck"], :] + w[..., idx["neck"], :, :] @ HEAD_TOP_OFFSET,
    ]
    return np.stack(points, -2)


def airborne_height(local: NDArray[np.floating], root_height: float) -> float:
    """Height (m) of the figure's lowest contact point above the ground for a clip frame, ≥ 0.

    Heights below 5 cm count as touching the ground (0), so only real jumps and flips stay in the air.
    """
    world, pos = forward_kinematics(local)
    lowest = float(np.min(contact_points(world, pos)[..., 1])) + root_height
    return max(0.0, lowest - 0.05)
