"""The gallery and its engine: opening a gallery (on the compute lane, so heavy imports happen after
the window shows), the compute device, what the status bar says about the engine, and cancelling
long jobs.

Opening a gallery resets the whole session — no query, results, history, ticks, map or selection —
and picks the split searched by default (see :func:`default_split`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject

from posebrowser.data.gallery_format import SPLITS
from posebrowser.gui.controllers.projection import ProjectionController
from posebrowser.gui.controllers.query import QueryController
from posebrowser.gui.session_state import SessionState
from posebrowser.gui.state import EngineInfo
from posebrowser.gui.workers import JobContext, Workers

#: Opens the engine of a gallery folder (None = the default gallery) on a worker.
EngineFactory = Callable[[JobContext, str | None], Any]


class GalleryController(QObject):
    """Engine, device and job intents of a session; see the module docstring."""

    def __init__(
        self,
        state: SessionState,
        workers: Workers,
        engine_factory: EngineFactory,
        queries: QueryController,
        projections: ProjectionController,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.state = state
        self.workers = workers
        self.queries = queries
        self.projections = projections
        self._engine_factory = engine_factory

    def load(self, gallery_path: str | None = None, on_loaded: Callable[[], None] | None = None) -> None:
        """Open the engine on the compute lane; ``on_loaded`` runs once the session shows it."""
        self.state.job_started.emit("engine", "Loading gallery and model…")

        def done(engine: Any) -> None:
            self.state.job_finished.emit("engine")
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
        self.projections.reset()
        self.queries.reset()
        for warning in getattr(engine, "warnings", ()):
            self.state.message.emit(str(warning))
        path = gallery_path if gallery_path is not None else str(engine.gallery.root)
        self.state.reset_for_engine(engine, path, default_split(engine), engine_info(engine))
        self.queries.announce_history()
        self.queries.refresh_filter_and_count()
        self.projections.request_projection()

    def engine_info(self) -> EngineInfo:
        return engine_info(self.state.engine)

    def image_models(self) -> tuple[tuple[str, str], ...]:
        """(name, label) of the image models the engine factory can open; empty when it offers no choice."""
        offered = getattr(self._engine_factory, "image_models", None)
        return tuple(offered()) if callable(offered) else ()

    @property
    def image_model(self) -> str | None:
        return getattr(self._engine_factory, "image_model", None)

    def set_image_model(self, name: str) -> None:
        """Reopen the current gallery with image model ``name`` (its embeddings, map and results are
        another space, so the session starts over as after opening a gallery)."""
        if name not in dict(self.image_models()):
            raise ValueError(f"No image model {name!r} in the models folder.")
        if name == self.image_model:
            return
        self._engine_factory.image_model = name  # type: ignore[attr-defined]
        self.load(self.state.gallery_path)

    def set_device(self, name: str) -> None:
        """Move the engine to device ``name``; a fallback (no CUDA, say) is reported as a warning."""
        engine = self.state.engine
        if engine is None:
            return

        def done(choice: Any) -> None:
            if getattr(choice, "fell_back", False):
                self.state.message.emit(f"Using {choice.name}: {choice.reason}")
            self.state.engine_changed.emit(engine_info(engine))

        self.workers.submit(
            "device", lambda ctx: engine.set_device(name), done, on_error=self.state.error_occurred.emit
        )

    def cancel_jobs(self) -> None:
        """Cancel long work (projection, loading); quick queries finish on their own."""
        self.workers.cancel("projection")
        self.workers.cancel("engine")

    def _job_error(self, name: str) -> Callable[[BaseException], None]:
        def handle(error: BaseException) -> None:
            self.state.job_finished.emit(name)
            self.state.error_occurred.emit(error)

        return handle


def engine_info(engine: Any) -> EngineInfo:
    """What the status bar shows about ``engine``."""
    return EngineInfo(
        gallery_name=str(getattr(engine.gallery, "name", "gallery")),
        gallery_size=len(engine.gallery),
        model_name=_model_name(engine),
        device=str(engine.device.name),
        device_reason=str(getattr(engine.device, "reason", "")),
        index_kind=str(engine.index.kind),
    )


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
    """ "<net class> <sha prefix>" of the image model, for the status bar ("<net class> + mirrored view …"
    for a net that also reads each image mirrored, "… + pose estimator" for the fused model, "… + keypoint
    reader" when it also reads the keypoint reader)."""
    name = getattr(engine, "model_name", None)
    embedder = getattr(engine, "image_embedder", None)
    if name is None and embedder is not None and hasattr(embedder, "module"):
        from posebrowser.nets.mirror_view import net_label  # torch is loaded: the embedder holds a net

        label = net_label(embedder.module) + (" + pose estimator" if hasattr(embedder, "fusion") else "")
        readers = [type(getattr(one, "module", None)).__name__ for one in getattr(embedder, "readers", ())]
        label += " + keypoint reader" if "KeypointReader" in readers else ""
        name = f"{label} {str(getattr(embedder, 'model_sha256', ''))[:8]}".strip()
    return str(name or "none (embeddings only)")
