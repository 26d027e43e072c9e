"""Posebit vocabulary: hand-built poses, invariances, mirror symmetry, look-up and selection."""

from __future__ import annotations

import importlib.util
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from posebrowser.errors import CorruptFileError, UnknownPosebitError
from posebrowser.pose import posebits as posebits_module
from posebrowser.pose.posebit_geometry import torso_frame
from posebrowser.pose.posebits import (
    BODY_PARTS,
    KINDS,
    PosebitVocabulary,
    candidate_posebits,
    get_vocabulary,
    load_vocabulary,
    select_informative,
    select_informative_detailed,
    vocabulary_version,
)
from posebrowser.pose.skeleton import (
    HEAD_TOP,
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
    THORAX,
    UPPER_NECK,
    swap_left_right,
)

ALL = PosebitVocabulary.from_bits(candidate_posebits())


def t_pose() -> NDArray[np.float64]:
    """A person in a T-pose, Z-up world, facing −Y, right side at −X (metres); torso length 0.55."""
    joints = np.zeros((16, 3))
    joints[PELVIS] = (0, 0, 1.0)
    joints[THORAX] = (0, 0, 1.45)
    joints[UPPER_NECK] = (0, 0, 1.55)
    joints[HEAD_TOP] = (0, 0, 1.8)
    for sign, (hip, knee, ankle, shoulder, elbow, wrist) in (
        (-1, (R_HIP, R_KNEE, R_ANKLE, R_SHOULDER, R_ELBOW, R_WRIST)),
        (1, (L_HIP, L_KNEE, L_ANKLE, L_SHOULDER, L_ELBOW, L_WRIST)),
    ):
        joints[hip] = (0.1 * sign, 0, 0.95)
        joints[knee] = (0.1 * sign, 0, 0.5)
        joints[ankle] = (0.1 * sign, 0, 0.05)
        joints[shoulder] = (0.2 * sign, 0, 1.45)
        joints[elbow] = (0.5 * sign, 0, 1.45)
        joints[wrist] = (0.8 * sign, 0, 1.45)
    return joints


def bit(joints: NDArray[np.float64], name: str) -> int:
    return int(ALL.compute(joints[None])[0, ALL.index(name)])


def random_poses(n: int, seed: int) -> NDArray[np.float64]:
    """T-poses with large joint noise, randomly rotated as a whole (so torsos tilt) and translated."""
    rng = np.random.default_rng(seed)
    poses = t_pose()[None] + rng.normal(scale=0.25, size=(n, 16, 3))
    rotations = np.stack([random_rotation(rng) for _ in range(n)])
    rotated: NDArray[np.float64] = np.einsum("nij,nkj->nki", rotations, poses) + rng.normal(size=(n, 1, 3))
    return rotated


def random_rotation(rng: np.random.Generator) -> NDArray[np.float64]:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def yaw(angle: float) -> NDArray[np.float64]:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def mirrored_name(name: str) -> str:
    return "_".join({"left": "right", "right": "left"}.get(word, word) for word in name.split("_"))


def test_torso_frame_handedness_on_t_pose() -> None:
    joints = t_pose()
    joints[R_WRIST] = (-0.2, -0.4, 1.2)  # reaching towards −Y, where the person faces
    frame = torso_frame(joints[None])
    np.testing.assert_allclose(frame.up[0], (0, 0, 1), atol=1e-12)
    right, up, fwd = frame.local[0, R_WRIST]
    assert fwd == pytest.approx(0.4 / 0.55)
    assert right == pytest.approx(0.2 / 0.55)
    assert up == pytest.approx(0.2 / 0.55)
    assert frame.local[0, R_HIP, 0] > 0 > frame.local[0, L_HIP, 0]


def test_t_pose_bits() -> None:
    joints = t_pose()
    expected = {
        "right_elbow_bent": 0, "left_elbow_bent": 0, "right_knee_bent": 0, "left_knee_strongly_bent": 0,
        "right_arm_raised": 1, "left_arm_raised": 1, "right_arm_above_horizontal": 0,
        "right_thigh_lifted": 0, "torso_upright": 1, "torso_horizontal": 0, "torso_inverted": 0,
        "shoulders_twisted": 0, "wrists_far_apart": 1, "wrists_near": 0, "ankles_near": 1,
        "right_wrist_above_head_top": 0, "left_wrist_above_head_top": 0,
        "right_wrist_right_of_right_shoulder": 1, "left_wrist_left_of_left_shoulder": 1,
        "wrists_crossed": 0, "right_wrist_left_of_head_top": 0, "right_wrist_in_front_of_pelvis": 0,
        "right_knee_above_right_hip": 0,
    }
    assert {name: bit(joints, name) for name in expected} == expected


