"""The 16-joint skeleton in the thesis' MPII order.

Joint arrays are ``(..., 16, D)`` float arrays in this order. "Left" and "right" are the *person's*
left and right, never the image's.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

JOINT_NAMES: tuple[str, ...] = (
    "right_ankle",  # 0
    "right_knee",  # 1
    "right_hip",  # 2
    "left_hip",  # 3
    "left_knee",  # 4
    "left_ankle",  # 5
    "pelvis",  # 6
    "thorax",  # 7
    "upper_neck",  # 8
    "head_top",  # 9
    "right_wrist",  # 10
    "right_elbow",  # 11
    "right_shoulder",  # 12
    "left_shoulder",  # 13
    "left_elbow",  # 14
    "left_wrist",  # 15
)
NUM_JOINTS = len(JOINT_NAMES)
JOINT_INDEX: dict[str, int] = {name: i for i, name in enumerate(JOINT_NAMES)}

R_ANKLE, R_KNEE, R_HIP, L_HIP, L_KNEE, L_ANKLE, PELVIS, THORAX = range(8)
UPPER_NECK, HEAD_TOP, R_WRIST, R_ELBOW, R_SHOULDER, L_SHOULDER, L_ELBOW, L_WRIST = range(8, 16)

#: Short names as in the thesis figures ("l_elbw", "r_wrst", "hd").
SHORT_NAMES: tuple[str, ...] = (
    "r_ankl", "r_knee", "r_hp", "l_hp", "l_knee", "l_ankl", "pelvis", "thorax",
    "neck", "hd", "r_wrst", "r_elbw", "r_shldr", "l_shldr", "l_elbw", "l_wrst",
)

#: Bones drawn for a stick figure, with the thesis' matplotlib colours.
BONES: tuple[tuple[int, int, str], ...] = (
    (L_WRIST, L_ELBOW, "#1f77b4"),
    (L_ELBOW, L_SHOULDER, "#1f77b4"),
    (R_WRIST, R_ELBOW, "#ff7f0e"),
    (R_ELBOW, R_SHOULDER, "#ff7f0e"),
    (L_ANKLE, L_KNEE, "#2ca02c"),
    (L_KNEE, L_HIP, "#2ca02c"),
    (R_ANKLE, R_KNEE, "#d62728"),
    (R_KNEE, R_HIP, "#d62728"),
    (L_HIP, R_HIP, "#9467bd"),
    (L_SHOULDER, R_SHOULDER, "#8c564b"),
    (PELVIS, THORAX, "#9467bd"),
    (THORAX, UPPER_NECK, "#9467bd"),
    (UPPER_NECK, HEAD_TOP, "#9467bd"),
)

#: Index permutation that swaps every left joint with its right counterpart (for horizontal flips).
LEFT_RIGHT_SWAP: tuple[int, ...] = (5, 4, 3, 2, 1, 0, 6, 7, 8, 9, 15, 14, 13, 12, 11, 10)


def swap_left_right(joints: NDArray[np.floating]) -> NDArray[np.floating]:
    """Relabel left/right joints: ``(..., 16, D)`` → same shape, left and right exchanged.

    Used with a horizontal image flip: the flipped image of a person's right wrist shows what
    looks like a left wrist, so the labels must follow.
    """
    return np.asarray(joints)[..., list(LEFT_RIGHT_SWAP), :]
