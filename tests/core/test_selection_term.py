"""A named selection as one query term: its expression round-trips and it searches with the centroid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from core_fakes import clustered, make_gallery

from posebrowser.core.engine import RetrievalEngine
from posebrowser.core.query import ImageTerm, NamesVocabulary, Query, SelectionTerm
from posebrowser.core.query_parser import parse_query
from posebrowser.errors import QueryError


def test_selection_expression_round_trips() -> None:
    query = Query((ImageTerm(gallery_index=2), SelectionTerm((9, 3, 3, 5), "arms   up", -0.5)))
    assert query.terms[1] == SelectionTerm((3, 5, 9), "arms up", -0.5)
    assert query.to_expr() == '[img 2] - 0.5*[sel "arms up": 3 5 9]'
    assert parse_query(query.to_expr(), NamesVocabulary(["a"])) == query
    for bad in ((), (-1,)):
        with pytest.raises(QueryError):
            SelectionTerm(bad)
    for name in ('a "b"', "x]y", "  "):
        with pytest.raises(QueryError):
            SelectionTerm((1,), name)


def test_selection_searches_with_the_centroid(tmp_path: Path) -> None:
    embeddings = clustered(200, dim=16, seed=4)
    engine = RetrievalEngine.from_arrays(make_gallery(tmp_path, 200, None, ()), embeddings)
    members = (4, 8, 15, 16, 23, 42)
    result = engine.search(Query((SelectionTerm(members, "numbers"),)), k=5)
    centroid = embeddings[list(members)].mean(axis=0)
    np.testing.assert_allclose(result.query_vector, centroid / np.linalg.norm(centroid), atol=1e-6)
    spelled = engine.search(Query(tuple(ImageTerm(gallery_index=i) for i in members)), k=5)
    np.testing.assert_array_equal(result.indices, spelled.indices)
    with pytest.raises(QueryError):
        engine.search(Query((SelectionTerm((3, 999)),)))
