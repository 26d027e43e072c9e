"""Composition root of the desktop app: parse arguments, build the session and the main window, show
the window first and open the engine (torch, faiss, the gallery) afterwards on the worker thread."""

from __future__ import annotations

import argparse
import logging
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from posebrowser.gui.main_window import MainWindow
from posebrowser.gui.notifications import Notifier
from posebrowser.gui.session import EngineFactory, Session
from posebrowser.gui.settings_store import SettingsStore
from posebrowser.gui.theme import apply_dark_theme, configure_high_dpi
from posebrowser.gui.workers import JobContext, Workers

log = logging.getLogger("posebrowser")


class _ExceptionRelay(QObject):
    """Carries exceptions from any thread to the notifier on the GUI thread."""

    raised = Signal(object)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="posebrowser",
        description="Explore pose-aware embedding spaces (opens the desktop app).",
        epilog="Headless commands: python -m posebrowser <command> --help "
        "(synth, embed, query, train, evaluate, project, export).",
    )
    parser.add_argument("--gallery", help="gallery folder (default: the built-in gallery)")
    parser.add_argument("--models", help="models folder (default: the shipped models)")
    parser.add_argument("--device", choices=("auto", "cuda", "cpu"), default="auto")
    parser.add_argument(
        "--image-model",
        default=None,
        help="image model in the models folder: fused_net (the CNN blended with the pose estimator's "
        "reading; default where present), image_net (the CNN alone) or joints_net (pose estimator + "
        "joints net; posebit queries and masks are off, they live in the CNN's space)",
    )
    parser.add_argument("--cache-dir", help="embedding cache folder")
    parser.add_argument("--settings", help="settings INI file (default: the user's settings)")
    parser.add_argument("--session", help="restore this session file after start-up")
    parser.add_argument("--quit-after-shown", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


#: Image models the app can open, in menu order: (models-folder name, label).
IMAGE_MODELS: tuple[tuple[str, str], ...] = (
    ("fused_net", "Image CNN + pose estimator (fused)"),
    ("image_net", "Image CNN alone (EfficientNet-Lite0)"),
    ("joints_net", "Pose estimator + joints net"),
    ("keypoint_reader", "Keypoint net + lifter (no pose estimator)"),
)


class RealEngineFactory:
    """Opens a :class:`RetrievalEngine` on a worker (torch is imported there, after the window shows).
    ``image_model`` is the models-folder name of the image model the next opening uses; the app's
    *Image model* menu changes it and reopens the gallery."""

    def __init__(
        self, models_dir: str | None, device: str, cache_dir: str | None, image_model: str | None = None
    ) -> None:
        from posebrowser.core.locations import DEFAULT_IMAGE_MODEL, resolve_image_model  # no torch yet

        self.models_dir, self.device, self.cache_dir = models_dir, device, cache_dir
        # default: the fused model, or the CNN alone in a folder without it (as the engine resolves it)
        self.image_model = image_model or resolve_image_model(self._folder(), DEFAULT_IMAGE_MODEL)

    def _folder(self) -> Path:
        from posebrowser.core.locations import default_models_dir  # not core.engine: no torch yet

        return Path(self.models_dir) if self.models_dir is not None else default_models_dir()

    def image_models(self) -> tuple[tuple[str, str], ...]:
        """The image models present in the models folder, as (name, label)."""
        folder = self._folder()
        return tuple(
            (name, label) for name, label in IMAGE_MODELS if (folder / f"{name}.safetensors").is_file()
        )

    def __call__(self, context: JobContext, gallery_path: str | None) -> Any:
        from posebrowser.core.engine import RetrievalEngine

        return RetrievalEngine.open(
            gallery_path,
            self.models_dir,
            self.device,
            self.cache_dir,
            progress=context.progress,
            cancel=context.cancelled,
            image_model=self.image_model,
        )


def install_exception_hooks(notifier: Notifier) -> _ExceptionRelay:
    """Uncaught exceptions (GUI thread or any other) go to the notifier, never to a crash dialog."""
    relay = _ExceptionRelay()
    relay.raised.connect(notifier.show_exception)

    def hook(kind: type[BaseException], value: BaseException, trace: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, trace)
            return
        log.error("uncaught exception", exc_info=(kind, value, trace))
        relay.raised.emit(value)

    def thread_hook(arguments: threading.ExceptHookArgs) -> None:
        if arguments.exc_value is not None:
            log.error(
                "uncaught exception in thread %s",
                arguments.thread,
                exc_info=(arguments.exc_type, arguments.exc_value, arguments.exc_traceback),
            )
            relay.raised.emit(arguments.exc_value)

    sys.excepthook = hook
    threading.excepthook = thread_hook
    return relay


def build(
    engine_factory: EngineFactory, settings: SettingsStore, synchronous: bool = False
) -> tuple[MainWindow, Session, Notifier]:
    """Wire workers → session → window (used by :func:`main` and by the tests with a fake engine)."""
    workers = Workers(synchronous=synchronous)
    session = Session(engine_factory, workers)
    notifier = Notifier()
    window = MainWindow(session, notifier, settings)
    workers.setParent(window)
    session.setParent(window)
    notifier.setParent(window)
    return window, session, notifier


def main(argv: Sequence[str] | None = None) -> int:
    started = time.perf_counter()
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    configure_high_dpi()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("posebrowser")
    app.setOrganizationName("posebrowser")
    apply_dark_theme(app)
    settings = SettingsStore(args.settings)
    window, session, notifier = build(
        RealEngineFactory(args.models, args.device, args.cache_dir, args.image_model), settings
    )
    relay = install_exception_hooks(notifier)
    relay.setParent(window)
    window.show()
    if args.quit_after_shown:
        app.processEvents()
        print(f"window shown after {time.perf_counter() - started:.3f} s", flush=True)
        return 0

    def after_load() -> None:
        if args.session:
            from posebrowser.gui.session_io import restore_session

            try:
                restore_session(session, Path(args.session))
            except Exception as error:  # a bad session file is a message, not a crash
                notifier.show_exception(error)

    QTimer.singleShot(0, lambda: session.load(args.gallery, on_loaded=after_load))
    return int(app.exec())
