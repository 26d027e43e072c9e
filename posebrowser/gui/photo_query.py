"""Real photos as queries: an opened, dropped or pasted photo goes through the pose estimator (off the GUI
thread), is shown with its skeleton in the *Photo* dock, is cropped to the person as the gallery frames
its images, and becomes a query:

* *this image* — the crop as an image term (the default right after the photo is read);
* *this photo's pose* — the confident estimated posebits as one posebit term (the doubtful ones are
  don't care);
* the whole photo, uncropped, from the dock's button.

When nobody is found the user is told so and nothing else changes: the previous query, its results and
the history stay as they were. A low-confidence estimate is said too. Without a working estimator
(mediapipe missing) the photo is queried whole, as before, with a notice.

:class:`PhotoQuery` talks to the session only through its public requests (``request_image_file``,
``request_query``) and its ``query_changed`` signal.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDockWidget

from posebrowser.core.query import DEFAULT_POSEBIT_MODE, ImageTerm, PosebitTerm, Query
from posebrowser.errors import EstimatorError
from posebrowser.estimate.cache import EstimateCache, default_estimate_cache_dir
from posebrowser.estimate.crop import GALLERY_FILL
from posebrowser.estimate.estimator import PoseEstimator
from posebrowser.estimate.photo import Conditions, PhotoAnalysis, analyse_photo
from posebrowser.estimate.result import NoPersonFound, PoseEstimate
from posebrowser.gui.photo_panel import PhotoChoice, PhotoPanel
from posebrowser.gui.query_edit import posebit_mode
from posebrowser.gui.workers import JobContext

#: The worker lane the estimator runs on (not "compute", where searches wait; it is quick once loaded).
PHOTO_LANE = "light"


def no_person_notice(name: str, outcome: object) -> str:
    """The warning for a photo without a person to query (the query stays as it was)."""
    unchanged = "the query and its results are unchanged."
    if isinstance(outcome, NoPersonFound) and outcome.reason == "image-too-small":
        return f"No person can be looked for in {name}: {outcome.message} Nothing was queried; {unchanged}"
    return f"No person was found in {name}; {unchanged}"


class PhotoQuery(QObject):
    """Owns the photo dock and the query bar's photo choice of ``window``; see the module docstring."""

    photo_changed = Signal(object)
    message = Signal(str)
    info = Signal(str)
    error_occurred = Signal(object)
    job_started = Signal(str, str)
    job_finished = Signal(str)

    def __init__(self, window: Any) -> None:
        """``window`` is the MainWindow (its session, notifier and job widgets; typed loosely)."""
        super().__init__(window)
        self.window = window
        self.session = window.session
        self.panel = PhotoPanel(window)
        self.choice = PhotoChoice(window)
        #: The estimator (made on the worker at first use) and the root of the estimate cache (the user
        #: cache when None); tests set both.
        self.estimator: PoseEstimator | None = None
        self.cache_root: Path | None = None
        self.fill = GALLERY_FILL
        self.photo: PhotoAnalysis | None = None
        #: Threads the analyses ran on (the GUI thread never, unless the workers are synchronous).
        self.analysis_threads: list[str] = []
        self._cache: EstimateCache | None = None
        self.dock: QDockWidget | None = None

    def wire(self, dock: QDockWidget | None = None) -> None:
        """Connect the widgets and the session; ``dock`` (the *Photo* dock) is raised for a new photo."""
        self.dock = dock
        self.panel.whole_photo_requested.connect(self.ask_whole_photo)
        self.choice.image_requested.connect(self.ask_image)
        self.choice.pose_requested.connect(self.ask_pose)
        self.session.query_changed.connect(self._query_changed)
        notifier = self.window.notifier
        self.message.connect(notifier.warning)
        self.info.connect(notifier.info)
        self.error_occurred.connect(notifier.show_exception)
        self.job_started.connect(self.window.job_progress.started)
        self.job_finished.connect(self.window.job_progress.finished)

    # ------------------------------------------------------------------ the photo
    def request_photo(self, path: str) -> None:
        """Estimate the person in the photo at ``path`` on a worker; the answer arrives in :meth:`_done`."""
        self.job_started.emit("photo", "Finding the person in the photo…")
        self.session.workers.submit(
            "photo",
            lambda ctx: self._analyse(ctx, Path(path)),
            self._done,
            lane=PHOTO_LANE,
            on_error=lambda error: self._failed(Path(path), error),
        )

    def _analyse(self, ctx: JobContext, path: Path) -> PhotoAnalysis:
        self.analysis_threads.append(threading.current_thread().name)
        if self.estimator is None:
            self.estimator = PoseEstimator()
        root = self.cache_root if self.cache_root is not None else default_estimate_cache_dir()
        if (
            self._cache is None
            or self._cache.directory.parent != Path(root)
            or self._cache.estimator_version != self.estimator.version
        ):
            self._cache = EstimateCache(root, self.estimator.version)
        ctx.raise_if_cancelled()
        return analyse_photo(path, self.estimator, self._cache, fill=self.fill)

    def _done(self, analysis: PhotoAnalysis) -> None:
        self.job_finished.emit("photo")
        estimate = analysis.estimate
        name = analysis.path.name
        if not isinstance(estimate, PoseEstimate):
            self.message.emit(no_person_notice(name, analysis.outcome))
            return
        self.photo = analysis
        usable, total = len(self.pose_conditions()), self._vocabulary_size()
        self.panel.show_analysis(analysis, usable, total)
        self.choice.show_photo(self._pose_tip(usable, total), usable > 0)
        if self.dock is not None:
            self.dock.show()
            self.dock.raise_()
        self.photo_changed.emit(analysis)
        self._tell_quality(name, usable, total)
        self.ask_image()

    def _failed(self, path: Path, error: BaseException) -> None:
        self.job_finished.emit("photo")
        if isinstance(error, EstimatorError):
            self.message.emit(f"The pose estimator cannot run ({error}); {path.name} is queried whole.")
            self.session.request_image_file(str(path))
            return
        self.error_occurred.emit(error)

    def _tell_quality(self, name: str, usable: int, total: int) -> None:
        estimate = self.photo.estimate if self.photo is not None else None
        if estimate is None:
            return
        if estimate.low_confidence:
            pose = (
                f"{usable} of {total} posebits could be read; the doubtful ones are left out of its "
                "pose query"
                if usable
                else "no posebit could be read, so only the image can be queried"
            )
            self.message.emit(
                f"The person in {name} was found with low confidence (mean joint confidence "
                f"{estimate.mean_confidence:.2f}): {pose}."
            )
        elif estimate.several_people:
            self.info.emit(f"{estimate.people_found} people in {name}: the largest is queried.")

    # ------------------------------------------------------------------ the queries
    def pose_conditions(self) -> Conditions:
        """The photo's confident posebits that the loaded engine's vocabulary knows."""
        if self.photo is None:
            return ()
        names = self._vocabulary_names()
        if names is None:
            return self.photo.conditions
        return tuple(item for item in self.photo.conditions if item[0] in names)

    def ask_image(self) -> None:
        if self.photo is not None and self.photo.crop_path is not None:
            self.session.request_image_file(str(self.photo.crop_path))

    def ask_pose(self) -> None:
        conditions = self.pose_conditions()
        if not conditions:
            self.message.emit("No posebit of this photo could be read with confidence: query the image.")
            self._query_changed(self.session.query)
            return
        full = len(conditions) == self._vocabulary_size()
        settings = getattr(self.session, "settings", None)
        mode = "full" if full else str(getattr(settings, "partial_method", DEFAULT_POSEBIT_MODE))
        if mode == "mask":  # a photo asks ~80 bits at once: no gallery item holds them all, so no mask can
            mode = "conditional"  # be learned; its posebyte goes through the posebit net instead
        self.session.request_query(Query((PosebitTerm(conditions=conditions, mode=posebit_mode(mode)),)))

    def ask_whole_photo(self) -> None:
        if self.photo is not None:
            self.session.request_image_file(str(self.photo.path))

    def _query_changed(self, query: Any) -> None:
        """Check the chip of the photo query the session now shows (neither for any other query)."""
        terms = tuple(getattr(query, "terms", ()))
        choice = ""
        if self.photo is not None and len(terms) == 1:
            term = terms[0]
            if isinstance(term, ImageTerm) and term.path == str(self.photo.crop_path):
                choice = "image"
            elif isinstance(term, PosebitTerm) and term.conditions == tuple(sorted(self.pose_conditions())):
                choice = "pose"
        self.choice.show_choice(choice)

    # ------------------------------------------------------------------ helpers
    def _vocabulary_names(self) -> set[str] | None:
        engine = self.session.engine
        return None if engine is None else set(engine.vocabulary.names)

    def _vocabulary_size(self) -> int:
        names = self._vocabulary_names()
        if names is not None:
            return len(names)
        return len(self.estimator.vocabulary) if self.estimator is not None else 0

    @staticmethod
    def _pose_tip(usable: int, total: int) -> str:
        if not usable:
            return "No posebit of this photo could be read with confidence"
        return (
            f"Query with the photo's pose: {usable} of {total} posebits read with confidence "
            "(the others are don't care)"
        )
