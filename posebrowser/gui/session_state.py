"""What one browsing session currently shows, and the signals that announce each change.

Views bind to these signals (``query_changed``, ``results_changed``, …) and read the fields; the
controllers in :mod:`posebrowser.gui.controllers` are the only writers. A field changes through its
``set_*`` method, which stores the new value and then emits the matching signal, so a listener always
reads the value it is told about. Besides the state signals the object carries the session's notices
(job started / finished, errors, warnings, information), so a view needs one object to bind to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from posebrowser.core.query import Query
from posebrowser.gui.frames import FrameCriterion
from posebrowser.gui.state import ColourState, ProjectionState, ResultsState, ViewSettings

#: The ticked posebits as (name, value) pairs in vocabulary order.
Conditions = tuple[tuple[str, int], ...]


class SessionState(QObject):
    """The current engine, query, results, posebit ticks, map, colours, selection, frame criterion and
    view settings of one session; see the module docstring."""

    engine_changed = Signal(object)  # EngineInfo
    query_changed = Signal(object)  # Query | None
    results_changed = Signal(object)  # ResultsState | None
    conditions_changed = Signal(object)  # dict[str, int]
    settings_changed = Signal()
    match_count_changed = Signal(int)
    gallery_filter_changed = Signal(object)  # (M,) int64 gallery indices shown in the gallery view
    projection_changed = Signal(object)  # ProjectionState
    colours_changed = Signal(object)  # ColourState
    selection_changed = Signal(object)  # (S,) int64
    mask_changed = Signal(object)  # (D,) float32 or None
    history_changed = Signal(bool, bool)  # can go back, can go forward
    frame_criterion_changed = Signal(object)  # FrameCriterion
    job_started = Signal(str, str)  # channel, text
    job_finished = Signal(str)
    error_occurred = Signal(object)  # BaseException
    message = Signal(str)  # a warning
    info = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.engine: Any = None
        self.gallery_path: str | None = None
        self.settings = ViewSettings()
        self.conditions: dict[str, int] = {}
        self.query: Query | None = None
        self.results: ResultsState | None = None
        self.projection: ProjectionState | None = None
        self.colours = ColourState("none", "plain", None)
        self.selection = np.zeros(0, dtype=np.int64)
        self.frame_criterion = FrameCriterion()

    # ------------------------------------------------------------------ derived reads
    @property
    def gallery_size(self) -> int:
        return 0 if self.engine is None else len(self.engine.gallery)

    def image_path(self, index: int) -> str:
        return str(self.engine.gallery.image_path(int(index)))

    def ordered_conditions(self) -> Conditions:
        """The ticked posebits in vocabulary order (stable for caching and display)."""
        if self.engine is None:
            return tuple(self.conditions.items())
        names = list(self.engine.vocabulary.names)
        return tuple(sorted(self.conditions.items(), key=lambda item: names.index(item[0])))

    def bit_labels(self) -> dict[str, str]:
        """Posebit name → the label shown to the user (empty without an engine)."""
        return {bit.name: bit.label for bit in getattr(getattr(self.engine, "vocabulary", None), "bits", ())}

    # ------------------------------------------------------------------ changes
    def set_query(self, query: Query | None) -> None:
        self.query = query
        self.query_changed.emit(query)

    def set_results(self, results: ResultsState | None) -> None:
        self.results = results
        self.results_changed.emit(results)

    def set_conditions(self, conditions: dict[str, int]) -> None:
        self.conditions = {name: int(value) for name, value in conditions.items()}
        self.conditions_changed.emit(dict(self.conditions))

    def set_projection(self, projection: ProjectionState) -> None:
        self.projection = projection
        self.projection_changed.emit(projection)

    def set_colours(self, colours: ColourState) -> None:
        self.colours = colours
        self.colours_changed.emit(colours)

    def set_selection(self, indices: Sequence[int] | np.ndarray) -> None:
        """The lasso selection: sorted unique gallery indices."""
        self.selection = np.unique(np.asarray(indices, dtype=np.int64))
        self.selection_changed.emit(self.selection)

    def set_frame_criterion(self, criterion: FrameCriterion) -> None:
        """What makes a result's frame green; announced only when it differs from the current one."""
        if criterion == self.frame_criterion:
            return
        self.frame_criterion = criterion
        self.frame_criterion_changed.emit(criterion)

    def reset_for_engine(
        self, engine: Any, gallery_path: str, split: str | None, engine_info: object
    ) -> None:
        """A newly opened gallery: no query, results, map, ticks or selection; ``split`` searched.

        Every field is reset before any signal goes out, so each listener sees the whole new state."""
        self.engine, self.gallery_path = engine, gallery_path
        self.conditions = {}
        self.query, self.results, self.projection = None, None, None
        self.selection = np.zeros(0, dtype=np.int64)
        self.settings.split = split
        self.settings_changed.emit()
        self.engine_changed.emit(engine_info)
        self.conditions_changed.emit(dict(self.conditions))
        self.query_changed.emit(None)
        self.results_changed.emit(None)
        self.selection_changed.emit(self.selection)
