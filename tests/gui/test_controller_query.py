"""QueryController on a fake engine: a query enters the history only after its search succeeds, a
failed one leaves everything as it was, posebit ticks count at once and search once per burst, and the
search settings re-search only when there is a query."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from session_rig import Rig, make_rig

from posebrowser.core.query import ImageTerm, PosebitTerm, Query, SelectionTerm
from posebrowser.errors import QueryError


def image(index: int, weight: float = 1.0) -> Query:
    return Query((ImageTerm(gallery_index=index, path=None, weight=weight),))


@pytest.fixture
def rig(qtbot: Any, tmp_path: Path) -> Rig:
    return make_rig(tmp_path)


def test_a_query_enters_the_history_only_after_its_search_succeeds(rig: Rig) -> None:
    rig.queries.request_query(image(3))
    rig.queries.request_query(image(8))
    assert rig.recorder.args("history_changed")[-1] == (True, False)
    before = rig.state.results
    rig.recorder.clear()
    rig.queries.request_query(image(10_000))  # no such item: the search fails
    assert rig.state.query == image(8) and rig.state.results is before
    assert [type(error) for (error,) in rig.recorder.args("error_occurred")] == [QueryError]
    assert rig.recorder.args("query_changed") == [(image(10_000),), (image(8),)], "asked, then put back"
    assert rig.recorder.args("history_changed") == []
    rig.queries.back()
    assert rig.state.query == image(3), "the failed query never entered the history"


def test_back_and_forward_walk_the_history_without_adding_to_it(rig: Rig) -> None:
    for index in (1, 2, 3):
        rig.queries.request_query(image(index))
    rig.queries.back()
    rig.queries.back()
    assert rig.state.query == image(1) and rig.recorder.args("history_changed")[-1] == (False, True)
    rig.queries.forward()
    assert rig.state.query == image(2)
    rig.queries.back()
    rig.queries.back()  # nothing further back: nothing happens
    assert rig.state.query == image(1)


def test_clearing_the_query_clears_results_and_mask(rig: Rig) -> None:
    rig.queries.request_query(image(3))
    rig.recorder.clear()
    rig.queries.request_query(None)
    assert rig.state.query is None and rig.state.results is None
    assert [name for name in rig.recorder.names() if name != "projection_changed"] == [
        "history_changed",
        "query_changed",
        "results_changed",
        "mask_changed",
    ]
    assert rig.state.projection is not None and rig.state.projection.query_point is None


def test_ticks_count_at_once_and_search_once_per_burst(rig: Rig) -> None:
    names = rig.engine.vocabulary.names
    rig.queries.request_conditions({names[0]: 1})
    rig.queries.request_conditions({names[0]: 1, names[2]: 0})
    assert rig.engine.calls.count("count") == 2 and "search" not in rig.engine.calls
    assert rig.queries.debounce.isActive()
    rig.queries.debounce.timeout.emit()
    assert rig.engine.calls.count("search") == 1
    (term,) = rig.state.query.terms  # type: ignore[union-attr]
    assert isinstance(term, PosebitTerm) and term.conditions == ((names[0], 1), (names[2], 0))
    assert term.mode == rig.state.settings.partial_method


def test_an_image_query_clears_the_ticks_and_says_which(rig: Rig) -> None:
    bit = rig.engine.vocabulary.bits[1]
    rig.queries.request_conditions({bit.name: 0})
    rig.queries.request_image_query(5)
    assert rig.state.conditions == {} and not rig.queries.debounce.isActive()
    assert rig.recorder.args("info") == [(f"Posebit ticks cleared for the image query: not {bit.label}.",)]
    assert rig.state.query == image(5)


def test_removing_the_posebit_term_clears_the_ticks(rig: Rig) -> None:
    name = rig.engine.vocabulary.names[0]
    rig.queries.request_conditions({name: 1})
    rig.queries.debounce.timeout.emit()
    rig.queries.request_add_result_term(7, -1.0)
    assert len(rig.state.query.terms) == 2  # type: ignore[union-attr]
    rig.queries.request_remove_term(0)
    assert rig.state.conditions == {} and rig.state.query == image(7, -1.0)
    rig.queries.request_remove_term(5)  # out of range: ignored
    assert rig.state.query == image(7, -1.0)


def test_a_bad_selection_name_is_refused_and_the_chip_shows_the_old_one(rig: Rig) -> None:
    rig.queries.request_selection_query()
    assert rig.recorder.args("message") == [("Select points in the projection first (lasso).",)]
    rig.state.set_selection([4, 9])
    rig.queries.request_selection_query()
    term = rig.state.query.terms[0]  # type: ignore[union-attr]
    assert isinstance(term, SelectionTerm) and term.name == "selection 1" and term.indices == (4, 9)
    rig.recorder.clear()
    rig.queries.request_term_name(0, '"')
    assert [type(e) for (e,) in rig.recorder.args("error_occurred")] == [QueryError]
    assert rig.recorder.args("query_changed") == [(rig.state.query,)]
    rig.queries.request_term_name(0, "  arms   up ")
    assert rig.state.query.terms[0].name == "arms up"  # type: ignore[union-attr]


def test_a_typed_expression_that_does_not_parse_changes_nothing(rig: Rig) -> None:
    rig.queries.request_query(image(2))
    rig.queries.request_expression("[img 4] + 0.5 * [img 6]")
    assert [t.gallery_index for t in rig.state.query.terms] == [4, 6]  # type: ignore[union-attr]
    rig.recorder.clear()
    rig.queries.request_expression("[img 4")
    assert [type(e) for (e,) in rig.recorder.args("error_occurred")] == [QueryError]
    assert [t.gallery_index for t in rig.state.query.terms] == [4, 6]  # type: ignore[union-attr]


def test_the_result_count_is_clamped_and_researches_only_a_query(rig: Rig) -> None:
    rig.queries.set_result_count(5000)
    assert rig.state.settings.k == 1000 and "search" not in rig.engine.calls
    rig.queries.request_query(image(3))
    rig.queries.set_result_count(0)
    assert rig.state.settings.k == 1 and len(rig.state.results.indices) == 1  # type: ignore[union-attr]
    searches = rig.engine.calls.count("search")
    rig.queries.set_result_count(1)  # unchanged: no search
    assert rig.engine.calls.count("search") == searches


def test_split_and_posebit_filter_recount_and_refilter(rig: Rig) -> None:
    gallery, name = rig.engine.gallery, rig.engine.vocabulary.names[0]
    rig.queries.request_query(image(3))
    rig.queries.set_split("val")
    (visible,) = rig.recorder.args("gallery_filter_changed")[-1]
    assert set(visible) == set(gallery.split_indices("val"))
    assert set(rig.state.results.indices) <= set(gallery.split_indices("val"))  # type: ignore[union-attr]
    rig.queries.request_conditions({name: 1})
    rig.queries.set_filter_by_posebits(True)
    (visible,) = rig.recorder.args("gallery_filter_changed")[-1]
    column = gallery.posebits[:, 0]
    assert set(visible) == set(gallery.split_indices("val")) & set((column == 1).nonzero()[0])


def test_the_match_count_counts_the_split_in_view(rig: Rig) -> None:
    gallery, name = rig.engine.gallery, rig.engine.vocabulary.names[0]
    holders = gallery.posebits[:, 0] == 1
    rig.queries.set_split("val")
    assert rig.recorder.args("match_count_changed")[-1] == (len(gallery.split_indices("val")),)
    rig.queries.request_conditions({name: 1})
    expected = int(holders[gallery.split_indices("val")].sum())
    assert expected != int(holders.sum())
    assert rig.recorder.args("match_count_changed")[-1] == (expected,)
    rig.queries.set_split(None)
    assert rig.recorder.args("match_count_changed")[-1] == (int(holders.sum()),)


def test_a_new_partial_method_researches_only_with_ticks(rig: Rig) -> None:
    rig.queries.set_partial_method("mask")
    assert not rig.queries.debounce.isActive()
    rig.queries.request_conditions({rig.engine.vocabulary.names[0]: 1})
    rig.queries.debounce.stop()
    rig.queries.set_partial_method("conditional")
    assert rig.queries.debounce.isActive()


def test_weighting_the_asked_bits_is_a_search_setting(rig: Rig) -> None:
    name = rig.engine.vocabulary.names[0]
    rig.queries.request_conditions({name: 1})
    rig.queries.debounce.timeout.emit()
    assert rig.engine.contrasts[-1] is None  # the engine's own setting: the app's conditional query
    searches = rig.engine.calls.count("search")
    rig.queries.set_weight_asked_bits(False)
    assert rig.state.settings.weight_asked_bits is False
    assert rig.engine.calls.count("search") == searches + 1 and rig.engine.contrasts[-1] == 0.0
    rig.queries.set_weight_asked_bits(False)  # no change: no search
    assert rig.engine.calls.count("search") == searches + 1
    rig.queries.request_query(image(3))
    rig.queries.set_weight_asked_bits(True)  # an image query has nothing to weight: no search
    assert rig.engine.calls.count("search") == searches + 2 and rig.state.settings.weight_asked_bits
