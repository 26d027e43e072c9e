"""The map: layouts (PCA / t-SNE / UMAP, optionally of the masked "subspace" embedding) with the
user's parameters, the query's place in the map and per-point colours. (The lasso selection is
plain state: :meth:`posebrowser.gui.session_state.SessionState.set_selection`.)

Finished layouts are cached per (method and parameters, subspace posebits), so going back to a map
already drawn is instant. A layout that fails or is cancelled leaves the map that is shown — and the
settings then name that map, not the one that was asked for.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np
from PySide6.QtCore import QObject

from posebrowser.errors import JobCancelledError, QueryError
from posebrowser.gui import analysis
from posebrowser.gui.session_state import Conditions, SessionState
from posebrowser.gui.state import PROJECTION_METHODS, ColourState, ProjectionState
from posebrowser.gui.workers import JobContext, Workers

#: Intermediate t-SNE layouts are drawn at most this often (keeps the GUI thread free for input).
LAYOUT_REDRAW_INTERVAL_S = 0.4

CacheKey = tuple[str, Conditions]


class ProjectionController(QObject):
    """Projection and colour intents of a session; see the module docstring."""

    def __init__(self, state: SessionState, workers: Workers, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.workers = workers
        self._cache: dict[CacheKey, ProjectionState] = {}
        self._last_layout_draw = 0.0

    def reset(self) -> None:
        """Forget the layouts of the previous gallery."""
        self._cache.clear()

    # ------------------------------------------------------------------ layouts
    def request_projection(self, method: str | None = None, subspace: bool | None = None) -> None:
        """Show the ``method`` map (of the ticked posebits' subspace when ``subspace``); None keeps the
        current choice. A cached layout shows at once; otherwise it is computed on the projection lane."""
        state, settings = self.state, self.state.settings
        if method is not None:
            settings.projection_method = method
        if subspace is not None:
            settings.subspace = subspace
        engine = state.engine
        if engine is None:
            return
        method = settings.projection_method
        conditions = state.ordered_conditions() if settings.subspace else ()
        key = self._cache_key(method, conditions)
        if key in self._cache:
            self._show(self._cache[key])
            return
        state.job_started.emit("projection", f"Projecting with {method}…")
        if conditions:  # fitting the subspace mask (numpy, tens of ms) belongs on the compute lane
            self.workers.submit(
                "projection",
                lambda ctx: np.asarray(engine.mask_for(conditions), dtype=np.float32),
                lambda mask: self._project(method, conditions, mask),
                on_error=self._failed,
            )
        else:
            self._project(method, conditions, None)

    def projection_params(self, method: str) -> dict[str, Any]:
        """The parameters the user chose for ``method`` (empty = the core's defaults)."""
        return dict(self.state.settings.projection_params.get(method, {}))

    def set_projection_params(self, method: str, params: dict[str, Any]) -> None:
        """New parameters for ``method`` (t-SNE perplexity, UMAP neighbours); redraws when it is shown."""
        if self.projection_params(method) == dict(params):
            return
        self.state.settings.projection_params[method] = dict(params)
        if self.state.settings.projection_method == method:
            self.request_projection()

    def _cache_key(self, method: str, conditions: Conditions) -> CacheKey:
        params = self.projection_params(method)
        return (f"{method} {sorted(params.items())}" if params else method), conditions

    def _project(self, method: str, conditions: Conditions, mask: np.ndarray | None) -> None:
        engine, key = self.state.engine, self._cache_key(method, conditions)
        params = self.projection_params(method)

        def job(ctx: JobContext) -> ProjectionState:
            coords = engine.project(
                method,
                params,
                subspace_mask=mask,
                progress=ctx.progress,
                cancel=ctx.cancelled,
                on_layout=lambda xy: ctx.publish(np.array(xy, dtype=np.float32)),
            )
            from scipy.spatial import cKDTree  # imported here: a first import on the GUI thread stalls it

            coords = np.asarray(coords, dtype=np.float32)
            return ProjectionState(method, conditions, coords, picker=cKDTree(coords))

        def intermediate(coords: np.ndarray) -> None:
            now = time.monotonic()
            if now - self._last_layout_draw >= LAYOUT_REDRAW_INTERVAL_S:
                self._last_layout_draw = now
                self.state.projection_changed.emit(ProjectionState(method, conditions, coords, final=False))

        def done(projection: ProjectionState) -> None:
            self.state.job_finished.emit("projection")
            self._cache[key] = projection
            self._show(projection)

        self.workers.submit(
            "projection", job, done, lane="projection", on_intermediate=intermediate, on_error=self._failed
        )

    def _failed(self, error: BaseException) -> None:
        """The new map failed or was cancelled: the map still shown stays, and the settings, the
        controls and the notice all say which map that is (not the one that was asked for)."""
        state = self.state
        state.job_finished.emit("projection")
        shown = state.projection
        if shown is not None:
            state.settings.projection_method = shown.method
            state.settings.subspace = bool(shown.subspace)
            state.projection_changed.emit(shown)
        if not isinstance(error, JobCancelledError):
            state.error_occurred.emit(error)
        elif shown is not None:
            state.info.emit(
                f"Projection cancelled; the map still shows the previous one ({self.describe(shown)})."
            )
        else:
            state.info.emit("Projection cancelled; there is no map yet.")

    def describe(self, projection: ProjectionState) -> str:
        """e.g. "t-SNE of the subspace of: not left arm bent" (the map's method and posebit subset)."""
        method = dict(PROJECTION_METHODS).get(projection.method, projection.method)
        if not projection.subspace:
            return method
        labels = self.state.bit_labels()
        asked = ", ".join(
            ("" if value else "not ") + labels.get(name, name) for name, value in projection.subspace
        )
        return f"{method} of the subspace of: {asked}"

    def _show(self, projection: ProjectionState) -> None:
        self.state.set_projection(projection)
        self.place_query_point()

    # ------------------------------------------------------------------ the query in the map
    def results_updated(self) -> None:
        """New results (or none): move the query's point, and recolour when colours are query distances."""
        self.place_query_point()
        colour_by = self.state.settings.colour_by
        if colour_by.startswith("distance:"):
            self.set_colour_by(colour_by, automatic=True)

    def place_query_point(self) -> None:
        """Put the current query into the map (out-of-sample placement), or take it out when the
        query has no vector (cleared, or a pure mask-origin query) or the map is a subspace."""
        state = self.state
        engine, projection, results = state.engine, state.projection, state.results
        if engine is None or projection is None:
            return
        vector = None if results is None else getattr(results.result, "query_vector", None)
        if vector is None or projection.subspace:
            if projection.query_point is not None:
                state.set_projection(replace(projection, query_point=None))
            return

        def job(ctx: JobContext) -> np.ndarray:
            return np.asarray(
                engine.place_in_projection(np.asarray(vector), projection.method, subspace_mask=None),
                dtype=np.float32,
            )

        def done(point: np.ndarray) -> None:
            if state.projection is projection:
                state.set_projection(replace(projection, final=True, query_point=point))

        self.workers.submit("place", job, done, lane="projection", on_error=state.error_occurred.emit)

    # ------------------------------------------------------------------ colours
    def set_colour_by(self, spec: str, automatic: bool = False) -> None:
        """``spec``: "none", "posebit:<name>" or "distance:<metric>" (to the current query).

        ``automatic`` = a refresh after the query changed: a colouring the new query cannot give
        (e.g. a distance without a query image) falls back to plain points with a status message
        instead of an error banner.
        """
        state = self.state
        state.settings.colour_by = spec
        engine = state.engine
        if engine is None or spec == "none":
            state.set_colours(ColourState("none", "plain", None))
            return
        query, conditions = state.query, state.ordered_conditions()

        def failed(error: BaseException) -> None:
            if automatic and isinstance(error, QueryError):
                state.set_colours(ColourState(spec, "plain", None))
                state.info.emit(f"{error} Points are drawn plain until then.")
            else:
                state.error_occurred.emit(error)

        self.workers.submit(
            "colour",
            lambda ctx: analysis.colour_state(engine, spec, query, conditions),
            state.set_colours,
            lane="light",
            on_error=failed,
        )
