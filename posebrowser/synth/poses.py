"""The pose sampler: DeepMimic clip frames (optionally mirrored), perturbed clip frames and anatomically
bounded random poses (15 % in a free "lying" orientation), with a capsule self-collision test.
Poses are placed on the ground plane z = 0 (or at a clip's airborne height).

Every image index draws its pose from its own generator (``pose_rng(seed, index)``), so the poses of a
gallery do not depend on how the work was split between processes, and :func:`sample_poses` returns the
joints of exactly the first ``n`` images of ``posebrowser synth --seed S``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from posebrowser.pose import skeleton as sk
from posebrowser.synth import fk
from posebrowser.synth.assets import MotionClips, load_motions
from posebrowser.synth.options import DEFAULT_OPTIONS, SynthOptions
from posebrowser.synth.skin import BodyModel, default_body_model, links_to_world, shaped_body_model

FloatArray = NDArray[np.float64]

SOURCE_MIX = (("clip", 0.4), ("perturb", 0.3), ("random", 0.3))
FREE_ORIENTATION_RATE = 0.15
SPLIT_FRACTIONS = (0.70, 0.15, 0.15)
MAX_TRIES = 30

_MIRROR = np.diag([1.0, 1.0, -1.0])
_MIRROR_LINKS = (0, 1, 2, 8, 9, 10, 11, 12, 3, 4, 5, 6, 7)
_KNEE_RANGE = (-np.radians(150), 0.0)
_ELBOW_RANGE = (0.0, np.radians(150))

#: Capsules for the self-collision test: (joint a, joint b, radius m).
CAPSULES: tuple[tuple[int, int, float], ...] = (
    (sk.R_ANKLE, sk.R_KNEE, 0.055),
    (sk.R_KNEE, sk.R_HIP, 0.07),
    (sk.L_ANKLE, sk.L_KNEE, 0.055),
    (sk.L_KNEE, sk.L_HIP, 0.07),
    (sk.PELVIS, sk.THORAX, 0.11),
    (sk.UPPER_NECK, sk.HEAD_TOP, 0.08),
    (sk.R_WRIST, sk.R_ELBOW, 0.035),
    (sk.R_ELBOW, sk.R_SHOULDER, 0.05),
    (sk.L_WRIST, sk.L_ELBOW, 0.035),
    (sk.L_ELBOW, sk.L_SHOULDER, 0.05),
)
_EXEMPT = {(1, 4), (3, 4), (4, 5), (4, 7), (4, 9), (5, 7), (5, 9)}  # adjacent through the torso or neck
COLLISION_PAIRS: tuple[tuple[int, int], ...] = tuple(
    (i, j)
    for i in range(len(CAPSULES))
    for j in range(i + 1, len(CAPSULES))
    if (i, j) not in _EXEMPT and not {CAPSULES[i][0], CAPSULES[i][1]} & {CAPSULES[j][0], CAPSULES[j][1]}
)


@dataclass(frozen=True)
class PoseSample:
    """local ``(13, 3, 3)`` DeepMimic link rotations (fk.LINKS order); airborne height (m) of the lowest
    point; source e.g. ``"clip:walk:12"``, ``"perturb:walk:12:mirror"``, ``"random"``; split_key groups
    near-duplicate poses for the train/val/test split."""

    local: FloatArray
    airborne: float
    source: str
    split_key: str


@dataclass(frozen=True)
class PosedBody:
    """A body from the bank in a pose, on the ground: transforms ``(B, 3, 4)``, bone heads ``(B, 3)``
    and joints ``(16, 3)`` in metres (Z up)."""

    body: int
    transforms: FloatArray
    heads: FloatArray
    joints: FloatArray
    model: BodyModel | None = None  # the (shaped) model ``body`` indexes; None: the default bank
    bank_body: int | None = None  # the bank mesh a shaped body is based on

    @property
    def body_id(self) -> int:
        """The body-bank id of this body (of its base mesh when shaped)."""
        return self.body if self.bank_body is None else self.bank_body


@dataclass(frozen=True)
class PoseBatch:
    """joints_3d ``(n, 16, 3)`` float32 metres, Z-up world; body_id ``(n,)`` int16; source ``(n,)`` str;
    split ``(n,)`` uint8 (0 train, 1 val, 2 test)."""

    joints_3d: NDArray[np.float32]
    body_id: NDArray[np.int16]
    source: tuple[str, ...]
    split: NDArray[np.uint8]

    def __len__(self) -> int:
        return int(self.joints_3d.shape[0])


def pose_rng(seed: int, index: int) -> np.random.Generator:
    """The generator that draws image ``index``'s body and pose."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, int(index), 0])


