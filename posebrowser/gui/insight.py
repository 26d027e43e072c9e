"""The ground-truth side of the window: the *Inspector* and *Evaluation* docks and the *Figures* menu,
wired to the session and the results view (kept out of main_window.py, which only places them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction

from posebrowser.gui import ground_truth
from posebrowser.gui.brush_boxes import BrushBoxes
from posebrowser.gui.evaluation_view import (
    EvaluationController,
    EvaluationResult,
    EvaluationView,
    default_evaluation_dir,
)
from posebrowser.gui.figures import FIGURE_FILTER, FIGURE_KINDS, FigureRequest, export_figure
from posebrowser.gui.frames import CRITERIA, DEFAULT_THRESHOLDS, FrameCriterion
from posebrowser.gui.inspection import Inspection, inspect_item
from posebrowser.gui.inspector import InspectorView
from posebrowser.gui.workers import JobContext

#: How often a pending inspection checks whether the search it waits for has answered, and how long it
#: then waits before its own work starts (none: the results view paints new results as it gets them).
SEARCH_POLL_MS = 10
PAINT_GRACE_MS = 0


class Insight(QObject):
    """Owns the inspector, the evaluation view and the figure actions of ``window``."""

    def __init__(self, window: Any) -> None:
        """``window`` is the MainWindow (its views, session and notifier; typed loosely: it imports us)."""
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.inspector = InspectorView(window)
        self.evaluation_view = EvaluationView(window)
        self.evaluation = EvaluationController(self.session.workers, default_evaluation_dir(), self)
        self.inspected: int | None = None
        self._reference: Any = None
        self._waiting = False  # an inspection waits for the clicked search to paint its results
        self._hidden_change = False  # the inspected item or its query changed while the dock was hidden
        self.inspector.shown.connect(self._inspector_shown)
        self.figure_actions: dict[str, QAction] = {}
        self.figures_started = 0
        self.figures_written = 0

    # ------------------------------------------------------------------ wiring
    def wire_first(self) -> None:
        """Connections that must run before the session's own (a gallery click inspects the item against
        the query that is still current, then queries with it)."""
        self.window.gallery_view.image_query_requested.connect(self.inspect)
        self.window.gallery_view.inspect_requested.connect(self.inspect)
        self.window.results_view.inspect_requested.connect(self.inspect)

    def wire(self) -> None:
        results = self.window.results_view
        self._restore_preferences()
        results.criterion_changed.connect(lambda _criterion: self.reinspect())
        results.criterion_changed.connect(self._remember_criterion)
        results.skeletons.toggled.connect(
            lambda on: self.window.settings.set_value("preferences/result_skeletons", "1" if on else "0")
        )
        self.session.engine_changed.connect(self._engine_changed)
        self.session.results_changed.connect(self._results_changed)
        self.evaluation_view.evaluate_requested.connect(lambda: self.evaluation.request(self.session.engine))
        self.evaluation.started.connect(self.evaluation_view.show_running)
        self.evaluation.finished.connect(self.evaluation_view.show_result)
        self.evaluation.failed.connect(self.evaluation_view.show_failed)
        self.evaluation.failed.connect(self.window.notifier.show_exception)

    def _restore_preferences(self) -> None:
        """The frame criterion and the skeleton overlay of the last run (ignored when not valid)."""
        settings, results = self.window.settings, self.window.results_view
        kind = settings.value("preferences/frame_criterion", "nearest")
        metric = settings.value("preferences/frame_metric", "3d")
        if kind in dict(CRITERIA) and metric in DEFAULT_THRESHOLDS:
            try:
                threshold = float(
                    settings.value("preferences/frame_threshold", str(DEFAULT_THRESHOLDS[metric]))
                )
            except ValueError:
                threshold = DEFAULT_THRESHOLDS[metric]
            results.set_criterion(FrameCriterion(kind, metric, threshold))
        results.set_show_skeletons(settings.value("preferences/result_skeletons", "0") == "1")

    def _remember_criterion(self, criterion: FrameCriterion) -> None:
        settings = self.window.settings
        settings.set_value("preferences/frame_criterion", criterion.kind)
        settings.set_value("preferences/frame_metric", criterion.metric)
        settings.set_value("preferences/frame_threshold", repr(criterion.threshold))

    def build_menu(self, menu: Any) -> None:
        for kind, text in FIGURE_KINDS:
            action = QAction(f"{text}…", self.window)
            action.setStatusTip(
                "Draw with matplotlib from the current model and query; save as PDF, SVG or PNG"
            )
            action.triggered.connect(lambda _checked=False, kind=kind: self.save_figure(kind))
            menu.addAction(action)
            self.figure_actions[kind] = action
        menu.addSeparator()
        self.brushes = BrushBoxes(self.window, menu)

    def _engine_changed(self, _info: Any) -> None:
        engine = self.session.engine
        self.window.results_view.gallery = None if engine is None else engine.gallery
        self.inspected, self._reference = None, None
        if engine is not None:  # align the gallery's poses before the first click needs them
            gallery = engine.gallery
            self.session.workers.submit(
                "ground-truth", lambda ctx: ground_truth.prepare(gallery), lambda _metric: None, lane="light"
            )
        cached = self.evaluation.cached(engine)
        if cached is not None:
            self.evaluation_view.show_result(cached)

    def _results_changed(self, state: Any) -> None:
        """A new answer: the inspected item is shown against it (its new rank, or "it would be …"), except
        for the search that clicking the item itself started, which keeps the query that listed it."""
        if self.inspected is None or state is None:
            return
        terms: tuple[Any, ...] = tuple(getattr(getattr(state, "query", None), "terms", ()))
        if len(terms) == 1 and getattr(terms[0], "gallery_index", None) == self.inspected:
            return
        self._reference = state
        self._after_results_paint()

    # ------------------------------------------------------------------ inspector
    def labels(self) -> dict[str, str]:
        engine = self.session.engine
        if engine is None:
            return {}
        return {bit.name: bit.label for bit in engine.vocabulary.bits}

    def inspect(self, index: int) -> None:
        """Inspect gallery item ``index`` against the results shown now, off the GUI thread and after the
        search the same click started has painted its results (the inspector never delays them). Clicks
        faster than that inspect only the last item."""
        self.inspected, self._reference = int(index), self.window.results_view.model.state
        self._after_results_paint()

    def _after_results_paint(self) -> None:
        """Re-inspect once no search runs and the results view has had time to paint (one pending
        re-inspection at a time; it reads the inspected item and its query when it starts)."""
        if not self._waiting:
            self._waiting = True
            QTimer.singleShot(0, self._inspect_when_results_painted)

    def _inspect_when_results_painted(self) -> None:
        if self.session.workers.is_busy("search"):
            QTimer.singleShot(SEARCH_POLL_MS, self._inspect_when_results_painted)
        else:
            QTimer.singleShot(PAINT_GRACE_MS, self._start_inspection)

    def _start_inspection(self) -> None:
        self._waiting = False
        self.reinspect()

    def _inspector_shown(self) -> None:
        if self._hidden_change:
            self.reinspect()

    def reinspect(self) -> None:
        """Inspect the inspected item against its query now, on a worker; while the inspector is hidden
        nothing is computed until it is shown again."""
        engine, index, state = self.session.engine, self.inspected, self._reference
        if engine is None or index is None:
            return
        if not self.inspector.isVisible():
            self._hidden_change = True
            return
        self._hidden_change = False
        criterion, labels = self.window.results_view.criterion(), self.labels()
        text = state.query.to_expr(labels) if state is not None and hasattr(state.query, "to_expr") else ""

        def job(ctx: JobContext) -> Inspection:
            return inspect_item(engine.gallery, index, state, criterion, labels, text)

        self.session.workers.submit(
            "inspect",
            job,
            self.inspector.show_inspection,
            lane="light",
            on_error=self.window.notifier.show_exception,
        )

    # ------------------------------------------------------------------ figures
    def figure_request(self, kind: str) -> FigureRequest:
        engine = self.session.engine
        cached: EvaluationResult | None = self.evaluation.cached(engine)
        return FigureRequest(
            kind=kind,
            engine=engine,
            state=self.window.results_view.model.state,
            frames=self.window.results_view.frames(),
            labels=self.labels(),
            conditions=tuple(self.session.conditions.items()),
            evaluation=None if cached is None else cached.report,
            brushed=self.brushes.snapshot(),
        )

    def save_figure(self, kind: str, path: str | None = None) -> None:
        """Ask where to save, then draw and write the figure on a worker (the GUI stays responsive)."""
        if self.session.engine is None:
            return
        if path is None:
            path = self.window._save_path("Save figure", FIGURE_FILTER, f"{kind}.pdf")
        if not path:
            return
        request = self.figure_request(kind)
        self.figures_started += 1
        channel = f"figure-{self.figures_started}"  # its own channel: a second figure never cancels the first
        self.session.job_started.emit(channel, f"Drawing {kind} figure…")

        def done(written: Path) -> None:
            self.session.job_finished.emit(channel)
            self.figures_written += 1
            self.window.notifier.info(f"Figure written to {written}.")

        def failed(error: BaseException) -> None:
            self.session.job_finished.emit(channel)
            self.window.notifier.show_exception(error)

        self.session.workers.submit(channel, lambda ctx: export_figure(request, path), done, on_error=failed)
