"""Pure query-editing helpers: history cursor, posebit-term replacement, re-weighting."""

from __future__ import annotations

import pytest

from posebrowser.core.query import ImageTerm, PosebitTerm, Query
from posebrowser.errors import QueryError
from posebrowser.gui.query_edit import QueryHistory, posebit_mode, reweighted, with_conditions


def test_history_back_forward_and_branching() -> None:
    history = QueryHistory()
    first, second, third = (Query.image(i) for i in range(3))
    assert history.back() is None and not history.can_go_forward
    history.push(first)
    history.push(second)
    assert history.back() == first and history.back() is None
    assert history.forward() == second and not history.can_go_forward
    history.back()
    history.push(third)  # a new query after going back drops the old forward branch
    assert not history.can_go_forward and history.back() == first


def test_with_conditions_replaces_or_composes() -> None:
    click = Query.image(4)
    assert with_conditions(click, (("a", 1),), "mask") == Query((PosebitTerm((("a", 1),), "mask"),))
    composed = Query((ImageTerm(4), ImageTerm(5, weight=-1.0)))
    refined = with_conditions(composed, (("b", 0),), "conditional")
    assert refined is not None and refined.terms[:2] == composed.terms and len(refined.terms) == 3
    weighted = Query((ImageTerm(4), PosebitTerm((("a", 1),), weight=2.0)))
    again = with_conditions(weighted, (("a", 0), ("b", 1)), "conditional")
    assert again is not None and again.terms[1].weight == 2.0
    assert with_conditions(Query((PosebitTerm((("a", 1),)),)), (), "conditional") is None
    assert reweighted(ImageTerm(path="x.png"), -0.5) == ImageTerm(path="x.png", weight=-0.5)
    with pytest.raises(QueryError):
        posebit_mode("sideways")
