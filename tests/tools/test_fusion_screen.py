"""tools/fusion_screen.py: a setting's rows are the fused model's blend with those weights and its own
fitted maps — the card's weights give the card's blend, other weights the formula's."""

from __future__ import annotations

import numpy as np
from scipy.stats import ortho_group
from script_loader import load_script

from posebrowser.nets.fusion import EstimatorFusion


def _unit(rng: np.random.Generator, n: int) -> np.ndarray:
    rows = rng.standard_normal((n, 128)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_a_setting_reweights_the_readers_and_keeps_the_maps(rng) -> None:
    tool = load_script("tools/fusion_screen.py")
    fusion = EstimatorFusion(weight=0.2, more_joints_models=("joints_torso_net",), more_weights=(0.15,))
    maps = [ortho_group.rvs(128, random_state=s) for s in (1, 2)]
    for reader, rotation in enumerate(maps):
        fusion.set_rotation(rotation, reader)
    cnn, facing, torso = _unit(rng, 4), _unit(rng, 4), _unit(rng, 4)
    facing[2] = torso[2] = np.nan  # nobody found
    same = tool.blended(fusion, cnn, [facing, torso], [0.2, 0.15])
    np.testing.assert_allclose(same, fusion.blend(cnn, [facing, torso], np.isfinite(facing).all(1)))
    other = tool.blended(fusion, cnn, [facing, torso], [0.3, 0.0])
    for row in (0, 1, 3):
        expected = 0.7 * cnn[row] + 0.3 * facing[row] @ maps[0]
        np.testing.assert_allclose(other[row], expected / np.linalg.norm(expected), atol=1e-5)
    np.testing.assert_array_equal(other[2], cnn[2])