def split_of(key: str, salt: str = "posebrowser-synth") -> int:
    """Deterministic split (0 train, 1 val, 2 test) of a split key, 70/15/15 by a salted hash."""
    value = int.from_bytes(hashlib.sha256(f"{salt}:{key}".encode()).digest()[:8], "little") / 2**64
    return 0 if value < SPLIT_FRACTIONS[0] else (1 if value < SPLIT_FRACTIONS[0] + SPLIT_FRACTIONS[1] else 2)


#: Clips that show the same kind of motion (takes of one motion, mirror images of each other, or gaits
#: that share most of their frames) form one family, and a family lies in one split.
CLIP_FAMILIES: dict[str, str] = {
    "walk": "gait", "0walk_forward": "gait", "turn_left0": "gait", "turn_left1": "gait",
    "turn_right0": "gait", "turn_right1": "gait", "run": "gait",
    "dance_a": "dance", "dance_b": "dance", "getup_facedown": "getup", "getup_faceup": "getup",
    "kick": "kick", "spinkick": "kick", "spin": "kick",
}


def clip_family(clip: str) -> str:
    """The split family of a motion clip (the clip itself unless listed in :data:`CLIP_FAMILIES`)."""
    return CLIP_FAMILIES.get(clip, clip)


def _rot(axis: int, angle: float) -> FloatArray:
    vec = np.zeros(3)
    vec[axis] = angle
    return fk.axis_angle_to_matrix(vec)


def _mirror(local: FloatArray) -> FloatArray:
    return np.asarray(_MIRROR @ local[list(_MIRROR_LINKS)] @ _MIRROR)


def _random_rotation(rng: np.random.Generator) -> FloatArray:
    q = rng.normal(size=4)
    return fk.quat_to_matrix(q / np.linalg.norm(q))


def clip_pose(rng: np.random.Generator, motions: MotionClips, perturb: bool) -> PoseSample:
    """A clip frame (mirrored half the time), optionally perturbed: spherical joints × exp(N(0, 15°)),
    hinges + N(0, 10°) clamped, root tilted by N(0, 5°)."""
    index = int(rng.integers(len(motions.frames)))
    local, root = fk.frame_to_local_rotations(motions.frames[index])
    clip = motions.clip_names[int(motions.clip_of_frame[index])]
    frame = int(motions.frame_in_clip[index])
    airborne = fk.airborne_height(local, float(root[1]))
    mirror = bool(rng.uniform() < 0.5)
    if mirror:
        local = _mirror(local)
    if perturb:
        for link in fk.SPHERICAL_LINKS:
            local[link] = local[link] @ fk.axis_angle_to_matrix(rng.normal(0, np.radians(15), 3))
        for link, (lo, hi) in zip(
            fk.HINGE_LINKS, (_KNEE_RANGE, _ELBOW_RANGE, _KNEE_RANGE, _ELBOW_RANGE), strict=True
        ):
            angle = float(fk.matrix_to_axis_angle(local[link])[2]) + rng.normal(0, np.radians(10))
            local[link] = _rot(2, float(np.clip(angle, lo, hi)))
        local[0] = fk.axis_angle_to_matrix(rng.normal(0, np.radians(5), 3)) @ local[0]
    source = f"{'perturb' if perturb else 'clip'}:{clip}:{frame}" + (":mirror" if mirror else "")
    return PoseSample(
        local=local, airborne=airborne, source=source, split_key=f"clip:{clip_family(clip)}"
    )


