"""Posebit agreement of a photo's results against chance, checked against a brute-force loop."""

from __future__ import annotations

import math

import numpy as np
import pytest

from posebrowser.evaluation.photo_agreement import agreement_shares, photo_agreement


def _brute_share(row: np.ndarray, photo: np.ndarray) -> float:
    agree = total = 0
    for mine, theirs in zip(photo, row, strict=True):
        if mine < 0 or theirs < 0:
            continue
        total += 1
        agree += int(mine == theirs)
    return agree / total if total else math.nan


def test_shares_match_a_brute_force_loop() -> None:
    rng = np.random.default_rng(3)
    database = rng.integers(-1, 2, size=(200, 12)).astype(np.int8)
    photo = rng.integers(-1, 2, size=12).astype(np.int8)
    shares = agreement_shares(database, photo)
    for row, share in zip(database, shares, strict=True):
        expected = _brute_share(row, photo)
        assert (math.isnan(share) and math.isnan(expected)) or share == pytest.approx(expected)


def test_results_and_chance_are_means_over_their_rows() -> None:
    rng = np.random.default_rng(4)
    database = rng.integers(0, 2, size=(300, 9)).astype(np.int8)
    photo = database[17].copy()
    photo[[2, 5]] = -1
    searched = np.arange(100, 300)
    figures = photo_agreement(database, photo, np.array([17, 40]), searched)
    brute = [_brute_share(database[i], photo) for i in (17, 40)]
    assert figures.results == pytest.approx(np.mean(brute))
    assert figures.chance == pytest.approx(np.mean([_brute_share(database[i], photo) for i in searched]))
    assert figures.known_bits == 7


def test_the_photos_own_posebyte_agrees_fully_and_random_rows_near_half() -> None:
    rng = np.random.default_rng(5)
    database = rng.integers(0, 2, size=(5000, 20)).astype(np.int8)
    figures = photo_agreement(database, database[0], np.array([0]))
    assert figures.results == 1.0
    assert 0.45 < figures.chance < 0.55


def test_no_known_bit_gives_nan_not_an_error() -> None:
    figures = photo_agreement(np.zeros((4, 3), np.int8), np.full(3, -1, np.int8), np.array([0]))
    assert figures.known_bits == 0 and math.isnan(figures.results) and math.isnan(figures.chance)


def test_mismatched_vocabularies_are_a_clear_error() -> None:
    with pytest.raises(ValueError, match="posebits"):
        photo_agreement(np.zeros((4, 3), np.int8), np.zeros(5, np.int8), np.array([0]))
