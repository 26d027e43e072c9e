"""The posebit definition (:class:`Posebit`) and the full list of candidates (:func:`candidate_posebits`).

Each posebit is a yes/no statement about a 3D pose, computed in the torso frame of
:mod:`posebrowser.pose.posebit_geometry` as ``bit = margin > 0``. Families:

===========  =========  ==========================================================================  =======
family       kind       bit = 1 when                                                                unit
===========  =========  ==========================================================================  =======
hinge        angle      elbow/knee interior angle < 150° ("bent") or < 90° ("strongly bent")       degrees
elevation    angle      upper arm > 60° / > 100° from torso-down; thigh > 45° / > 80°             degrees
beyond       beyond     (A − B)·axis / T > 0.1 along up ("above"), fwd ("in front of") or sideways    T
near / far   near_far   distance(A, B) / T < 0.45 (near) or > 1.3 (far)                             T
tilt         global     torso tilt against world up is upright/leaning/horizontal/inverted         degrees
twist        global     shoulder line turned > 25° against the hip line                              degrees
===========  =========  ==========================================================================  =======

Sideways "beyond" bits point *outwards* (towards the mover's own side) when the reference joint is on the
same side as the moving joint, and *across* the body otherwise, so that every bit has a mirror image in
the list ("right wrist is to the right of the right shoulder" ↔ "left wrist is to the left of the left
shoulder"; "right ankle is to the left of the head" ↔ "left ankle is to the right of the head").
Names swap "left"/"right" exactly under mirroring, which the tests rely on.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

from posebrowser.pose.skeleton import (
    HEAD_TOP,
    JOINT_NAMES,
    L_ANKLE,
    L_ELBOW,
    L_HIP,
    L_KNEE,
    L_SHOULDER,
    L_WRIST,
    PELVIS,
    R_ANKLE,
    R_ELBOW,
    R_HIP,
    R_KNEE,
    R_SHOULDER,
    R_WRIST,
    UPPER_NECK,
)

BODY_PARTS: tuple[str, ...] = (
    "head", "left arm", "right arm", "both arms", "left leg", "right leg", "both legs", "torso",
)
KINDS: tuple[str, ...] = ("angle", "near_far", "beyond", "global")
#: Families from simplest to most specific; :func:`select_informative` prefers earlier families.
FAMILIES: tuple[str, ...] = ("hinge", "elevation", "tilt", "twist", "near", "far", "beyond")
FAMILY_KIND: dict[str, str] = {
    "hinge": "angle", "elevation": "angle", "tilt": "global", "twist": "global",
    "near": "near_far", "far": "near_far", "beyond": "beyond",
}
#: Half-width of the "don't care" band around a threshold, per margin unit.
HYSTERESIS: dict[str, float] = {"deg": 5.0, "T": 0.05}

BEND_THRESHOLDS = ((150.0, "bent", "bent"), (90.0, "strongly_bent", "strongly bent"))
BEYOND_THRESHOLD = 0.1
NEAR_THRESHOLD = 0.45
FAR_THRESHOLD = 1.3
TWIST_THRESHOLD = 25.0

#: The 8 moving joints, in the order used for pairs (wrists, elbows, knees, ankles).
MOVERS: tuple[int, ...] = (R_WRIST, L_WRIST, R_ELBOW, L_ELBOW, R_KNEE, L_KNEE, R_ANKLE, L_ANKLE)
REFERENCES: tuple[int, ...] = (HEAD_TOP, UPPER_NECK, PELVIS, R_SHOULDER, L_SHOULDER, R_HIP, L_HIP)
_MOVER_TYPE: dict[int, int] = {joint: rank // 2 for rank, joint in enumerate(MOVERS)}


@dataclass(frozen=True)
class Posebit:
    """One yes/no statement about a pose.

    Attributes:
        name: snake_case identifier, e.g. ``"right_wrist_above_head_top"``; stable across versions.
        label: plain-English statement, e.g. ``"right wrist is above the neck"``; unique in the vocabulary.
        body_part: one of :data:`BODY_PARTS`.
        kind: one of :data:`KINDS`.
        family: one of :data:`FAMILIES`; selects the margin function.
        joints: joint indices (skeleton order): hinge (proximal, vertex, distal); elevation (proximal,
            distal); beyond/near/far (A, B); tilt and twist use none.
        axis: "up", "right" or "fwd" for ``beyond`` bits, else "".
        threshold: degrees (hinge, elevation, tilt lower bound, twist) or torso lengths (beyond, near, far).
        direction: +1 or −1, the sign applied to the offset along ``axis`` (``beyond`` only).
        upper_threshold: upper bound of the tilt band in degrees (``tilt`` only).
    """

    name: str
    label: str
    body_part: str
    kind: str
    family: str
    joints: tuple[int, ...] = ()
    axis: str = ""
    threshold: float = 0.0
    direction: int = 1
    upper_threshold: float = float("inf")

    @property
    def margin_unit(self) -> str:
        """``"deg"`` for angle-valued margins, ``"T"`` (torso lengths) for distance-valued ones."""
        return "T" if self.family in ("beyond", "near", "far") else "deg"

    @property
    def hysteresis(self) -> float:
        """Half-width of the band around the threshold in which the bit is ambiguous ("don't care")."""
        return HYSTERESIS[self.margin_unit]


def _words(joint: int) -> str:
    return JOINT_NAMES[joint].replace("_", " ")


def _side(joint: int) -> str:
    name = JOINT_NAMES[joint]
    return name.split("_")[0] if name.startswith(("left_", "right_")) else ""


def _limb(joint: int) -> str:
    """Body part of a moving joint, e.g. right wrist → "right arm"."""
    limb = "arm" if joint in (R_WRIST, L_WRIST, R_ELBOW, L_ELBOW, R_SHOULDER, L_SHOULDER) else "leg"
    return f"{_side(joint)} {limb}"


def _pair_body_part(first: int, second: int) -> str:
    first_limb, second_limb = _limb(first), _limb(second)
    if first_limb == second_limb:
        return first_limb
    if first_limb.split()[1] == second_limb.split()[1]:
        return f"both {first_limb.split()[1]}s"
    return first_limb


_REFERENCE_WORDS: dict[int, tuple[str, str]] = {  # joint -> (name fragment, label fragment)
    HEAD_TOP: ("head_top", "the head"),
    UPPER_NECK: ("upper_neck", "the neck"),
    PELVIS: ("pelvis", "the pelvis"),
}


def _object_words(joint: int) -> tuple[str, str]:
    return _REFERENCE_WORDS.get(joint, (JOINT_NAMES[joint], f"the {_words(joint)}"))


def _angle_bits() -> list[Posebit]:
    bits: list[Posebit] = []
    hinges = ((R_SHOULDER, R_ELBOW, R_WRIST), (L_SHOULDER, L_ELBOW, L_WRIST),
              (R_HIP, R_KNEE, R_ANKLE), (L_HIP, L_KNEE, L_ANKLE))
    for threshold, name_word, label_word in BEND_THRESHOLDS:
        for joints in hinges:
            vertex = joints[1]
            bits.append(Posebit(
                f"{JOINT_NAMES[vertex]}_{name_word}", f"{_words(vertex)} is {label_word}", _limb(vertex),
                "angle", "hinge", joints, threshold=threshold))
    arm_levels = ((60.0, "raised", "is raised"), (100.0, "above_horizontal", "is raised above horizontal"))
    thigh_levels = ((45.0, "lifted", "is lifted"), (80.0, "horizontal", "is lifted to horizontal"))
    elevations = (
        ("arm", (R_SHOULDER, R_ELBOW), (L_SHOULDER, L_ELBOW), arm_levels),
        ("thigh", (R_HIP, R_KNEE), (L_HIP, L_KNEE), thigh_levels),
    )
    for segment, right_joints, left_joints, levels in elevations:
        for threshold, name_word, label_words in levels:
            for side, segment_joints in (("right", right_joints), ("left", left_joints)):
                bits.append(Posebit(
                    f"{side}_{segment}_{name_word}", f"{side} {segment} {label_words}",
                    _limb(segment_joints[1]), "angle", "elevation", segment_joints, threshold=threshold))
    return bits


def _global_bits() -> list[Posebit]:
    inf = float("inf")
    bands = (("upright", "is upright", -inf, 30.0), ("leaning", "is leaning", 30.0, 60.0),
             ("horizontal", "is horizontal", 60.0, 120.0), ("inverted", "is upside down", 120.0, inf))
    bits = [Posebit(f"torso_{word}", f"torso {text}", "torso", "global", "tilt", threshold=low,
                    upper_threshold=high) for word, text, low, high in bands]
    bits.append(Posebit("shoulders_twisted", "shoulders are twisted against the hips", "torso", "global",
                        "twist", threshold=TWIST_THRESHOLD))
    return bits


def _near_far_pairs() -> list[tuple[int, int]]:
    symmetric = [(R_WRIST, L_WRIST), (R_ELBOW, L_ELBOW), (R_KNEE, L_KNEE), (R_ANKLE, L_ANKLE)]
    sided = [  # (right version, left version)
        ((R_WRIST, HEAD_TOP), (L_WRIST, HEAD_TOP)),
        ((R_WRIST, L_SHOULDER), (L_WRIST, R_SHOULDER)),
        ((R_WRIST, R_HIP), (L_WRIST, L_HIP)),
        ((R_WRIST, R_ANKLE), (L_WRIST, L_ANKLE)),
        ((R_ELBOW, R_HIP), (L_ELBOW, L_HIP)),
        ((R_ELBOW, R_KNEE), (L_ELBOW, L_KNEE)),
        ((R_ANKLE, PELVIS), (L_ANKLE, PELVIS)),
        ((R_KNEE, HEAD_TOP), (L_KNEE, HEAD_TOP)),
    ]
    return symmetric + [pair for right_left in sided for pair in right_left]


def _near_far_bits() -> list[Posebit]:
    bits: list[Posebit] = []
    for family, threshold in (("near", NEAR_THRESHOLD), ("far", FAR_THRESHOLD)):
        for first, second in _near_far_pairs():
            if _side(first) and _side(second) and _side(first) != _side(second) and \
                    JOINT_NAMES[first].split("_")[1] == JOINT_NAMES[second].split("_")[1]:
                plural = JOINT_NAMES[first].split("_")[1] + "s"
                name = f"{plural}_near" if family == "near" else f"{plural}_far_apart"
                label = f"the {plural} are " + ("near each other" if family == "near" else "far apart")
                part = _pair_body_part(first, second)
            else:
                obj_name, obj_label = _object_words(second)
                name = f"{JOINT_NAMES[first]}_{'near' if family == 'near' else 'far_from'}_{obj_name}"
                label = f"{_words(first)} is {'near' if family == 'near' else 'far from'} {obj_label}"
                part = "head" if second == HEAD_TOP and first in (R_KNEE, L_KNEE) else _limb(first)
            bits.append(Posebit(name, label, part, "near_far", family, (first, second), threshold=threshold))
    return bits


def _beyond(first: int, second: int, axis: str, direction: int, part: str) -> Posebit:
    obj_name, obj_label = _object_words(second)
    if axis == "up":
        name_word, label_word = "above", "is above"
    elif axis == "fwd":
        name_word, label_word = "in_front_of", "is in front of"
    else:
        side = "right" if direction > 0 else "left"
        name_word, label_word = f"{side}_of", f"is to the {side} of"
    name = f"{JOINT_NAMES[first]}_{name_word}_{obj_name}"
    return Posebit(name, f"{_words(first)} {label_word} {obj_label}", part, "beyond", "beyond",
                   (first, second), axis, BEYOND_THRESHOLD, direction)


def _sideways_direction(first: int, second: int) -> int:
    """+1 (towards the person's right) or −1: outwards for a same-side reference, across otherwise."""
    own = 1 if _side(first) == "right" else -1
    return own if _side(second) == _side(first) else -own


def _beyond_bits() -> list[Posebit]:
    bits: list[Posebit] = []
    for first in MOVERS:
        for second in REFERENCES:
            for axis in ("up", "fwd", "right"):
                direction = _sideways_direction(first, second) if axis == "right" else 1
                bits.append(_beyond(first, second, axis, direction, _limb(first)))
    for first, second in itertools.combinations(MOVERS, 2):
        if _MOVER_TYPE[first] > _MOVER_TYPE[second]:
            first, second = second, first
        part = _pair_body_part(first, second)
        if _MOVER_TYPE[first] == _MOVER_TYPE[second]:  # the two wrists, elbows, knees or ankles
            for axis in ("up", "fwd"):
                bits.append(_beyond(first, second, axis, 1, part))
                bits.append(_beyond(second, first, axis, 1, part))
            plural = JOINT_NAMES[first].split("_")[1] + "s"
            right_joint, left_joint = (first, second) if _side(first) == "right" else (second, first)
            bits.append(Posebit(f"{plural}_crossed", f"the {plural} are crossed", part, "beyond", "beyond",
                                (right_joint, left_joint), "right", BEYOND_THRESHOLD, -1))
        else:
            for axis in ("up", "fwd", "right"):
                direction = _sideways_direction(first, second) if axis == "right" else 1
                bits.append(_beyond(first, second, axis, direction, part))
    return bits


@lru_cache(maxsize=1)
def candidate_posebits() -> tuple[Posebit, ...]:
    """All candidate posebits (321), ordered from the simplest families to the most specific."""
    bits = tuple(_angle_bits() + _global_bits() + _near_far_bits() + _beyond_bits())
    names = [bit.name for bit in bits]
    labels = [bit.label.casefold() for bit in bits]
    if len(set(names)) != len(names) or len(set(labels)) != len(labels):
        raise RuntimeError("Posebit candidate names or labels are not unique.")
    return bits
