"""The linear probe that fits fresh auxiliary heads before a fine-tune, against a closed-form oracle."""

from __future__ import annotations

import numpy as np
import torch

from posebrowser.training.aux_heads import GAIN, AuxJointHead, fit_heads_on_frozen


def _embeddings_and_joints(count: int, seed: int) -> tuple[torch.Tensor, np.ndarray]:
    """Unit embeddings and 2-D joints that are an exact linear function of them (plus a little noise)."""
    rng = np.random.default_rng(seed)
    embeddings = rng.normal(size=(count, 128)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    joints = 40 + embeddings @ rng.normal(size=(128, 32)).astype(np.float32) * 30
    joints += rng.normal(scale=0.5, size=joints.shape).astype(np.float32)
    return torch.from_numpy(embeddings), joints.reshape(count, 16, 2)


def _least_squares_loss(head: AuxJointHead, embeddings: torch.Tensor) -> float:
    """The lowest mean-squared error any Linear(128 → 32) on GAIN × embeddings can reach (the oracle)."""
    inputs = np.hstack([GAIN * embeddings.numpy(), np.ones((len(embeddings), 1), np.float32)])
    targets = head.plain.numpy()
    solution, *_ = np.linalg.lstsq(inputs, targets, rcond=None)
    return float(np.mean((inputs @ solution - targets) ** 2))


def test_the_probe_fits_a_fresh_head_close_to_the_least_squares_optimum() -> None:
    torch.manual_seed(0)
    embeddings, joints = _embeddings_and_joints(600, seed=1)
    head = AuxJointHead("joints_2d", joints, 128, torch.device("cpu"))
    rows = np.arange(600)
    before = head.loss(embeddings, rows, False).item()
    after = fit_heads_on_frozen(embeddings, [(2.0, head.loss, list(head.head.parameters()))])
    best = _least_squares_loss(head, embeddings)
    assert after / 2.0 <= best * 1.05 + 1e-4  # the term is weighted by 2
    assert head.loss(embeddings, rows, False).item() < before / 10
    assert not embeddings.requires_grad  # the embeddings stay fixed


def test_the_probe_without_heads_does_nothing() -> None:
    assert fit_heads_on_frozen(torch.zeros(4, 128), []) == 0.0
