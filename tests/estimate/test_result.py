"""Estimate results: JSON round trip, shape checks, malformed JSON."""

from __future__ import annotations

import json

import numpy as np
import pytest

from posebrowser.estimate.result import NoPersonFound, PersonBox, PoseEstimate, outcome_from_json


def _estimate(rng: np.random.Generator) -> PoseEstimate:
    return PoseEstimate(
        image_size=(640, 480), box=PersonBox(10.5, 20.25, 300.0, 470.0),
        joints_2d=rng.uniform(0, 400, (16, 2)).astype(np.float32),
        joints_3d=rng.normal(size=(16, 3)).astype(np.float32),
        confidence=rng.uniform(0, 1, 16).astype(np.float32),
        posebits=rng.integers(-1, 2, 30).astype(np.int8), vocabulary_version="pb1-x",
        people_found=2, estimator="v1")


def test_a_pose_estimate_survives_json(rng: np.random.Generator) -> None:
    original = _estimate(rng)
    back = outcome_from_json(json.loads(json.dumps(original.to_json_dict())))
    assert isinstance(back, PoseEstimate)
    assert back.box == original.box and back.image_size == original.image_size
    assert np.allclose(back.joints_2d, original.joints_2d, atol=0.01)
    assert np.allclose(back.joints_3d, original.joints_3d, atol=1e-4)
    assert np.array_equal(back.posebits, original.posebits)
    assert back.several_people and back.estimator == "v1"


def test_no_person_survives_json() -> None:
    original = NoPersonFound("image-too-small", "too small", (8, 8), "v1")
    assert outcome_from_json(json.loads(json.dumps(original.to_json_dict()))) == original


@pytest.mark.parametrize("payload", [
    {"status": "maybe"},
    {"status": "no-person", "reason": "bored", "message": "", "image_size": [1, 1], "estimator": "v"},
    {"status": "person"},
])
def test_malformed_json_is_refused(payload: dict[str, object]) -> None:
    with pytest.raises((KeyError, ValueError, TypeError)):
        outcome_from_json(payload)


def test_wrong_joint_shapes_are_refused(rng: np.random.Generator) -> None:
    good = _estimate(rng)
    with pytest.raises(ValueError, match="joints_3d"):
        PoseEstimate(good.image_size, good.box, good.joints_2d, np.zeros((17, 3), np.float32),
                     good.confidence, good.posebits, "pb1-x", 1, "v1")
