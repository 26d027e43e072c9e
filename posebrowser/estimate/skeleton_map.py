"""BlazePose's 33 landmarks → the project's 16-joint skeleton, and posebits with unknown low-confidence bits.

BlazePose landmarks (MediaPipe order; left/right are the person's own): 0 nose, 1–6 eyes, 7 left ear,
8 right ear, 9–10 mouth, 11/12 left/right shoulder, 13/14 elbows, 15/16 wrists, 17–22 hand points,
23/24 left/right hip, 25/26 knees, 27/28 ankles, 29–32 heels and toes.

Direct joints: hips, knees, ankles, shoulders, elbows, wrists. Derived joints (the same construction as
the COCO mapping of image folders): pelvis = mid-hips, thorax = mid-shoulders, head centre h = mid-ears,
upper_neck = midpoint of thorax and h, head_top = h + (h − upper_neck). A derived joint's confidence is
the lowest of its inputs.

MediaPipe's world landmarks are metres in a camera-aligned frame centred between the hips: x right,
y down, z away from the camera. :func:`camera_to_z_up` turns them into the Z-up frame the posebits use
(X = x, Y = z, Z = −y; a rotation, so left and right keep their meaning), which assumes a level camera.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

from posebrowser.pose import skeleton as sk
from posebrowser.pose.posebits import PosebitVocabulary

BLAZEPOSE_LANDMARKS = 33
#: Bumped whenever the mapping changes (it is part of the estimator version, so caches follow).
MAPPING_VERSION = 1
L_EAR, R_EAR, L_SHOULDER, R_SHOULDER, L_HIP, R_HIP = 7, 8, 11, 12, 23, 24
DIRECT: dict[int, int] = {
    sk.R_ANKLE: 28, sk.R_KNEE: 26, sk.R_HIP: 24, sk.L_HIP: 23, sk.L_KNEE: 25, sk.L_ANKLE: 27,
    sk.R_WRIST: 16, sk.R_ELBOW: 14, sk.R_SHOULDER: 12, sk.L_SHOULDER: 11, sk.L_ELBOW: 13, sk.L_WRIST: 15,
}
#: Joints of the torso frame: every posebit but the bend angles needs them.
FRAME_JOINTS: tuple[int, ...] = (sk.PELVIS, sk.UPPER_NECK, sk.R_HIP, sk.L_HIP)
#: Rows: Z-up world axes; columns: MediaPipe camera axes (x right, y down, z away). det = +1.
CAMERA_TO_Z_UP: NDArray[np.float64] = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def to_skeleton(landmarks: ArrayLike) -> NDArray[np.float64]:
    """``(33, D)`` BlazePose landmarks → ``(16, D)`` joints (any D: pixels, metres)."""
    points = np.asarray(landmarks, dtype=np.float64)
    if points.ndim != 2 or points.shape[0] != BLAZEPOSE_LANDMARKS:
        raise ValueError(f"Expected ({BLAZEPOSE_LANDMARKS}, D) landmarks, got {points.shape}.")
    joints = np.zeros((sk.NUM_JOINTS, points.shape[1]))
    for joint, landmark in DIRECT.items():
        joints[joint] = points[landmark]
    joints[sk.PELVIS] = (points[L_HIP] + points[R_HIP]) / 2
    joints[sk.THORAX] = (points[L_SHOULDER] + points[R_SHOULDER]) / 2
    head = (points[L_EAR] + points[R_EAR]) / 2
    joints[sk.UPPER_NECK] = (joints[sk.THORAX] + head) / 2
    joints[sk.HEAD_TOP] = 2 * head - joints[sk.UPPER_NECK]
    return joints


def skeleton_confidence(scores: ArrayLike) -> NDArray[np.float32]:
    """``(33,)`` landmark scores → ``(16,)`` joint confidences (derived joints: the lowest input)."""
    values = np.clip(np.asarray(scores, dtype=np.float64).reshape(BLAZEPOSE_LANDMARKS), 0.0, 1.0)
    out = np.zeros(sk.NUM_JOINTS)
    for joint, landmark in DIRECT.items():
        out[joint] = values[landmark]
    out[sk.PELVIS] = min(values[L_HIP], values[R_HIP])
    out[sk.THORAX] = min(values[L_SHOULDER], values[R_SHOULDER])
    out[sk.HEAD_TOP] = min(values[L_EAR], values[R_EAR])
    out[sk.UPPER_NECK] = min(out[sk.THORAX], out[sk.HEAD_TOP])
    return out.astype(np.float32)


def camera_to_z_up(points: ArrayLike) -> NDArray[np.float64]:
    """``(..., 3)`` MediaPipe world coordinates (x right, y down, z away) → Z-up (x right, y away, z up)."""
    return np.asarray(points, dtype=np.float64) @ CAMERA_TO_Z_UP.T


@lru_cache(maxsize=4)
def posebit_joint_use(vocabulary: PosebitVocabulary) -> NDArray[np.bool_]:
    """``(B, 16)``: which joints each posebit depends on: its own joints, plus the torso frame's for every
    family but ``hinge`` (a bend angle does not depend on the frame), plus the shoulders for ``twist``."""
    use = np.zeros((len(vocabulary), sk.NUM_JOINTS), dtype=bool)
    for row, bit in enumerate(vocabulary.bits):
        use[row, list(bit.joints)] = True
        if bit.family != "hinge":
            use[row, list(FRAME_JOINTS)] = True
        if bit.family == "twist":
            use[row, [sk.R_SHOULDER, sk.L_SHOULDER]] = True
    use.flags.writeable = False
    return use


def estimated_posebits(
    joints_3d: ArrayLike, confidence: ArrayLike, vocabulary: PosebitVocabulary, min_confidence: float
) -> NDArray[np.int8]:
    """Posebits ``(B,)`` int8 of one Z-up pose: 1/0, or −1 where a joint the bit needs has confidence
    below ``min_confidence`` or the margin lies in the bit's hysteresis band."""
    pose = np.asarray(joints_3d, dtype=np.float64)[None]
    bits: NDArray[np.int8] = vocabulary.compute_with_dont_care(pose)[0]
    unsure = np.asarray(confidence, dtype=np.float64) < min_confidence
    bits[(posebit_joint_use(vocabulary) & unsure[None, :]).any(axis=1)] = -1
    return bits.astype(np.int8)