def test_arm_overhead_and_bent_arm() -> None:
    joints = t_pose()
    joints[R_ELBOW] = (-0.2, 0, 1.75)
    joints[R_WRIST] = (-0.2, 0, 2.05)
    assert bit(joints, "right_wrist_above_head_top") == 1
    assert ALL.compute(joints[None])[0, ALL.index("right wrist is above the head")] == 1
    assert bit(joints, "right_arm_above_horizontal") == 1
    assert bit(joints, "left_wrist_above_head_top") == 0
    joints = t_pose()
    joints[R_ELBOW] = (-0.2, 0, 1.15)  # upper arm hanging, forearm pointing forward and a little up
    joints[R_WRIST] = (-0.2, -0.3, 1.25)
    assert bit(joints, "right_elbow_bent") == 1
    assert bit(joints, "right_elbow_strongly_bent") == 1
    assert bit(joints, "right_arm_raised") == 0
    assert bit(joints, "right_wrist_in_front_of_pelvis") == 1
    assert bit(joints, "left_elbow_bent") == 0


def test_global_bits_follow_world_up() -> None:
    lying = t_pose() @ np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]).T  # rotate 90° about X
    assert bit(lying, "torso_horizontal") == 1 and bit(lying, "torso_upright") == 0
    upside_down = t_pose() * np.array([1.0, -1.0, -1.0])  # rotate 180° about X
    assert bit(upside_down, "torso_inverted") == 1
    twisted = t_pose()
    twisted[[R_SHOULDER, L_SHOULDER]] = twisted[[R_SHOULDER, L_SHOULDER]] @ yaw(np.radians(40)).T
    assert bit(twisted, "shoulders_twisted") == 1


def test_invariant_to_yaw_translation_and_scale() -> None:
    poses = random_poses(200, seed=1)
    margins = ALL.margins(poses)
    moved = 2.5 * (poses @ yaw(1.1).T) + np.array([3.0, -7.0, 0.4])
    np.testing.assert_allclose(ALL.margins(moved), margins, atol=1e-3)
    assert np.mean(ALL.compute(moved) != ALL.compute(poses)) < 1e-3


def test_invariant_to_any_rotation_when_up_rotates_too() -> None:
    poses = random_poses(100, seed=2)
    rotation = random_rotation(np.random.default_rng(3))
    rotated = poses @ rotation.T
    np.testing.assert_allclose(ALL.margins(rotated, up=rotation @ (0, 0, 1)), ALL.margins(poses), atol=1e-3)


def test_tilt_bits_change_when_only_world_up_changes() -> None:
    assert not np.array_equal(ALL.compute(t_pose(), up=(0, 1, 0)), ALL.compute(t_pose()))


def test_left_right_mirror_consistency() -> None:
    poses = random_poses(200, seed=4)
    mirrored = swap_left_right(poses * np.array([-1.0, 1.0, 1.0]))  # reflect across a vertical plane
    original, flipped = ALL.margins(poses), ALL.margins(mirrored)
    partner = [ALL.index(mirrored_name(name)) for name in ALL.names]
    assert sorted(partner) == list(range(len(ALL)))
    np.testing.assert_allclose(flipped[:, partner], original, atol=1e-4)
    assert ALL.bits[ALL.index("right_wrist_above_head_top")].body_part == "right arm"


def test_candidates_are_well_formed() -> None:
    bits = candidate_posebits()
    assert 280 <= len(bits) <= 340
    assert len({b.label.casefold() for b in bits}) == len(bits)
    for b in bits:
        assert re.fullmatch(r"[a-z]+(_[a-z]+)*", b.name), b.name
        assert b.body_part in BODY_PARTS and b.kind in KINDS
        assert b.label == b.label.strip() and b.label[0].islower()
    assert sum(b.family == "beyond" for b in bits) > 200


def test_vocabulary_lookup_and_version() -> None:
    vocabulary = PosebitVocabulary.from_names(["right_elbow_bent", "torso_upright"])
    assert vocabulary.version == vocabulary_version(["right_elbow_bent", "torso_upright"])
    assert re.fullmatch(r"pb1-[0-9a-f]{10}", vocabulary.version)
    assert vocabulary.index("torso_upright") == 1
    assert vocabulary.index("torso is upright") == 1
    assert vocabulary.index("  Right Elbow Is Bent ") == 0
    with pytest.raises(UnknownPosebitError, match="right elbow is bent"):
        vocabulary.index("right elbow is bend")
    with pytest.raises(UnknownPosebitError):
        PosebitVocabulary.from_names(["no_such_bit"])
    with pytest.raises(ValueError):
        PosebitVocabulary("pb1-0000000000", vocabulary.bits)
    assert vocabulary.compute(t_pose()[None]).tolist() == [[0, 1]]


def test_groups_partition_the_columns() -> None:
    groups = ALL.groups()
    columns = sorted(c for cols in groups.values() for c in cols)
    assert columns == list(range(len(ALL)))
    assert ALL.index("torso_upright") in groups[("torso", "global")]


