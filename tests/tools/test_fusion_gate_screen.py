"""tools/fusion_gate_screen.py: the per-image weights give nothing where there is no person, the fixed
weights are the shipped ones, and a disagreeing pair of readers is halved."""

from __future__ import annotations

import numpy as np
from script_loader import load_script


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_weights_follow_the_readers_agreement_and_skip_rows_without_a_person(rng) -> None:
    tool = load_script("tools/fusion_gate_screen.py")
    cnn, joints = _unit(rng.standard_normal((6, 8))), _unit(rng.standard_normal((6, 8)))
    lifted = joints.copy()
    lifted[1] = -joints[1]  # the two readers disagree on row 1
    person = np.array([True, True, True, False, True, True])
    weights = tool.weightings(cnn, joints, lifted, person)
    for joint_w, lifter_w in weights.values():
        assert joint_w[3] == lifter_w[3] == 0.0
        assert (joint_w >= 0).all() and (joint_w + lifter_w <= 0.7).all()
    fixed = weights["fixed 0.2 / 0.2 (shipped)"]
    np.testing.assert_array_equal(fixed[0], 0.2 * person)
    halved = weights["both halved where they agree < 0.3"][0]
    assert halved[1] == 0.1 and halved[0] == 0.2
