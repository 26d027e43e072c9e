"""The one place where the GUI tells the user something went wrong (or right).

A message goes to the status bar, to a dismissable banner above the central view (warnings and
errors), and to the log dock (everything, with tracebacks for unexpected errors only). User errors
(:class:`PosebrowserError`) are shown as their sentence — never as a traceback dialog.
"""

from __future__ import annotations

import logging
import time
import traceback
from enum import Enum

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStatusBar,
    QToolButton,
    QWidget,
)

from posebrowser.errors import JobCancelledError, PosebrowserError

log = logging.getLogger("posebrowser")


class Level(Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class Banner(QFrame):
    """A one-line dismissable message strip (hidden when empty)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton(self)
        close.setText("✕")
        close.setToolTip("Dismiss this message (Esc)")
        close.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.hide()

    def show_message(self, text: str, level: Level) -> None:
        self.setProperty("level", level.value)
        self.style().unpolish(self)
        self.style().polish(self)
        self.label.setText(text)
        self.show()


class Notifier(QObject):
    """Routes messages and exceptions to the status bar, banner and log list."""

    message_posted = Signal(str, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.status_bar: QStatusBar | None = None
        self.banner: Banner | None = None
        self.log_list: QListWidget | None = None
        self.history: list[tuple[Level, str]] = []

    def attach(self, status_bar: QStatusBar, banner: Banner, log_list: QListWidget) -> None:
        self.status_bar = status_bar
        self.banner = banner
        self.log_list = log_list

    def notify(self, text: str, level: Level = Level.INFO, details: str | None = None) -> None:
        """Show ``text`` (a sentence for a person); ``details`` (a traceback) goes to the log only."""
        self.history.append((level, text))
        log.log(logging.ERROR if level is Level.ERROR else logging.INFO, "%s", text)
        if self.status_bar is not None:
            self.status_bar.showMessage(text, 8000)
        if self.banner is not None and level is not Level.INFO:
            self.banner.show_message(text, level)
        if self.log_list is not None:
            stamp = time.strftime("%H:%M:%S")
            item = QListWidgetItem(f"{stamp}  {level.value.upper():7}  {text}")
            if details:
                item.setToolTip(details)
            self.log_list.addItem(item)
            self.log_list.scrollToBottom()
        self.message_posted.emit(level.value, text)

    def info(self, text: str) -> None:
        self.notify(text, Level.INFO)

    def clear_errors(self) -> None:
        """Hide the banner when it shows an error (a later success made it stale); warnings stay, and the
        Messages log keeps everything."""
        if self.banner is not None and self.banner.property("level") == Level.ERROR.value:
            self.banner.hide()

    def warning(self, text: str) -> None:
        self.notify(text, Level.WARNING)

    def show_exception(self, error: BaseException) -> None:
        """User errors as their sentence; cancellations as info; anything else as an unexpected
        error with the traceback kept in the log dock."""
        if isinstance(error, JobCancelledError):
            self.notify(error.user_message, Level.INFO)
        elif isinstance(error, PosebrowserError):
            self.notify(error.user_message, Level.ERROR)
        elif isinstance(error, (OSError, ValueError)):
            details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
            self.notify(f"{type(error).__name__}: {error}", Level.ERROR, details)
        else:
            details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
            log.error("unexpected error\n%s", details)
            self.notify(
                f"Unexpected error ({type(error).__name__}: {error}); details in the log.",
                Level.ERROR,
                details,
            )
