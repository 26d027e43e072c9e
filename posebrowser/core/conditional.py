"""Conditional completion of a partial posebyte (the thesis' method, generalised to many conditions at once).

Posebytes are modelled as samples of a multivariate normal fitted on the training posebytes:
mean μ (B,) and biased covariance Σ (B, B). Given values v_C for the set bits C, the don't-care bits A
are filled with the conditional mean ``μ_A + Σ_AC (Σ_CC + λI)⁻¹ (v_C − μ_C)``. The small ridge λ keeps the
solve stable when bits are strongly correlated or constant (the thesis inverted Σ and failed on those).

The completed posebyte sets one asked bit among ~170 guessed ones, so its embedding barely depends on the
asked bit. :func:`contrast_query` puts weight back on it: it moves the query away from the embeddings of
the completions with each asked bit flipped (:data:`CONDITIONAL_CONTRAST`; 0 = the thesis' query).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from posebrowser.errors import DataError, QueryError

CONDITIONAL_CONTRAST = 4.0
"""Asked-bit contrast of the conditional query, chosen on the validation halves, never on test.
Single-bit questions (precision@10 of the posebit-net query), contrast 0 / 1 / 2 / 3 / 4 / 8 / 16 →
61.9 / 67.9 / 70.0 / 71.0 / 71.5 / 71.2 / 71.0 %. A fixed contrast hurt queries of 3+ bits (3 bits: 40.0 →
37.3 % precision@10; 20 bits: 69.5 → 68.1 % bit agreement), so it is shared among the asked bits
(strength / n): 2 bits 42.5 → 46.7, 3 bits 40.0 → 39.3, 5 / 20 / 80 bits level (±0.2)."""


def contrast_query(
    completed: NDArray[np.floating], flipped: NDArray[np.floating], strength: float = CONDITIONAL_CONTRAST
) -> NDArray[np.float32]:
    """Unit query ``q ∝ e + (strength / n) · mean_c (e − f_c)`` over the n asked bits: ``completed`` e (D,) is
    the embedding of the completed posebyte, ``flipped`` (n, D) those of the completions with asked bit c
    flipped (all unit vectors).

    For unit e and f, ``(1 + s) e − s f`` is never zero, so the result is always defined. Raises
    :class:`QueryError` for a negative strength or shapes that do not match.
    """
    e = np.asarray(completed, dtype=np.float64).reshape(-1)
    f = np.asarray(flipped, dtype=np.float64)
    if strength < 0 or not np.isfinite(strength):
        raise QueryError(f"The asked-bit contrast must be 0 or more (got {strength}).")
    if f.ndim != 2 or f.shape[1] != e.shape[0] or len(f) == 0:
        raise QueryError(f"Flipped completions of shape {f.shape} do not match an embedding of {e.shape}.")
    query = e + strength / len(f) * (e[None, :] - f).mean(axis=0)
    unit: NDArray[np.float32] = (query / np.linalg.norm(query)).astype(np.float32)
    return unit


@dataclass(frozen=True)
class Completion:
    """A completed posebyte: ``soft`` (B,) float32 conditional means (conditioned bits exactly v) and
    ``posebyte`` (B,) uint8 = soft rounded (halves to even, as numpy) and clipped to {0, 1}."""

    soft: NDArray[np.float32]
    posebyte: NDArray[np.uint8]


class ConditionalPosebyteModel:
    """Gaussian model of posebytes; fit with :meth:`fit`, query with :meth:`complete`."""

    def __init__(self, mean: NDArray[np.float64], covariance: NDArray[np.float64], ridge: float) -> None:
        self.mean = mean
        self.covariance = covariance
        self.ridge = ridge

    @property
    def bit_count(self) -> int:
        return int(self.mean.shape[0])

    @classmethod
    def fit(cls, train_posebytes: NDArray[np.integer], ridge: float = 1e-3) -> ConditionalPosebyteModel:
        """Fit on (N, B) posebytes with values 1 / 0 / -1 (unknown); unknowns are imputed with the bit mean.

        Raises :class:`DataError` when there are no rows.
        """
        x = np.asarray(train_posebytes, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] == 0:
            raise DataError("Cannot fit the conditional posebyte model: no training posebytes.")
        known = x >= 0
        counts = known.sum(axis=0)
        sums = np.where(known, x, 0.0).sum(axis=0)
        mean = np.where(counts > 0, sums / np.maximum(counts, 1), 0.5)
        filled = np.where(known, x, mean[None, :])
        centred = filled - mean[None, :]
        covariance = centred.T @ centred / x.shape[0]
        return cls(mean, covariance, float(ridge))

    def complete(self, conditions: Mapping[int, int]) -> Completion:
        """Condition on ALL ``conditions`` {bit index → 0/1} at once and return the completed posebyte."""
        b = self.bit_count
        if not conditions:
            soft = self.mean.copy()
        else:
            cond = np.array(sorted(conditions), dtype=np.int64)
            if cond.min() < 0 or cond.max() >= b:
                raise QueryError(f"A posebit index is outside 0..{b - 1}.")
            values = np.array([float(conditions[int(i)]) for i in cond])
            if np.any((values != 0.0) & (values != 1.0)):
                raise QueryError("Posebit conditions must be 0 or 1.")
            free = np.setdiff1d(np.arange(b), cond)
            sigma_cc = self.covariance[np.ix_(cond, cond)] + self.ridge * np.eye(len(cond))
            sigma_ac = self.covariance[np.ix_(free, cond)]
            shift = np.linalg.solve(sigma_cc, values - self.mean[cond])
            soft = np.empty(b)
            soft[free] = self.mean[free] + sigma_ac @ shift
            soft[cond] = values
        posebyte = np.clip(np.round(soft), 0, 1).astype(np.uint8)
        return Completion(soft.astype(np.float32), posebyte)
