"""On-the-fly masks: a fitted 2-bit mask ranks items satisfying both bits first."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from core_fakes import posebit_world

from posebrowser.core.masks import MaskBank, fit_mask, origin_triplet_loss, posebit_agreement, satisfies
from posebrowser.core.query import PosebitTerm, Query, merge_conditions
from posebrowser.errors import CheckpointError, QueryError


def precision_at(scores: np.ndarray, positive: np.ndarray, k: int) -> float:
    return float(positive[np.argsort(scores)[:k]].mean())


def test_two_bit_mask_beats_full_posebyte_style_baseline() -> None:
    posebits, emb = posebit_world(6000, bits=6, seed=3, noise=1.5)
    train, test = slice(0, 3000), slice(3000, None)
    positive = satisfies(posebits, {0: 1, 3: 0})
    start = time.perf_counter()
    mask = fit_mask(emb[train], positive[train], steps=200, seed=0)
    assert time.perf_counter() - start < 5.0
    assert mask.shape == (128,) and mask.dtype == np.float32
    scores = np.linalg.norm(emb[test] * mask, axis=1)
    mask_p = precision_at(scores, positive[test], 50)
    # baseline: query with the embedding of one satisfying item ("a full posebyte" describing one pose)
    rng = np.random.default_rng(0)
    baseline = []
    for row in rng.choice(np.flatnonzero(positive[train]), 10, replace=False):
        baseline.append(precision_at(np.linalg.norm(emb[test] - emb[row], axis=1), positive[test], 50))
    assert mask_p >= 0.75
    assert mask_p > np.mean(baseline) + 0.15
    assert mask_p > 2 * positive[test].mean()


def test_satisfies_treats_unknown_as_unsatisfied() -> None:
    bits = np.array([[1, 0], [1, -1], [0, 0]], dtype=np.int8)
    np.testing.assert_array_equal(satisfies(bits, {0: 1, 1: 0}), [True, False, False])


def test_posebit_agreement_marks_agree_clash_and_unknown() -> None:
    bits = np.array([[1, 0], [0, -1], [1, 1]], dtype=np.int8)
    agreement = posebit_agreement(bits, [(0, 1), (1, 0), (None, 1)])
    np.testing.assert_array_equal(agreement, [[1, 1, -1], [0, -1, -1], [1, 0, -1]])
    assert agreement.dtype == np.int8


def test_merge_conditions_is_the_one_rule_for_asked_and_mask_terms() -> None:
    a, b = PosebitTerm((("a", 1),)), PosebitTerm((("b", 0), ("a", 1)), mode="mask")
    assert merge_conditions([a, b]) == (("a", 1), ("b", 0))
    assert Query((a, b)).asked_conditions() == merge_conditions([a, b])
    subtracted = PosebitTerm((("c", 1),), weight=-1.0)
    assert Query((a, subtracted)).asked_conditions() == (("a", 1),)
    with pytest.raises(QueryError, match="both 1 and 0"):
        merge_conditions([a, PosebitTerm((("a", 0),), mode="mask")])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mask_gradient_matches_torch_autograd(seed: int) -> None:
    """The hand-written gradient of the mask fit (kept because it is faster) equals autograd's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(seed)
    positives, negatives = rng.normal(size=(24, 16)), rng.normal(size=(30, 16))
    mask = rng.normal(size=16)  # signed weights, as fitted masks have
    loss, grad = origin_triplet_loss(mask, positives, negatives, margin=0.5, weight_decay=5e-3)

    m = torch.tensor(mask, dtype=torch.float64, requires_grad=True)
    p, n = torch.tensor(positives), torch.tensor(negatives)
    p_norm = torch.sqrt(((p * m) ** 2).sum(dim=1) + 1e-12)
    n_norm = torch.sqrt(((n * m) ** 2).sum(dim=1) + 1e-12)
    hinge = torch.clamp(p_norm[:, None] - n_norm[None, :] + 0.5, min=0.0).mean()
    expected = hinge + 0.5 * 5e-3 * (m**2).sum()
    expected.backward()
    assert m.grad is not None
    assert hinge.item() > 0.0 and loss == pytest.approx(expected.item(), rel=1e-12)
    np.testing.assert_allclose(grad, m.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_fit_mask_needs_both_classes() -> None:
    with pytest.raises(QueryError):
        fit_mask(np.ones((4, 8), np.float32), np.ones(4, bool))


def test_mask_bank_uses_shipped_single_bit_and_caches_fits(tmp_path: Path) -> None:
    from safetensors.numpy import save_file

    shipped = np.linspace(0, 1, 128, dtype=np.float32)
    save_file({"knee_bent=1": shipped}, str(tmp_path / "masks.safetensors"))
    bank = MaskBank.load(tmp_path / "masks.safetensors")
    calls: list[int] = []

    def fit() -> np.ndarray:
        calls.append(1)
        return np.ones(128, np.float32)

    np.testing.assert_array_equal(bank.mask_for((("knee_bent", 1),), fit), shipped)
    assert not calls
    bank.mask_for((("knee_bent", 1), ("elbow", 0)), fit)
    bank.mask_for((("elbow", 0), ("knee_bent", 1)), fit)
    assert len(calls) == 1
    with pytest.raises(QueryError):
        bank.mask_for((), fit)
    (tmp_path / "bad.safetensors").write_bytes(b"junk")
    with pytest.raises(CheckpointError):
        MaskBank.load(tmp_path / "bad.safetensors")