def random_pose(rng: np.random.Generator, index: int) -> PoseSample:
    """A pose drawn within per-joint anatomical ranges (degrees, DeepMimic local frames)."""
    deg = np.radians
    local = np.tile(np.eye(3), (len(fk.LINKS), 1, 1))

    def uniform(lo: float, hi: float, relaxed: tuple[float, float] | None = None) -> float:
        if relaxed is not None and rng.uniform() < 0.4:
            lo, hi = relaxed
        return float(deg(rng.uniform(lo, hi)))

    for side, sign in (("right", -1.0), ("left", 1.0)):
        link = fk.LINK_INDEX
        local[link[f"{side}_hip"]] = (
            _rot(2, uniform(-25, 115, (-10, 40)))
            @ _rot(0, sign * uniform(-15, 55, (-5, 15)))
            @ _rot(1, sign * uniform(-35, 35))
        )
        local[link[f"{side}_knee"]] = _rot(2, -uniform(0, 140, (0, 25)))
        local[link[f"{side}_ankle"]] = _rot(2, uniform(-25, 25)) @ _rot(0, uniform(-10, 10))
        local[link[f"{side}_shoulder"]] = (
            _rot(2, uniform(-50, 175, (-20, 60)))
            @ _rot(0, sign * uniform(-10, 160, (0, 45)))
            @ _rot(1, sign * uniform(-60, 60))
        )
        local[link[f"{side}_elbow"]] = _rot(2, uniform(0, 150))
    local[fk.LINK_INDEX["chest"]] = (
        _rot(2, -uniform(-15, 45)) @ _rot(0, uniform(-20, 20)) @ _rot(1, uniform(-30, 30))
    )
    local[fk.LINK_INDEX["neck"]] = (
        _rot(2, -uniform(-30, 40)) @ _rot(0, uniform(-20, 20)) @ _rot(1, uniform(-45, 45))
    )
    free = bool(rng.uniform() < FREE_ORIENTATION_RATE)
    if free:
        local[0] = _random_rotation(rng)
    else:
        local[0] = (
            _rot(1, float(rng.uniform(0, 2 * np.pi))) @ _rot(2, uniform(-10, 10)) @ _rot(0, uniform(-8, 8))
        )
    return PoseSample(
        local=local, airborne=0.0, source="random:free" if free else "random", split_key=f"random:{index}"
    )


def segment_distances(a0: FloatArray, a1: FloatArray, b0: FloatArray, b1: FloatArray) -> FloatArray:
    """Closest distances ``(P,)`` between segments a0–a1 and b0–b1 (each ``(P, 3)``)."""
    d1, d2, r = a1 - a0, b1 - b0, a0 - b0
    a = np.einsum("ij,ij->i", d1, d1)
    e = np.einsum("ij,ij->i", d2, d2)
    f = np.einsum("ij,ij->i", d2, r)
    c = np.einsum("ij,ij->i", d1, r)
    b = np.einsum("ij,ij->i", d1, d2)
    denom = a * e - b * b
    s = np.where(denom > 1e-12, np.clip((b * f - c * e) / np.where(denom > 1e-12, denom, 1.0), 0, 1), 0.0)
    t = (b * s + f) / np.maximum(e, 1e-12)
    s = np.where(
        t < 0,
        np.clip(-c / np.maximum(a, 1e-12), 0, 1),
        np.where(t > 1, np.clip((b - c) / np.maximum(a, 1e-12), 0, 1), s),
    )
    t = np.clip(t, 0, 1)
    return np.asarray(np.linalg.norm(a0 + d1 * s[:, None] - (b0 + d2 * t[:, None]), axis=1))


