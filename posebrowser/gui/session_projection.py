"""The projection half of the session: layouts (PCA / t-SNE / UMAP, optionally of the masked
"subspace" embedding), the query's place in the map, per-point colours and the lasso selection.

A mixin of :class:`posebrowser.gui.session.Session`, which declares the signals used here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from posebrowser.errors import JobCancelledError, QueryError
from posebrowser.gui import analysis
from posebrowser.gui.state import (
    PROJECTION_METHODS,
    ColourState,
    ProjectionState,
    ResultsState,
    ViewSettings,
)
from posebrowser.gui.workers import JobContext, Workers

Conditions = tuple[tuple[str, int], ...]

#: Intermediate t-SNE layouts are drawn at most this often (keeps the GUI thread free for input).
LAYOUT_REDRAW_INTERVAL_S = 0.4


class ProjectionMixin:
    """Projection state and intents; see the module docstring."""

    engine: Any
    query: Any
    workers: Workers
    settings: ViewSettings
    results: ResultsState | None
    projection: ProjectionState | None
    colours: ColourState
    selection: np.ndarray
    projection_changed: Any
    colours_changed: Any
    selection_changed: Any
    job_started: Any
    job_finished: Any
    error_occurred: Any
    info: Any
    _projection_cache: dict[tuple[str, Conditions], ProjectionState]
    _last_layout_draw: float
    ordered_conditions: Callable[[], Conditions]

    def request_projection(self, method: str | None = None, subspace: bool | None = None) -> None:
        engine = self.engine
        if method is not None:
            self.settings.projection_method = method
        if subspace is not None:
            self.settings.subspace = subspace
        if engine is None:
            return
        method = self.settings.projection_method
        conditions = self.ordered_conditions() if self.settings.subspace else ()
        key = self._cache_key(method, conditions)
        if key in self._projection_cache:
            self._on_projection(self._projection_cache[key])
            return
        self.job_started.emit("projection", f"Projecting with {method}…")
        if conditions:  # fitting the subspace mask (numpy, tens of ms) belongs on the compute lane
            self.workers.submit(
                "projection",
                lambda ctx: np.asarray(engine.mask_for(conditions), dtype=np.float32),
                lambda mask: self._project(method, conditions, mask),
                on_error=self._projection_failed,
            )
        else:
            self._project(method, conditions, None)

    def projection_params(self, method: str) -> dict[str, Any]:
        """The parameters the user chose for ``method`` (empty = the core's defaults)."""
        chosen: dict[str, dict[str, Any]] = self.settings.extra.setdefault("projection_params", {})
        return dict(chosen.get(method, {}))

    def set_projection_params(self, method: str, params: dict[str, Any]) -> None:
        """New parameters for ``method`` (t-SNE perplexity, UMAP neighbours); redraws when it is shown."""
        if self.projection_params(method) == dict(params):
            return
        self.settings.extra.setdefault("projection_params", {})[method] = dict(params)
        if self.settings.projection_method == method:
            self.request_projection()

    def _cache_key(self, method: str, conditions: Conditions) -> tuple[str, Conditions]:
        params = self.projection_params(method)
        return (f"{method} {sorted(params.items())}" if params else method), conditions

    def _project(self, method: str, conditions: Conditions, mask: np.ndarray | None) -> None:
        engine, key = self.engine, self._cache_key(method, conditions)
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
                self.projection_changed.emit(ProjectionState(method, conditions, coords, final=False))

        def done(state: ProjectionState) -> None:
            self.job_finished.emit("projection")
            self._projection_cache[key] = state
            self._on_projection(state)

        self.workers.submit(
            "projection",
            job,
            done,
            lane="projection",
            on_intermediate=intermediate,
            on_error=self._projection_failed,
        )

    def _projection_failed(self, error: BaseException) -> None:
        """The new map failed or was cancelled: the map still shown stays, and the settings, the
        controls and the notice all say which map that is (not the one that was asked for)."""
        self.job_finished.emit("projection")
        shown = self.projection
        if shown is not None:
            self.settings.projection_method = shown.method
            self.settings.subspace = bool(shown.subspace)
            self.projection_changed.emit(shown)
        if not isinstance(error, JobCancelledError):
            self.error_occurred.emit(error)
        elif shown is not None:
            self.info.emit(
                f"Projection cancelled; the map still shows the previous one ({self._describe(shown)})."
            )
        else:
            self.info.emit("Projection cancelled; there is no map yet.")

    def _describe(self, state: ProjectionState) -> str:
        """e.g. "t-SNE of the subspace of: not left arm bent" (the map's method and posebit subset)."""
        method = dict(PROJECTION_METHODS).get(state.method, state.method)
        if not state.subspace:
            return method
        labels = {bit.name: bit.label for bit in getattr(self.engine.vocabulary, "bits", ())}
        asked = ", ".join(
            ("" if value else "not ") + labels.get(name, name) for name, value in state.subspace
        )
        return f"{method} of the subspace of: {asked}"

    def _on_projection(self, state: ProjectionState) -> None:
        self.projection = state
        self.projection_changed.emit(state)
        self._place_query_point()

    def _place_query_point(self) -> None:
        """Put the current query into the map (out-of-sample placement), or take it out when the
        query has no vector (cleared, or a pure mask-origin query) or the map is a subspace."""
        engine, projection, results = self.engine, self.projection, self.results
        if engine is None or projection is None:
            return
        vector = None if results is None else getattr(results.result, "query_vector", None)
        if vector is None or projection.subspace:
            if projection.query_point is not None:
                self.projection = replace(projection, query_point=None)
                self.projection_changed.emit(self.projection)
            return

        def job(ctx: JobContext) -> np.ndarray:
            return np.asarray(
                engine.place_in_projection(np.asarray(vector), projection.method, subspace_mask=None),
                dtype=np.float32,
            )

        def done(point: np.ndarray) -> None:
            if self.projection is projection:
                self.projection = replace(projection, final=True, query_point=point)
                self.projection_changed.emit(self.projection)

        self.workers.submit("place", job, done, lane="projection", on_error=self.error_occurred.emit)

    def set_colour_by(self, spec: str, automatic: bool = False) -> None:
        """``spec``: "none", "posebit:<name>" or "distance:<metric>" (to the current query).

        ``automatic`` = a refresh after the query changed: a colouring the new query cannot give
        (e.g. a distance without a query image) falls back to plain points with a status message
        instead of an error banner.
        """
        self.settings.colour_by = spec
        engine = self.engine
        if engine is None or spec == "none":
            self.colours = ColourState("none", "plain", None)
            self.colours_changed.emit(self.colours)
            return
        query, conditions = self.query, self.ordered_conditions()

        def failed(error: BaseException) -> None:
            if automatic and isinstance(error, QueryError):
                self.colours = ColourState(spec, "plain", None)
                self.colours_changed.emit(self.colours)
                self.info.emit(f"{error} Points are drawn plain until then.")
            else:
                self.error_occurred.emit(error)

        self.workers.submit(
            "colour",
            lambda ctx: analysis.colour_state(engine, spec, query, conditions),
            self._on_colours,
            lane="light",
            on_error=failed,
        )

    def _on_colours(self, state: ColourState) -> None:
        self.colours = state
        self.colours_changed.emit(state)

    def set_selection(self, indices: Sequence[int] | np.ndarray) -> None:
        self.selection = np.unique(np.asarray(indices, dtype=np.int64))
        self.selection_changed.emit(self.selection)
