"""tools/rerank_screen.py: database-side augmentation and α query expansion against a loop over rows."""

from __future__ import annotations

import numpy as np
from script_loader import load_script


def _rows(count: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(count, 8))
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _expected(anchor: np.ndarray, database: np.ndarray, k: int, alpha: float) -> np.ndarray:
    similarity = database @ anchor
    total = np.zeros_like(anchor)
    for index in sorted(range(len(database)), key=lambda i: -similarity[i])[:k]:
        total += max(similarity[index], 0.0) ** alpha * database[index]
    return total


def test_database_augmentation_is_the_weighted_mean_of_each_rows_neighbours() -> None:
    tool = load_script("tools/rerank_screen.py")
    database = _rows(40, 0)
    augmented = tool.database_augmentation(database, 5, 3.0)
    for row, result in zip(database, augmented, strict=True):
        expected = _expected(row, database, 5, 3.0)
        np.testing.assert_allclose(result, expected / np.linalg.norm(expected), atol=1e-12)
    # k = 1 keeps each row: its nearest row is itself, with similarity 1.
    np.testing.assert_allclose(tool.database_augmentation(database, 1, 1.0), database, atol=1e-12)


def test_query_expansion_adds_the_querys_weighted_neighbours() -> None:
    tool = load_script("tools/rerank_screen.py")
    database, queries = _rows(40, 1), _rows(6, 2)
    expanded = tool.query_expansion(queries, database, 3, 1.0)
    for query, result in zip(queries, expanded, strict=True):
        expected = query + _expected(query, database, 3, 1.0)
        np.testing.assert_allclose(result, expected / np.linalg.norm(expected), atol=1e-12)
