"""Conditional posebyte completion vs a direct Gaussian conditioning computation."""

from __future__ import annotations

import numpy as np
import pytest
from core_fakes import posebit_world

from posebrowser.core.conditional import ConditionalPosebyteModel, contrast_query
from posebrowser.errors import DataError, QueryError


def direct_conditional_mean(x: np.ndarray, cond: dict[int, int], ridge: float) -> np.ndarray:
    """Schur-complement form written independently: precision-matrix formula of the conditional mean."""
    mu = x.mean(axis=0)
    cov = np.cov(x, rowvar=False, bias=True)
    b = len(mu)
    c = np.array(sorted(cond))
    a = np.array([i for i in range(b) if i not in cond])
    v = np.array([cond[i] for i in c], dtype=float)
    # joint with ridge on the conditioned block; conditional mean = μ_A − Λ_AA⁻¹ Λ_AC (v − μ_C)
    joint = cov.copy()
    joint[np.ix_(c, c)] += ridge * np.eye(len(c))
    joint[np.ix_(a, a)] += 1e-9 * np.eye(len(a))
    precision = np.linalg.inv(joint[np.ix_(np.r_[a, c], np.r_[a, c])])
    na = len(a)
    lam_aa, lam_ac = precision[:na, :na], precision[:na, na:]
    out = np.empty(b)
    out[a] = mu[a] - np.linalg.solve(lam_aa, lam_ac @ (v - mu[c]))
    out[c] = v
    return out


def test_matches_direct_gaussian_conditioning() -> None:
    posebits, _ = posebit_world(3000, bits=8, seed=1)
    model = ConditionalPosebyteModel.fit(posebits, ridge=1e-3)
    for cond in ({0: 1}, {2: 0, 5: 1}, {1: 1, 3: 0, 6: 1}):
        completion = model.complete(cond)
        expected = direct_conditional_mean(posebits.astype(float), cond, 1e-3)
        np.testing.assert_allclose(completion.soft, expected, atol=1e-4)
        for bit, value in cond.items():
            assert completion.posebyte[bit] == value
        assert set(np.unique(completion.posebyte)) <= {0, 1}
        np.testing.assert_array_equal(completion.posebyte, np.clip(np.round(expected), 0, 1))


def test_single_condition_matches_thesis_formula_and_constant_bits() -> None:
    posebits, _ = posebit_world(2000, bits=5, seed=2)
    posebits[:, 4] = 1  # a constant bit makes Σ singular: the ridge keeps the solve stable
    x = posebits.astype(float)
    mu, cov = x.mean(0), np.cov(x, rowvar=False, bias=True)
    model = ConditionalPosebyteModel.fit(posebits, ridge=0.0)
    soft = model.complete({1: 1}).soft
    expected = mu + cov[:, 1] * (1 - mu[1]) / cov[1, 1]
    np.testing.assert_allclose(np.delete(soft, 1), np.delete(expected, 1), atol=1e-5)
    stable = ConditionalPosebyteModel.fit(posebits, ridge=1e-3).complete({4: 1, 0: 1})
    assert np.isfinite(stable.soft).all()


def test_unknowns_are_mean_imputed_and_errors() -> None:
    x = np.array([[1, 0], [1, -1], [0, 1], [-1, 1]], dtype=np.int8)
    model = ConditionalPosebyteModel.fit(x)
    np.testing.assert_allclose(model.mean, [2 / 3, 2 / 3])
    with pytest.raises(QueryError):
        model.complete({5: 1})
    with pytest.raises(QueryError):
        model.complete({0: 2})
    with pytest.raises(DataError):
        ConditionalPosebyteModel.fit(np.zeros((0, 3), np.int8))


def _unit(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    x = rng.normal(size=shape)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_contrast_query_is_the_documented_formula_and_zero_gives_the_completion() -> None:
    rng = np.random.default_rng(3)
    e, f = _unit(rng, (16,)), _unit(rng, (3, 16))
    expected = e + 2.0 / 3 * (e - f.mean(axis=0))  # e + (2 / n) · mean(e − f_c), n = 3 asked bits
    np.testing.assert_allclose(contrast_query(e, f, 2.0), expected / np.linalg.norm(expected), atol=1e-6)
    np.testing.assert_allclose(contrast_query(e, f, 0.0), e, atol=1e-6)


def test_contrast_moves_the_query_towards_the_asked_bit_and_stays_unit() -> None:
    rng = np.random.default_rng(4)
    e, f = _unit(rng, (8,)), _unit(rng, (1, 8))
    direction = (e - f[0]) / np.linalg.norm(e - f[0])
    alignments = [float(contrast_query(e, f, s) @ direction) for s in (0.0, 1.0, 4.0, 16.0)]
    assert alignments == sorted(alignments) and alignments[-1] > 0.9
    # even the flipped completion itself (e = f) or its antipode leaves a defined unit query
    for flipped in (e[None, :], -e[None, :]):
        query = contrast_query(e, flipped, 4.0)
        assert np.isfinite(query).all() and np.linalg.norm(query) == pytest.approx(1.0, abs=1e-6)


def test_contrast_query_rejects_bad_inputs_clearly() -> None:
    e = np.ones(4) / 2
    with pytest.raises(QueryError, match="0 or more"):
        contrast_query(e, e[None, :], -1.0)
    with pytest.raises(QueryError, match="do not match"):
        contrast_query(e, np.ones((2, 3)), 1.0)
    with pytest.raises(QueryError, match="do not match"):
        contrast_query(e, np.ones((0, 4)), 1.0)
