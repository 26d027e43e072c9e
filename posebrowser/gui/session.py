"""The session: the one object widgets talk to — a thin façade over state and controllers.

* :class:`~posebrowser.gui.session_state.SessionState` holds what the session shows (engine, query,
  results, posebit ticks, map, colours, selection, frame criterion, view settings) and the signals
  that announce each change; views bind to those signals.
* The controllers in :mod:`posebrowser.gui.controllers` turn intents into work on the workers and
  new state: :class:`~posebrowser.gui.controllers.query.QueryController` (queries, history, ticks,
  search settings), :class:`~posebrowser.gui.controllers.projection.ProjectionController` (maps,
  parameters, colours, the query's point) and
  :class:`~posebrowser.gui.controllers.gallery.GalleryController` (opening a gallery, device, jobs).

Widgets emit intents (``*_requested`` signals) that the main window connects to the ``request_*`` /
``set_*`` methods exposed here; the state's ``*_changed`` signals, readable here under the same names,
announce the result. The state, the controllers and ``session_io.py`` are the GUI modules that touch
the retrieval engine.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, cast, overload

import numpy as np
from PySide6.QtCore import QObject, SignalInstance

from posebrowser.core.query import Query
from posebrowser.gui.controllers.gallery import EngineFactory, GalleryController
from posebrowser.gui.controllers.projection import ProjectionController
from posebrowser.gui.controllers.query import QueryController
from posebrowser.gui.frames import FrameCriterion
from posebrowser.gui.session_state import SessionState
from posebrowser.gui.state import ColourState, ProjectionState, ResultsState, ViewSettings
from posebrowser.gui.workers import Workers

__all__ = ["EngineFactory", "Session"]

T = TypeVar("T")


class _FromState(Generic[T]):
    """A read-only session attribute that is the same-named attribute of the session's state."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, session: None, owner: type) -> _FromState[T]: ...

    @overload
    def __get__(self, session: Session, owner: type) -> T: ...

    def __get__(self, session: Session | None, owner: type) -> _FromState[T] | T:
        if session is None:
            return self
        return cast(T, getattr(session.state, self.name))

    def __set__(self, session: Session, value: T) -> None:
        raise AttributeError(f"Session.{self.name} is state: change it through an intent (request_*, set_*).")


class Session(QObject):
    """State + intents of one browsing session; see the module docstring."""

    # what the session shows (read-only here; the controllers change it)
    engine = _FromState[Any]()
    gallery_path = _FromState[str | None]()
    settings = _FromState[ViewSettings]()
    conditions = _FromState[dict[str, int]]()
    query = _FromState[Query | None]()
    results = _FromState[ResultsState | None]()
    projection = _FromState[ProjectionState | None]()
    colours = _FromState[ColourState]()
    selection = _FromState[np.ndarray]()
    frame_criterion = _FromState[FrameCriterion]()
    gallery_size = _FromState[int]()
    # the state's signals
    engine_changed = _FromState[SignalInstance]()
    query_changed = _FromState[SignalInstance]()
    results_changed = _FromState[SignalInstance]()
    conditions_changed = _FromState[SignalInstance]()
    settings_changed = _FromState[SignalInstance]()
    match_count_changed = _FromState[SignalInstance]()
    gallery_filter_changed = _FromState[SignalInstance]()
    projection_changed = _FromState[SignalInstance]()
    colours_changed = _FromState[SignalInstance]()
    selection_changed = _FromState[SignalInstance]()
    mask_changed = _FromState[SignalInstance]()
    history_changed = _FromState[SignalInstance]()
    frame_criterion_changed = _FromState[SignalInstance]()
    job_started = _FromState[SignalInstance]()
    job_finished = _FromState[SignalInstance]()
    error_occurred = _FromState[SignalInstance]()
    message = _FromState[SignalInstance]()
    info = _FromState[SignalInstance]()

    def __init__(
        self,
        engine_factory: EngineFactory,
        workers: Workers,
        debounce_ms: int = 150,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.workers = workers
        self.state = SessionState(self)
        self.projections = ProjectionController(self.state, workers, self)
        self.queries = QueryController(self.state, workers, self.projections, debounce_ms, self)
        self.galleries = GalleryController(
            self.state, workers, engine_factory, self.queries, self.projections, self
        )
        #: (channel, done, total) progress of the current job on a channel.
        self.job_progress = workers.job_progress
        #: The timer of the posebit search (tests fire it instead of waiting for it).
        self._debounce = self.queries.debounce
        # reads
        self.image_path = self.state.image_path
        self.ordered_conditions = self.state.ordered_conditions
        self.engine_info = self.galleries.engine_info
        self.projection_params = self.projections.projection_params
        # gallery, device and jobs
        self.load = self.galleries.load
        self.set_device = self.galleries.set_device
        self.image_models = self.galleries.image_models
        self.set_image_model = self.galleries.set_image_model
        self.cancel_jobs = self.galleries.cancel_jobs
        # queries and history
        self.request_query = self.queries.request_query
        self.request_image_query = self.queries.request_image_query
        self.request_image_file = self.queries.request_image_file
        self.request_expression = self.queries.request_expression
        self.request_add_result_term = self.queries.request_add_result_term
        self.request_remove_term = self.queries.request_remove_term
        self.request_term_weight = self.queries.request_term_weight
        self.request_term_name = self.queries.request_term_name
        self.request_selection_query = self.queries.request_selection_query
        self.back = self.queries.back
        self.forward = self.queries.forward
        # posebit ticks and search settings
        self.request_conditions = self.queries.request_conditions
        self.refresh_filter_and_count = self.queries.refresh_filter_and_count
        self.set_partial_method = self.queries.set_partial_method
        self.set_weight_asked_bits = self.queries.set_weight_asked_bits
        self.set_result_count = self.queries.set_result_count
        self.set_split = self.queries.set_split
        self.set_filter_by_posebits = self.queries.set_filter_by_posebits
        # the map, its colours and the selection; the results' frames
        self.request_projection = self.projections.request_projection
        self.set_projection_params = self.projections.set_projection_params
        self.set_colour_by = self.projections.set_colour_by
        self.set_selection = self.state.set_selection
        self.set_frame_criterion = self.state.set_frame_criterion
