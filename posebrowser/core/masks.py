"""Masks for origin queries by warping (the thesis' masks), fitted on the fly for any set of conditions.

A mask is a (128,) float32 weight vector m. Items are ranked by ``‖m ⊙ e‖`` (distance to the origin of the
warped space): a good mask for "right knee bent AND left knee bent" maps items satisfying all conditions
close to the origin. It is fitted with the thesis' origin-anchored triplet loss over (positive, negative)
pairs ``mean max(0, ‖m⊙p‖ − ‖m⊙n‖ + margin)`` with SGD (Nesterov momentum, weight decay), using an analytic
gradient in numpy, so a fit takes well under a second on a CPU. The thesis needed an offline run per subset.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from posebrowser.errors import CheckpointError, QueryError

F32 = NDArray[np.float32]
Conditions = tuple[tuple[str, int], ...]


def posebit_agreement(
    posebits: NDArray[np.integer], conditions: Sequence[tuple[int | None, int]]
) -> NDArray[np.int8]:
    """(N, C) int8: does each row of ``posebits`` (N, B) (1 / 0 / -1 unknown) have the asked value of
    condition c = (column, value)? 1 agrees, 0 clashes, -1 unknown (an unknown bit, or column None: the
    gallery has no such bit). The one place that compares annotations with asked posebits."""
    agreement = np.full((posebits.shape[0], len(conditions)), -1, dtype=np.int8)
    for c, (column, value) in enumerate(conditions):
        if column is not None:
            bits = posebits[:, column]
            agreement[:, c] = np.where(bits < 0, -1, bits == value)
    return agreement


def satisfies(posebits: NDArray[np.integer], conditions: Mapping[int, int]) -> NDArray[np.bool_]:
    """(N,) bool: rows of ``posebits`` (N, B) int8 (1/0/-1 unknown) meeting every {bit index → value}.

    An unknown bit (-1) never satisfies a condition.
    """
    return np.asarray(np.all(posebit_agreement(posebits, list(conditions.items())) == 1, axis=1))


def _norms(x: NDArray[np.float64], mask: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(np.sqrt(np.square(x * mask).sum(axis=1) + 1e-12), dtype=np.float64)


def origin_triplet_loss(
    mask: NDArray[np.float64],
    positives: NDArray[np.float64],
    negatives: NDArray[np.float64],
    margin: float,
    weight_decay: float,
) -> tuple[float, NDArray[np.float64]]:
    """The loss ``fit_mask`` minimises and its analytic gradient with respect to ``mask`` (D,).

    loss = mean over all (positive, negative) pairs of max(0, ‖m⊙p‖ − ‖m⊙n‖ + margin) + ½·weight_decay·‖m‖²,
    using d‖m⊙x‖/dm = m ⊙ x² / ‖m⊙x‖ (hand-written: a 200-step fit takes ~60 ms, ~1.6 s with torch autograd;
    tests/core/test_masks.py checks it against torch autograd).
    """
    p_norm, n_norm = _norms(positives, mask), _norms(negatives, mask)
    hinge = p_norm[:, None] - n_norm[None, :] + margin  # (P, Nn)
    active = hinge > 0
    pairs = active.size
    loss = float(np.maximum(hinge, 0.0).sum() / pairs + 0.5 * weight_decay * np.square(mask).sum())
    grad_p = (active.sum(axis=1) / p_norm) @ np.square(positives)
    grad_n = (active.sum(axis=0) / n_norm) @ np.square(negatives)
    return loss, mask * (grad_p - grad_n) / pairs + weight_decay * mask


FITTED_MASK_MARGIN = 0.05
"""Margin of the masks fitted on the fly. Chosen on the validation halves (questions of 2–3 bits read off
the first half's poses, precision@10 of the second half; two question sets of 60 and 120): margin 0.2 /
0.1 / 0.05 / 0.02 → 35.7 / 36.7 / 38.3 / – and 47.9 / 48.6 / 50.0 / 49.2 %."""


def fit_mask(
    embeddings: NDArray[np.floating],
    positive: NDArray[np.bool_],
    steps: int = 200,
    margin: float = FITTED_MASK_MARGIN,
    seed: int = 0,
    batch: int = 128,
    learning_rate: float = 1.0,
    weight_decay: float = 5e-4,
    cancel: Callable[[], bool] | None = None,
) -> F32:
    """Fit a mask so rows with ``positive`` True lie nearer the origin than the others.

    ``embeddings`` (N, D) float, L2-normalised; ``positive`` (N,) bool with at least one True and one
    False. Each step samples ``batch`` positives and ``batch`` negatives. Returns (D,) float32, starting
    from all ones (so a useless fit stays the plain norm, which ranks nothing).
    """
    from posebrowser.errors import JobCancelledError

    emb = np.asarray(embeddings, dtype=np.float64)
    pos_rows = np.flatnonzero(positive)
    neg_rows = np.flatnonzero(~np.asarray(positive, dtype=bool))
    if len(pos_rows) == 0 or len(neg_rows) == 0:
        raise QueryError(
            "Cannot learn a mask: the training items need examples that satisfy the conditions and "
            f"examples that do not ({len(pos_rows)} satisfy, {len(neg_rows)} do not)."
        )
    rng = np.random.default_rng(seed)
    mask = np.ones(emb.shape[1])
    velocity = np.zeros_like(mask)
    momentum = 0.9
    for _ in range(steps):
        if cancel is not None and cancel():
            raise JobCancelledError("Mask fitting was cancelled.")
        p = emb[rng.choice(pos_rows, size=min(batch, len(pos_rows)), replace=len(pos_rows) < batch)]
        n = emb[rng.choice(neg_rows, size=min(batch, len(neg_rows)), replace=len(neg_rows) < batch)]
        _, grad = origin_triplet_loss(mask, p, n, margin, weight_decay)
        velocity = momentum * velocity + grad
        mask = mask - learning_rate * (grad + momentum * velocity)
    return mask.astype(np.float32)


class MaskBank:
    """Shipped single-bit masks plus a cache of masks fitted on the fly.

    Shipped masks come from ``masks.safetensors`` with keys ``"<bit name>=<0|1>"`` → (128,) float32.
    """

    def __init__(self, shipped: Mapping[str, NDArray[np.floating]] | None = None) -> None:
        self._shipped: dict[str, F32] = {
            key: np.asarray(value, dtype=np.float32).reshape(-1) for key, value in (shipped or {}).items()
        }
        self._fitted: dict[Conditions, F32] = {}

    @classmethod
    def load(cls, path: str | Path) -> MaskBank:
        """Read a masks ``.safetensors`` file (numpy, no code execution); CheckpointError if unreadable."""
        from safetensors.numpy import load_file

        try:
            return cls(load_file(str(path)))
        except Exception as exc:  # safetensors raises several unrelated types for a bad file
            raise CheckpointError(f"The mask file cannot be read ({exc}).", path=path) from exc

    def __len__(self) -> int:
        return len(self._shipped)

    def shipped(self, name: str, value: int) -> F32 | None:
        """The shipped mask for one posebit value, or None."""
        return self._shipped.get(f"{name}={int(value)}")

    def mask_for(self, conditions: Conditions, fit: Callable[[], F32]) -> F32:
        """Mask for ``conditions`` ((name, value), ...): shipped for one bit, else ``fit()`` (cached)."""
        key = tuple(sorted((name, int(value)) for name, value in conditions))
        if not key:
            raise QueryError("A mask query needs at least one posebit set to 'is' or 'is not'.")
        if len(key) == 1:
            shipped = self.shipped(*key[0])
            if shipped is not None:
                return shipped
        if key not in self._fitted:
            self._fitted[key] = np.asarray(fit(), dtype=np.float32)
        return self._fitted[key]