def self_collides(joints: NDArray[np.floating], factor: float = 0.6) -> bool:
    """True when two non-adjacent capsules around the skeleton ``(16, 3)`` come closer than
    ``factor × (r1 + r2)``."""
    j = np.asarray(joints, dtype=np.float64)
    caps = np.array([(a, b) for a, b, _ in CAPSULES])
    radii = np.array([r for _, _, r in CAPSULES])
    first = np.array([p[0] for p in COLLISION_PAIRS])
    second = np.array([p[1] for p in COLLISION_PAIRS])
    dist = segment_distances(j[caps[first, 0]], j[caps[first, 1]], j[caps[second, 0]], j[caps[second, 1]])
    return bool(np.any(dist < factor * (radii[first] + radii[second])))


def pose_body(model: BodyModel, body: int, sample: PoseSample) -> PosedBody:
    """Pose ``body`` on the ground: pelvis above the origin, lowest vertex at height ``sample.airborne``."""
    world_dm, _ = fk.forward_kinematics(sample.local)
    rotations = model.bone_rotations(body, links_to_world(world_dm))
    transforms, heads = model.bone_transforms(body, rotations, np.zeros(3))
    lowest = float(model.skin(body, transforms, model.support_vertices)[:, 2].min())
    offset = np.array([-heads[0, 0], -heads[0, 1], sample.airborne - lowest])
    transforms[:, :, 3] += offset
    heads = heads + offset
    return PosedBody(
        body=body,
        transforms=transforms,
        heads=heads,
        joints=model.joints(body, transforms, heads),
        model=model,
    )


def draw_pose(
    rng: np.random.Generator,
    index: int,
    model: BodyModel | None = None,
    motions: MotionClips | None = None,
    options: SynthOptions = DEFAULT_OPTIONS,
) -> tuple[PoseSample, PosedBody]:
    """Draw a body shape and a pose for image ``index``; perturbed and random poses are redrawn until they
    pass the self-collision test (at most :data:`MAX_TRIES` times). ``options`` gives the pose-source shares
    and the body-shape space (see :mod:`posebrowser.synth.options`)."""
    model = model or default_body_model()
    motions = motions or load_motions()
    body, shaped = draw_body(rng, model, options)
    roll = rng.uniform()
    kind = (
        "clip"
        if roll < options.clip_share
        else ("perturb" if roll < options.clip_share + options.perturb_share else "random")
    )
    for _ in range(MAX_TRIES):
        sample = random_pose(rng, index) if kind == "random" else clip_pose(rng, motions, kind == "perturb")
        posed = pose_body(shaped, 0, sample)
        if kind == "clip" or not self_collides(posed.joints):
            return sample, _with_body_id(posed, body)
    sample = clip_pose(rng, motions, perturb=False)
    return sample, _with_body_id(pose_body(shaped, 0, sample), body)


def _with_body_id(posed: PosedBody, body: int) -> PosedBody:
    return dataclasses.replace(posed, bank_body=body)


def draw_body(rng: np.random.Generator, model: BodyModel, options: SynthOptions) -> tuple[int, BodyModel]:
    """(the bank body the shape is based on, a one-body shaped model) for one image."""
    choices = options.bodies or tuple(range(model.body_count))
    first, second = (int(choices[i]) for i in rng.integers(len(choices), size=2))
    weight = float(rng.uniform(0.0, options.shape_blend))
    height, girth = float(rng.uniform(*options.height)), float(rng.uniform(*options.girth))
    return first, shaped_body_model(model, first, second, weight, height, girth)


def sample_poses(n: int, seed: int, options: SynthOptions = DEFAULT_OPTIONS) -> PoseBatch:
    """The poses of images ``0..n-1`` of the synthetic gallery with ``seed`` and ``options`` (no rendering;
    a few ms a pose)."""
    model = default_body_model()
    motions = load_motions()
    joints = np.zeros((n, 16, 3), np.float32)
    bodies = np.zeros(n, np.int16)
    sources: list[str] = []
    split = np.zeros(n, np.uint8)
    for index in range(n):
        sample, posed = draw_pose(pose_rng(seed, index), index, model, motions, options)
        joints[index] = posed.joints
        bodies[index] = posed.body_id
        sources.append(sample.source)
        split[index] = split_of(sample.split_key)
    return PoseBatch(joints_3d=joints, body_id=bodies, source=tuple(sources), split=split)
