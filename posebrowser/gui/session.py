"""The session: the one object widgets talk to.

Widgets emit intents (``*_requested`` signals) that the main window connects to the ``request_*``
methods here; the session runs core work through :mod:`posebrowser.gui.workers` and announces the new
state with ``*_changed`` signals. It and its two helpers, ``session_projection.py`` and ``session_io.py``,
are the GUI modules that touch the retrieval engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from posebrowser.core.query import ImageTerm, PosebitTerm, Query, SelectionTerm
from posebrowser.core.query_parser import parse_query
from posebrowser.data.gallery_format import SPLITS
from posebrowser.errors import PosebrowserError, QueryError
from posebrowser.gui import analysis
from posebrowser.gui.query_edit import (
    QueryHistory,
    next_selection_name,
    renamed,
    reweighted,
    with_conditions,
)
from posebrowser.gui.session_projection import ProjectionMixin
from posebrowser.gui.state import ColourState, EngineInfo, ProjectionState, ResultsState, ViewSettings
from posebrowser.gui.workers import JobContext, Workers

EngineFactory = Callable[[JobContext, str | None], Any]
Conditions = tuple[tuple[str, int], ...]


class Session(ProjectionMixin, QObject):
    """State + intents of one browsing session; see the module docstring."""

    engine_changed = Signal(object)
    query_changed = Signal(object)
    results_changed = Signal(object)
    conditions_changed = Signal(object)
    settings_changed = Signal()
    match_count_changed = Signal(int)
    gallery_filter_changed = Signal(object)
    projection_changed = Signal(object)
    colours_changed = Signal(object)
    selection_changed = Signal(object)
    mask_changed = Signal(object)
    history_changed = Signal(bool, bool)
    job_started = Signal(str, str)
    job_finished = Signal(str)
    error_occurred = Signal(object)
    message = Signal(str)
    info = Signal(str)

    def __init__(
        self,
        engine_factory: EngineFactory,
        workers: Workers,
        debounce_ms: int = 150,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.workers = workers
        self.engine: Any = None
        self.gallery_path: str | None = None
        self.settings = ViewSettings()
        self.conditions: dict[str, int] = {}
        self.query: Query | None = None
        self.results: ResultsState | None = None
        self.projection: ProjectionState | None = None
        self.colours = ColourState("none", "plain", None)
        self.selection = np.zeros(0, dtype=np.int64)
        self.search_count = 0
        self._engine_factory = engine_factory
        self._history = QueryHistory()
        self._projection_cache: dict[tuple[str, Conditions], ProjectionState] = {}
        self._last_layout_draw = 0.0
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(debounce_ms)
        self._debounce.timeout.connect(self._search_from_conditions)
        #: (channel, done, total) progress of the current job on a channel.
        self.job_progress = workers.job_progress

    # ------------------------------------------------------------------ engine
    def load(self, gallery_path: str | None = None, on_loaded: Callable[[], None] | None = None) -> None:
        """Open the engine on the compute lane (heavy imports happen there, after the window shows)."""
        self.job_started.emit("engine", "Loading gallery and model…")

        def done(engine: Any) -> None:
            self.job_finished.emit("engine")
            self._set_engine(engine, gallery_path)
            if on_loaded is not None:
                on_loaded()

        self.workers.submit(
            "engine",
            lambda ctx: self._engine_factory(ctx, gallery_path),
            done,
            on_error=self._job_error("engine"),
        )

    def _set_engine(self, engine: Any, gallery_path: str | None) -> None:
        self.workers.discard(keep=("engine",))
        self.engine = engine
        self.gallery_path = gallery_path if gallery_path is not None else str(engine.gallery.root)
        self.conditions = {}
        self._projection_cache.clear()
        self._history = QueryHistory()
        for warning in getattr(engine, "warnings", ()):
            self.message.emit(str(warning))
        self.query, self.results, self.projection = None, None, None
        self.selection = np.zeros(0, dtype=np.int64)
        self.settings.split = default_split(engine)
        self.settings_changed.emit()
        self.engine_changed.emit(self.engine_info())
        self.conditions_changed.emit(dict(self.conditions))
        self.query_changed.emit(None)
        self.results_changed.emit(None)
        self.selection_changed.emit(self.selection)
        self._emit_history()
        self.refresh_filter_and_count()
        self.request_projection()

    def engine_info(self) -> EngineInfo:
        engine = self.engine
        return EngineInfo(
            gallery_name=str(getattr(engine.gallery, "name", "gallery")),
            gallery_size=len(engine.gallery),
            model_name=_model_name(engine),
            device=str(engine.device.name),
            device_reason=str(getattr(engine.device, "reason", "")),
            index_kind=str(engine.index.kind),
        )

    def image_path(self, index: int) -> str:
        return str(self.engine.gallery.image_path(int(index)))

    @property
    def gallery_size(self) -> int:
        return 0 if self.engine is None else len(self.engine.gallery)

    # ------------------------------------------------------------------ queries
    def request_image_query(self, index: int) -> None:
        self._clear_ticks_for_image_query()
        self.request_query(Query((ImageTerm(gallery_index=int(index), path=None, weight=1.0),)))

    def request_image_file(self, path: str) -> None:
        self._clear_ticks_for_image_query()
        self.request_query(Query((ImageTerm(gallery_index=None, path=str(path), weight=1.0),)))

    def _clear_ticks_for_image_query(self) -> None:
        """A new image query replaces the whole query, so the posebit ticks (which would otherwise stay
        ticked, unused by the query yet still defining the Subspace map) are cleared — and it is said."""
        if not self.conditions:
            return
        labels = {bit.name: bit.label for bit in getattr(self.engine.vocabulary, "bits", ())}
        cleared = ", ".join(("not " * (1 - v)) + labels.get(n, n) for n, v in self.ordered_conditions())
        self._debounce.stop()
        self.conditions = {}
        self.conditions_changed.emit({})
        self.refresh_filter_and_count()
        self.info.emit(f"Posebit ticks cleared for the image query: {cleared}.")
        if self.settings.subspace:  # the subspace map follows the ticks
            self.request_projection()

    def request_expression(self, text: str) -> None:
        if self.engine is None:
            return
        try:
            query = parse_query(text, self.engine.vocabulary)
        except (PosebrowserError, ValueError) as error:
            self.error_occurred.emit(error if isinstance(error, PosebrowserError) else QueryError(str(error)))
            return
        self.request_query(query)

    def request_add_result_term(self, index: int, sign: float) -> None:
        """Add gallery image ``index`` to the current query with weight ``sign`` (+1 / −1)."""
        terms = tuple(self.query.terms) if self.query is not None else ()
        self.request_query(
            Query((*terms, ImageTerm(gallery_index=int(index), path=None, weight=float(sign))))
        )

    def request_remove_term(self, position: int) -> None:
        if self.query is None or not 0 <= position < len(self.query.terms):
            return
        terms = tuple(t for i, t in enumerate(self.query.terms) if i != position)
        removed = self.query.terms[position]
        if isinstance(removed, PosebitTerm):
            self.conditions = {}
            self.conditions_changed.emit({})
            self.refresh_filter_and_count()
        self.request_query(Query(terms) if terms else None)

    def request_term_weight(self, position: int, weight: float) -> None:
        if self.query is None or not 0 <= position < len(self.query.terms):
            return
        terms = list(self.query.terms)
        terms[position] = reweighted(terms[position], float(weight))
        self.request_query(Query(tuple(terms)))

    def request_selection_query(self) -> None:
        """Add the lasso selection to the query as ONE named term: the centroid of the selected
        embeddings ("selection 1", … — rename it on its chip)."""
        if self.selection.size == 0:
            self.message.emit("Select points in the projection first (lasso).")
            return
        terms = tuple(self.query.terms) if self.query is not None else ()
        term = SelectionTerm(
            indices=tuple(int(i) for i in self.selection), name=next_selection_name(self.query)
        )
        self.request_query(Query((*terms, term)))

    def request_term_name(self, position: int, name: str) -> None:
        """Rename the selection term at ``position`` (a bad name is reported, the old one stays)."""
        if self.query is None or not 0 <= position < len(self.query.terms):
            return
        term = self.query.terms[position]
        if not isinstance(term, SelectionTerm) or term.name == " ".join(name.split()):
            return
        try:
            terms = list(self.query.terms)
            terms[position] = renamed(term, name)
        except QueryError as error:
            self.error_occurred.emit(error)
            self.query_changed.emit(self.query)  # the chip shows the old name again
            return
        self.request_query(Query(tuple(terms)))

    def request_query(self, query: Query | None, push_history: bool = True) -> None:
        """Search ``query`` (None clears the results). It becomes the current query — and enters the
        history — only when its search succeeds; a failed query (an unreadable file, say) reports its error
        and leaves the previous query, results and history as they were."""
        if query is None:
            self.query = None
            self._emit_history()
            self.query_changed.emit(None)
            self.results = None
            self.results_changed.emit(None)
            self.mask_changed.emit(None)
            self._place_query_point()
            return
        previous = self.query
        self.query = query
        self.query_changed.emit(query)

        def succeeded() -> None:
            if push_history:
                self._history.push(query)
            self._emit_history()

        def failed(error: BaseException) -> None:
            if self.query is query:  # nothing newer was asked meanwhile: put the previous query back
                self.query = previous
                self.query_changed.emit(previous)
            self.error_occurred.emit(error)

        self._search(query, succeeded, failed)

    def back(self) -> None:
        query = self._history.back()
        if query is not None:
            self.request_query(query, push_history=False)

    def forward(self) -> None:
        query = self._history.forward()
        if query is not None:
            self.request_query(query, push_history=False)

    def _emit_history(self) -> None:
        self.history_changed.emit(self._history.can_go_back, self._history.can_go_forward)

    def _search(
        self,
        query: Query,
        succeeded: Callable[[], None] | None = None,
        failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        engine, k, split = self.engine, self.settings.k, self.settings.split
        if engine is None:
            return
        self.search_count += 1

        def job(ctx: JobContext) -> ResultsState:
            result = engine.search(query, k=k, split=split)
            return analysis.results_state(engine, query, result)

        def done(state: ResultsState) -> None:
            self._on_results(state)
            if succeeded is not None:
                succeeded()

        self.workers.submit("search", job, done, on_error=failed or self.error_occurred.emit)

    def _on_results(self, state: ResultsState) -> None:
        self.results = state
        self.results_changed.emit(state)
        mask = getattr(state.result, "mask", None)
        self.mask_changed.emit(None if mask is None else np.asarray(mask, dtype=np.float32))
        self._place_query_point()
        if self.settings.colour_by.startswith("distance:"):
            self.set_colour_by(self.settings.colour_by, automatic=True)

    # ------------------------------------------------------------------ posebits
    def request_conditions(self, conditions: dict[str, int]) -> None:
        """New tri-state choice from the posebit panel: live count now, one search per 150 ms burst."""
        self.conditions = {name: int(value) for name, value in conditions.items()}
        self.conditions_changed.emit(dict(self.conditions))
        self.refresh_filter_and_count()
        self._debounce.start()

    def set_partial_method(self, method: str) -> None:
        self.settings.partial_method = method
        self.settings_changed.emit()
        if self.conditions:
            self._debounce.start()

    def set_result_count(self, k: int) -> None:
        """How many results a query returns (1–1000); re-searches the current query."""
        k = max(1, min(1000, int(k)))
        if k == self.settings.k:
            return
        self.settings.k = k
        self.settings_changed.emit()
        if self.query is not None:
            self._search(self.query)

    def set_split(self, split: str | None) -> None:
        self.settings.split = split
        self.settings_changed.emit()
        self.refresh_filter_and_count()
        if self.query is not None:
            self._search(self.query)

    def set_filter_by_posebits(self, enabled: bool) -> None:
        self.settings.filter_by_posebits = bool(enabled)
        self.settings_changed.emit()
        self.refresh_filter_and_count()

    def ordered_conditions(self) -> Conditions:
        """The set conditions in vocabulary order (stable for caching and display)."""
        if self.engine is None:
            return tuple(self.conditions.items())
        names = list(self.engine.vocabulary.names)
        return tuple(sorted(self.conditions.items(), key=lambda item: names.index(item[0])))

    def _search_from_conditions(self) -> None:
        if self.engine is None:
            return
        conditions = self.ordered_conditions()
        mode = "full" if len(conditions) == len(self.engine.vocabulary) else self.settings.partial_method
        self.request_query(with_conditions(self.query, conditions, mode))
        if self.settings.subspace:  # the subspace map follows the asked posebits
            self.request_projection()

    def refresh_filter_and_count(self) -> None:
        engine = self.engine
        if engine is None:
            return
        conditions, split, use_bits = (
            self.ordered_conditions(),
            self.settings.split,
            self.settings.filter_by_posebits,
        )

        def job(ctx: JobContext) -> tuple[int, np.ndarray]:
            count = int(engine.count_matching(conditions)) if conditions else len(engine.gallery)
            return count, analysis.visible_indices(engine.gallery, split, conditions if use_bits else ())

        def done(value: tuple[int, np.ndarray]) -> None:
            self.match_count_changed.emit(value[0])
            self.gallery_filter_changed.emit(value[1])

        self.workers.submit("count", job, done, lane="light", on_error=self.error_occurred.emit)

    # ------------------------------------------------------------------ device and jobs
    def set_device(self, name: str) -> None:
        engine = self.engine
        if engine is None:
            return

        def done(choice: Any) -> None:
            if getattr(choice, "fell_back", False):
                self.message.emit(f"Using {choice.name}: {choice.reason}")
            self.engine_changed.emit(self.engine_info())

        self.workers.submit(
            "device", lambda ctx: engine.set_device(name), done, on_error=self.error_occurred.emit
        )

    def cancel_jobs(self) -> None:
        """Cancel long work (projection, loading); quick queries finish on their own."""
        self.workers.cancel("projection")
        self.workers.cancel("engine")

    def _job_error(self, name: str) -> Callable[[BaseException], None]:
        def handle(error: BaseException) -> None:
            self.job_finished.emit(name)
            self.error_occurred.emit(error)

        return handle


def default_split(engine: Any) -> str | None:
    """The split searched (and shown) after a gallery opens. With an image model — trained on the
    gallery's train split — that is "test", the database of the thesis' protocol (val queries → test
    database), so training images the model has seen do not fill the result lists; without a model or
    without test items, every item (None). "All splits" stays one click away in the gallery bar."""
    splits = getattr(engine.gallery, "split", None)
    if getattr(engine, "image_embedder", None) is None or splits is None:
        return None
    return "test" if np.any(np.asarray(splits) == SPLITS.index("test")) else None


def _model_name(engine: Any) -> str:
    """ "<net class> <sha prefix>" of the image model, for the status bar."""
    name = getattr(engine, "model_name", None)
    embedder = getattr(engine, "image_embedder", None)
    if name is None and embedder is not None and hasattr(embedder, "module"):
        name = f"{type(embedder.module).__name__} {str(getattr(embedder, 'model_sha256', ''))[:8]}".strip()
    return str(name or "none (embeddings only)")
