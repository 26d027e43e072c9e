"""Queries: building them (image, expression, result terms, lasso selection, posebit ticks), searching
them, the back/forward history, and the search settings (result count, split, posebit filter).

A query becomes the current one — and enters the history — only when its search succeeds; a failed
query reports its error and leaves the previous query, results and history as they were. Posebit ticks
update the live match count at once and search once per debounce interval (a burst of ticks is one
search).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer

from posebrowser.core.query import ImageTerm, PosebitTerm, Query, SelectionTerm, Term
from posebrowser.core.query_parser import parse_query
from posebrowser.errors import PosebrowserError, QueryError
from posebrowser.gui import analysis
from posebrowser.gui.controllers.projection import ProjectionController
from posebrowser.gui.query_edit import QueryHistory, next_selection_name, renamed, reweighted, with_conditions
from posebrowser.gui.session_state import SessionState
from posebrowser.gui.state import ResultsState
from posebrowser.gui.workers import JobContext, Workers


class QueryController(QObject):
    """Query, history, posebit and search-setting intents of a session; see the module docstring."""

    def __init__(
        self,
        state: SessionState,
        workers: Workers,
        projections: ProjectionController,
        debounce_ms: int = 150,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.workers = workers
        self.projections = projections
        self.history = QueryHistory()
        #: Fires one search after a burst of posebit ticks (tests fire it directly).
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(debounce_ms)
        self.debounce.timeout.connect(self._search_from_conditions)

    def reset(self) -> None:
        """A new gallery: an empty history."""
        self.history = QueryHistory()

    # ------------------------------------------------------------------ building queries
    def request_image_query(self, index: int) -> None:
        self._clear_ticks_for_image_query()
        self.request_query(Query((ImageTerm(gallery_index=int(index), path=None, weight=1.0),)))

    def request_image_file(self, path: str) -> None:
        self._clear_ticks_for_image_query()
        self.request_query(Query((ImageTerm(gallery_index=None, path=str(path), weight=1.0),)))

    def _clear_ticks_for_image_query(self) -> None:
        """A new image query replaces the whole query, so the posebit ticks (which would otherwise stay
        ticked, unused by the query yet still defining the Subspace map) are cleared — and it is said."""
        state = self.state
        if not state.conditions:
            return
        labels = state.bit_labels()
        cleared = ", ".join(("not " * (1 - v)) + labels.get(n, n) for n, v in state.ordered_conditions())
        self.debounce.stop()
        state.set_conditions({})
        self.refresh_filter_and_count()
        state.info.emit(f"Posebit ticks cleared for the image query: {cleared}.")
        if state.settings.subspace:  # the subspace map follows the ticks
            self.projections.request_projection()

    def request_expression(self, text: str) -> None:
        """Search a typed query expression; a parse error is reported and changes nothing."""
        if self.state.engine is None:
            return
        try:
            query = parse_query(text, self.state.engine.vocabulary)
        except (PosebrowserError, ValueError) as error:
            self.state.error_occurred.emit(
                error if isinstance(error, PosebrowserError) else QueryError(str(error))
            )
            return
        self.request_query(query)

    def request_add_result_term(self, index: int, sign: float) -> None:
        """Add gallery image ``index`` to the current query with weight ``sign`` (+1 / −1)."""
        term = ImageTerm(gallery_index=int(index), path=None, weight=float(sign))
        self.request_query(Query((*self._terms(), term)))

    def request_remove_term(self, position: int) -> None:
        """Drop the term at ``position``; dropping the posebit term also clears the ticks."""
        query = self.state.query
        if query is None or not 0 <= position < len(query.terms):
            return
        terms = tuple(t for i, t in enumerate(query.terms) if i != position)
        if isinstance(query.terms[position], PosebitTerm):
            self.state.set_conditions({})
            self.refresh_filter_and_count()
        self.request_query(Query(terms) if terms else None)

    def request_term_weight(self, position: int, weight: float) -> None:
        query = self.state.query
        if query is None or not 0 <= position < len(query.terms):
            return
        terms = list(query.terms)
        terms[position] = reweighted(terms[position], float(weight))
        self.request_query(Query(tuple(terms)))

    def request_selection_query(self) -> None:
        """Add the lasso selection to the query as ONE named term: the centroid of the selected
        embeddings ("selection 1", … — rename it on its chip)."""
        state = self.state
        if state.selection.size == 0:
            state.message.emit("Select points in the projection first (lasso).")
            return
        term = SelectionTerm(
            indices=tuple(int(i) for i in state.selection), name=next_selection_name(state.query)
        )
        self.request_query(Query((*self._terms(), term)))

    def request_term_name(self, position: int, name: str) -> None:
        """Rename the selection term at ``position`` (a bad name is reported, the old one stays)."""
        query = self.state.query
        if query is None or not 0 <= position < len(query.terms):
            return
        term = query.terms[position]
        if not isinstance(term, SelectionTerm) or term.name == " ".join(name.split()):
            return
        try:
            terms = list(query.terms)
            terms[position] = renamed(term, name)
        except QueryError as error:
            self.state.error_occurred.emit(error)
            self.state.query_changed.emit(query)  # the chip shows the old name again
            return
        self.request_query(Query(tuple(terms)))

    def _terms(self) -> tuple[Term, ...]:
        return tuple(self.state.query.terms) if self.state.query is not None else ()

    # ------------------------------------------------------------------ searching and history
    def request_query(self, query: Query | None, push_history: bool = True) -> None:
        """Search ``query`` (None clears the results). It becomes the current query — and enters the
        history — only when its search succeeds; a failed query (an unreadable file, say) reports its error
        and leaves the previous query, results and history as they were."""
        state = self.state
        if query is None:
            state.query = None
            self.announce_history()
            state.query_changed.emit(None)
            state.set_results(None)
            state.mask_changed.emit(None)
            self.projections.place_query_point()
            return
        previous = state.query
        state.set_query(query)

        def succeeded() -> None:
            if push_history:
                self.history.push(query)
            self.announce_history()

        def failed(error: BaseException) -> None:
            if state.query is query:  # nothing newer was asked meanwhile: put the previous query back
                state.set_query(previous)
            state.error_occurred.emit(error)

        self._search(query, succeeded, failed)

    def back(self) -> None:
        query = self.history.back()
        if query is not None:
            self.request_query(query, push_history=False)

    def forward(self) -> None:
        query = self.history.forward()
        if query is not None:
            self.request_query(query, push_history=False)

    def announce_history(self) -> None:
        self.state.history_changed.emit(self.history.can_go_back, self.history.can_go_forward)

    def _search(
        self,
        query: Query,
        succeeded: Callable[[], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        engine, k, split = self.state.engine, self.state.settings.k, self.state.settings.split
        if engine is None:
            return
        contrast = None if self.state.settings.weight_asked_bits else 0.0

        def job(ctx: JobContext) -> ResultsState:
            result = engine.search(query, k=k, split=split, contrast=contrast)
            return analysis.results_state(engine, query, result, split)

        def done(results: ResultsState) -> None:
            self._show_results(results)
            if succeeded is not None:
                succeeded()

        self.workers.submit("search", job, done, on_error=failed or self.state.error_occurred.emit)

    def _show_results(self, results: ResultsState) -> None:
        self.state.set_results(results)
        mask = getattr(results.result, "mask", None)
        self.state.mask_changed.emit(None if mask is None else np.asarray(mask, dtype=np.float32))
        self.projections.results_updated()

    # ------------------------------------------------------------------ posebit ticks
    def request_conditions(self, conditions: dict[str, int]) -> None:
        """New tri-state choice from the posebit panel: live count now, one search per debounce burst."""
        self.state.set_conditions(conditions)
        self.refresh_filter_and_count()
        self.debounce.start()

    def _search_from_conditions(self) -> None:
        state = self.state
        if state.engine is None:
            return
        conditions = state.ordered_conditions()
        mode = "full" if len(conditions) == len(state.engine.vocabulary) else state.settings.partial_method
        self.request_query(with_conditions(state.query, conditions, mode))
        if state.settings.subspace:  # the subspace map follows the asked posebits
            self.projections.request_projection()

    def refresh_filter_and_count(self) -> None:
        """Recount the items matching the ticks in the split in view (every item of it without ticks) and
        recompute the gallery's visible items (light lane)."""
        state = self.state
        engine = state.engine
        if engine is None:
            return
        conditions, split = state.ordered_conditions(), state.settings.split
        use_bits = state.settings.filter_by_posebits

        def job(ctx: JobContext) -> tuple[int, np.ndarray]:
            visible = analysis.visible_indices(engine.gallery, split, conditions if use_bits else ())
            if not conditions:  # no ticks: every item of the split, which is what the gallery shows
                return len(visible), visible
            return int(engine.count_matching(conditions, split=split)), visible

        def done(value: tuple[int, np.ndarray]) -> None:
            state.match_count_changed.emit(value[0])
            state.gallery_filter_changed.emit(value[1])

        self.workers.submit("count", job, done, lane="light", on_error=state.error_occurred.emit)

    # ------------------------------------------------------------------ search settings
    def set_partial_method(self, method: str) -> None:
        self.state.settings.partial_method = method
        self.state.settings_changed.emit()
        if self.state.conditions:
            self.debounce.start()

    def set_weight_asked_bits(self, enabled: bool) -> None:
        """Conditional queries weight the ticked bits (on) or are the thesis' plain completion (off);
        re-searches a query that holds a conditional posebit term."""
        if bool(enabled) == self.state.settings.weight_asked_bits:
            return
        self.state.settings.weight_asked_bits = bool(enabled)
        self.state.settings_changed.emit()
        query = self.state.query
        if query is not None and any(
            isinstance(term, PosebitTerm) and term.mode == "conditional" for term in query.terms
        ):
            self._search(query)

    def set_result_count(self, k: int) -> None:
        """How many results a query returns (1–1000); re-searches the current query."""
        k = max(1, min(1000, int(k)))
        if k == self.state.settings.k:
            return
        self.state.settings.k = k
        self.state.settings_changed.emit()
        if self.state.query is not None:
            self._search(self.state.query)

    def set_split(self, split: str | None) -> None:
        self.state.settings.split = split
        self.state.settings_changed.emit()
        self.refresh_filter_and_count()
        if self.state.query is not None:
            self._search(self.state.query)

    def set_filter_by_posebits(self, enabled: bool) -> None:
        self.state.settings.filter_by_posebits = bool(enabled)
        self.state.settings_changed.emit()
        self.refresh_filter_and_count()
