"""How well a real photo's results match its estimated pose: posebit agreement against chance.

A real photo has no ground truth, but its pose estimate gives posebits (1 / 0, or −1 where the
estimator is not confident). Each result of a query for the photo carries exact ground-truth posebits,
so one can ask: on the bits the estimator is sure of, what share do the results agree on? *Chance* is the
same share for a result drawn at random from the searched database, so a query that understood nothing
about the pose scores about chance, and the posebyte of the photo itself scores the best the database
allows. Qt-free; used by ``tools/contact_sheet.py`` and its tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from posebrowser.core.masks import posebit_agreement


@dataclass(frozen=True)
class AgreementFigures:
    """Posebit agreement of one photo's results (shares in [0, 1]; NaN where nothing was comparable).

    Attributes:
        results: mean over the results of each result's share of agreeing bits.
        chance: the same for a result drawn uniformly from the database.
        known_bits: how many of the photo's posebits the estimator was confident about.
    """

    results: float
    chance: float
    known_bits: int


def known_conditions(photo_bits: NDArray[np.integer]) -> list[tuple[int, int]]:
    """(column, value) of every bit the estimate is confident about (value 0 or 1; −1 is left out)."""
    return [(column, int(value)) for column, value in enumerate(photo_bits) if value >= 0]


def agreement_shares(
    database_bits: NDArray[np.integer], photo_bits: NDArray[np.integer]
) -> NDArray[np.float64]:
    """(N,) share of the photo's known bits each database row agrees on (NaN where none is comparable:
    every known bit of the photo is unknown in that row)."""
    agreement = posebit_agreement(database_bits, known_conditions(photo_bits)).astype(np.float64)
    agreement[agreement < 0] = np.nan
    with np.errstate(invalid="ignore"):
        counted = np.sum(~np.isnan(agreement), axis=1)
        shares = np.nansum(agreement, axis=1) / np.where(counted > 0, counted, 1)
    shares[counted == 0] = np.nan
    return np.asarray(shares, dtype=np.float64)


def photo_agreement(
    database_bits: NDArray[np.integer],
    photo_bits: NDArray[np.integer],
    result_rows: NDArray[np.integer],
    searched_rows: NDArray[np.integer] | None = None,
) -> AgreementFigures:
    """Agreement of the results ``result_rows`` (rows of ``database_bits``) with ``photo_bits``, and the
    chance level over ``searched_rows`` (all rows when None)."""
    photo_bits = np.asarray(photo_bits)
    if database_bits.shape[1] != photo_bits.shape[0]:
        raise ValueError(
            f"The photo has {photo_bits.shape[0]} posebits but the database {database_bits.shape[1]}."
        )
    known = len(known_conditions(photo_bits))
    if known == 0:
        return AgreementFigures(results=float("nan"), chance=float("nan"), known_bits=0)
    shares = agreement_shares(database_bits, photo_bits)
    searched = np.arange(len(database_bits)) if searched_rows is None else np.asarray(searched_rows)
    return AgreementFigures(
        results=_nanmean(shares[np.asarray(result_rows, dtype=np.int64)]),
        chance=_nanmean(shares[searched]),
        known_bits=known,
    )


def _nanmean(values: NDArray[np.float64]) -> float:
    finite = values[~np.isnan(values)]
    return float(finite.mean()) if finite.size else float("nan")