def test_compute_shapes_dtypes_and_degenerate_poses() -> None:
    poses = np.concatenate([random_poses(5, seed=5), np.zeros((1, 16, 3)), np.full((1, 16, 3), np.nan)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bits = ALL.compute(poses)
        margins = ALL.margins(poses)
    assert bits.dtype == np.uint8 and bits.shape == (7, len(ALL))
    assert margins.dtype == np.float32
    assert not bits[5:].any()
    ternary = ALL.compute_with_dont_care(poses)
    assert ternary.dtype == np.int8 and (ternary[5:] == -1).all()
    band = np.array([b.hysteresis for b in ALL.bits])
    decided = ternary[:5] >= 0
    assert np.array_equal(decided, np.abs(margins[:5]) > band)
    assert np.array_equal(ternary[:5][decided], bits[:5][decided])
    with pytest.raises(ValueError):
        ALL.compute(np.zeros((3, 15, 3)))


def test_select_informative_on_hand_built_matrix() -> None:
    rng = np.random.default_rng(6)
    base = (rng.random(400) < 0.5).astype(np.uint8)
    independent = (rng.random(400) < 0.3).astype(np.uint8)
    rare = np.zeros(400, dtype=np.uint8)
    rare[:4] = 1
    names = ("right_wrist_above_head_top", "right_elbow_bent", "torso_upright", "wrists_near",
             "left_knee_bent")
    candidates = [ALL.bits[ALL.index(name)] for name in names]
    # column 0 (beyond) duplicates column 1 (hinge): the simpler hinge bit wins even though it comes later
    matrix = np.stack([base, base, rare, independent, np.ones(400, dtype=np.uint8)], axis=1)
    result = select_informative_detailed(matrix, candidates)
    assert result.after_rate_filter == ["right_wrist_above_head_top", "right_elbow_bent", "wrists_near"]
    assert result.kept == ["right_elbow_bent", "wrists_near"]
    assert select_informative(matrix, candidates, max_abs_corr=1.01) == result.after_rate_filter
    np.testing.assert_allclose(result.positive_rates[2], 0.01)


def test_select_informative_keeps_a_realistic_number() -> None:
    bits = ALL.compute(random_poses(1000, seed=7))
    kept = select_informative(bits, ALL.bits)
    assert 50 <= len(kept) <= len(ALL)
    assert kept == [name for name in ALL.names if name in set(kept)]


def test_vocabulary_json_round_trip_and_errors(tmp_path: Path) -> None:
    vocabulary = PosebitVocabulary.from_names(["left_knee_bent", "wrists_near"])
    good = tmp_path / "vocabulary.json"
    good.write_text(json.dumps(vocabulary.to_json_dict()))
    assert load_vocabulary(good) == vocabulary
    bad_version = tmp_path / "bad_version.json"
    bad_version.write_text(json.dumps({"version": "pb1-0123456789", "names": list(vocabulary.names)}))
    unknown = tmp_path / "unknown.json"
    unknown.write_text(json.dumps({"version": "x", "names": ["flying"]}))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    for path in (bad_version, unknown, broken, tmp_path / "missing.json"):
        with pytest.raises(CorruptFileError) as info:
            load_vocabulary(path)
        assert path.name in str(info.value)


def test_shipped_vocabulary() -> None:
    vocabulary = get_vocabulary()
    assert get_vocabulary() is vocabulary
    assert posebits_module.VOCABULARY is vocabulary
    assert set(vocabulary.names) <= set(ALL.names)
    if posebits_module.VOCABULARY_PATH.is_file():
        stored = json.loads(posebits_module.VOCABULARY_PATH.read_text())
        assert stored["version"] == vocabulary.version and stored["names"] == list(vocabulary.names)
    else:
        assert vocabulary == ALL


def test_select_posebits_tool_writes_a_loadable_vocabulary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = importlib.util.spec_from_file_location(
        "select_posebits_tool", Path(__file__).parents[2] / "tools" / "select_posebits.py")
    assert spec is not None and spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    joints = tmp_path / "joints.npz"
    np.savez(joints, joints_3d=random_poses(300, seed=8))
    out = tmp_path / "pose" / "vocabulary.json"
    assert tool.main([str(joints), "--out", str(out), "--json"]) == 0
    counts = json.loads(capsys.readouterr().out)
    vocabulary = load_vocabulary(out)
    assert counts["candidates"] == len(ALL)
    assert counts["after_correlation_filter"] == len(vocabulary) <= counts["after_rate_filter"] <= len(ALL)
    assert counts["version"] == vocabulary.version
    assert [p.name for p in out.parent.iterdir()] == ["vocabulary.json"]  # no temporary file left
    np.savez(joints, other=np.zeros(3))
    assert tool.main([str(joints), "--out", str(out)]) == 2
    assert "joints_3d" in capsys.readouterr().err
