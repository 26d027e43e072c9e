"""A session's state and controllers over a fake engine, without any window (for the controller tests).

Jobs run synchronously; :class:`Recorder` keeps every state signal in the order it was emitted, with
the state field it announces as it was read at that moment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fake_engine import FakeEngine, make_engine

from posebrowser.gui.controllers.gallery import GalleryController
from posebrowser.gui.controllers.projection import ProjectionController
from posebrowser.gui.controllers.query import QueryController
from posebrowser.gui.session_state import SessionState
from posebrowser.gui.workers import Workers

SIGNALS = (
    "engine_changed",
    "query_changed",
    "results_changed",
    "conditions_changed",
    "settings_changed",
    "match_count_changed",
    "gallery_filter_changed",
    "projection_changed",
    "colours_changed",
    "selection_changed",
    "mask_changed",
    "history_changed",
    "frame_criterion_changed",
    "job_started",
    "job_finished",
    "error_occurred",
    "message",
    "info",
)


@dataclass
class Recorder:
    """(signal name, arguments) of every state signal, in order."""

    events: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    def args(self, name: str) -> list[tuple[Any, ...]]:
        return [args for event, args in self.events if event == name]

    def clear(self) -> None:
        self.events.clear()


def record(state: SessionState) -> Recorder:
    recorder = Recorder()
    for name in SIGNALS:
        getattr(state, name).connect(lambda *args, name=name: recorder.events.append((name, args)))
    return recorder


@dataclass
class Rig:
    engine: FakeEngine
    state: SessionState
    workers: Workers
    projections: ProjectionController
    queries: QueryController
    galleries: GalleryController
    recorder: Recorder


def make_rig(folder: Path, engine: FakeEngine | None = None, load: bool = True) -> Rig:
    """State + the three controllers over ``engine`` (a fresh fake one by default), loaded unless not."""
    engine = engine if engine is not None else make_engine(folder / "images", count=120)
    workers = Workers(synchronous=True)
    state = SessionState()
    projections = ProjectionController(state, workers)
    queries = QueryController(state, workers, projections)
    galleries = GalleryController(state, workers, lambda ctx, path: engine, queries, projections)
    rig = Rig(engine, state, workers, projections, queries, galleries, record(state))
    if load:
        galleries.load()
        rig.recorder.clear()
        engine.calls.clear()
    return rig
