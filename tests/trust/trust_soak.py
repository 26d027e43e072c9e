"""A seeded monkey for the real MainWindow (offscreen): thousands of random user actions — clicks on
thumbnails and results, posebit toggles, typed queries (good and bad), combo boxes, check boxes, menu
actions and shortcuts, lasso drags in the projection, dropped files (images and bad files), session
save/restore, exports, cancelling jobs, closing dialogs — while counting escaped exceptions, untyped
errors shown to the user, and resident memory.

File dialogs and message boxes are replaced by non-blocking fakes (a modal dialog would stop the
monkey); the fake file dialog answers with a random path from ``files`` or "cancel".
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QLineEdit,
    QMessageBox,
    QToolButton,
    QTreeWidgetItem,
)

from posebrowser.errors import PosebrowserError

SHORTCUTS = ("Alt+Left", "Alt+Right", "Esc", "Ctrl+L", "Ctrl+F", "L", "Ctrl+Backspace", "Tab", "Down",
             "Return", "Space")
EXCLUDED_ACTIONS = ("Quit",)


def resident_mib() -> float:
    """Resident set size of this process in MiB (Linux ``/proc/self/statm``)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])  # resident pages
    return pages * 4096 / 2**20


@dataclass
class SoakStats:
    actions: int = 0
    per_kind: dict[str, int] = field(default_factory=dict)
    escaped: list[str] = field(default_factory=list)
    untyped_errors: list[str] = field(default_factory=list)
    typed_errors: int = 0
    memory_start_mib: float = 0.0
    memory_end_mib: float = 0.0
    memory_trace_mib: list[float] = field(default_factory=list)
    growth_per_kind: dict[str, float] = field(default_factory=dict)
    big_steps: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def memory_growth_mib(self) -> float:
        return self.memory_end_mib - self.memory_start_mib


class Monkey:
    """Performs random actions on ``window`` (a MainWindow whose session has an engine)."""

    def __init__(self, window: Any, rng: np.random.Generator, files: list[str], stats: SoakStats) -> None:
        self.window, self.rng, self.files, self.stats = window, rng, files, stats
        self.session = window.session
        vocabulary = self.session.engine.vocabulary
        labels = [bit.label for bit in vocabulary.bits]
        self.expressions = ["[img 3]", "2*[img 1] - 0.5*[img 7]", f"[{labels[0]}]",
                            f"[{labels[1]}=0]{{mask}}",
                            f"[img 5] + [{labels[2]}]{{conditional}}", "[img 999999]", "[nonsense]", "", "((",
                            "[img 2] - [img 2]", f"[file:{files[0]}]", "[" * 50, "1e400*[img 1]"]
        self.kinds = {
            "click thumbnail": self.click_thumbnail, "click result": self.click_result,
            "toggle posebit": self.toggle_posebit, "type query": self.type_query, "combo": self.combo,
            "button": self.button, "menu action": self.menu_action, "shortcut": self.shortcut,
            "lasso drag": self.lasso_drag, "drop file": self.drop_file, "resize": self.resize,
            "cancel jobs": self.cancel, "close dialogs": self.close_dialogs,
        }
        self.names = list(self.kinds)
        self.last = ""
        self.weights = np.array([8, 6, 8, 5, 4, 6, 4, 4, 3, 3, 1, 2, 1], dtype=float)
        self.weights /= self.weights.sum()

    def pick(self, items: list[Any]) -> Any:
        return items[int(self.rng.integers(len(items)))] if items else None

    def step(self) -> None:
        kind = self.names[int(self.rng.choice(len(self.names), p=self.weights))]
        before = resident_mib()
        self.kinds[kind]()
        grown = resident_mib() - before
        self.stats.growth_per_kind[kind] = round(self.stats.growth_per_kind.get(kind, 0.0) + grown, 1)
        if grown > 20:
            self.stats.big_steps.append(f"{kind} {self.last}: +{grown:.0f} MiB")
        self.stats.per_kind[kind] = self.stats.per_kind.get(kind, 0) + 1
        self.stats.actions += 1

    # ------------------------------------------------------------------------------------ actions
    def click_list(self, view: Any) -> None:
        model = view.model()
        if model is None or model.rowCount() == 0:
            return
        index = model.index(int(self.rng.integers(model.rowCount())), 0)
        view.scrollTo(index)
        rect = view.visualRect(index)
        if rect.isValid():
            QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                             rect.center())

    def click_thumbnail(self) -> None:
        self.click_list(self.window.gallery_view.list)

    def click_result(self) -> None:
        views = [v for v in self.window.results_view.findChildren(type(self.window.gallery_view.list))]
        if views:
            self.click_list(views[0])

    def toggle_posebit(self) -> None:
        items: list[QTreeWidgetItem] = list(self.window.posebit_panel._items.values())
        item = self.pick(items)
        if item is None:
            return
        column = int(self.rng.integers(1, 3))
        state = item.checkState(column)
        item.setCheckState(column, Qt.CheckState.Unchecked if state == Qt.CheckState.Checked
                           else Qt.CheckState.Checked)

    def type_query(self) -> None:
        edits = [e for e in self.window.findChildren(QLineEdit) if e.isVisible() and e.isEnabled()]
        edit = self.pick(edits)
        if edit is None:
            return
        edit.setFocus()
        edit.setText(self.pick(self.expressions) if self.rng.random() < 0.8 else f"{self.rng.normal():.2f}")
        QTest.keyClick(edit, Qt.Key.Key_Return)

    def combo(self) -> None:
        combos = [c for c in self.window.findChildren(QComboBox)
                  if c.isVisible() and c.isEnabled() and c.count()]
        combo = self.pick(combos)
        if combo is not None:
            combo.setCurrentIndex(int(self.rng.integers(combo.count())))

    def button(self) -> None:
        buttons = [b for b in self.window.findChildren(QAbstractButton) if b.isVisible() and b.isEnabled()]
        button = self.pick(buttons)
        if button is None:
            return
        self.last = button.text() or button.toolTip()
        menu = button.menu() if isinstance(button, QToolButton) else None
        if menu is not None:  # a drop-down button: its popup runs a modal loop, so pick what it offers
            action = self.pick([a for a in menu.actions() if a.isEnabled() and a.text()])
            if action is not None:
                self.last += f" → {action.text()}"
                action.trigger()
            return
        button.click() if not isinstance(button, QCheckBox) else button.toggle()

    def menu_action(self) -> None:
        # What a user can reach: the menu bar's menus (not actions of hidden context menus).
        reachable = [a for menu in self.window.menuBar().actions() if menu.menu() is not None
                     for a in menu.menu().actions()]
        actions = [a for a in reachable
                   if a.isEnabled() and a.text().replace("&", "") not in EXCLUDED_ACTIONS and a.text()]
        action = self.pick(actions)
        if action is not None:
            self.last = action.text()
            action.trigger()

    def shortcut(self) -> None:
        sequence = QKeySequence(self.pick(list(SHORTCUTS)))
        combined = sequence[0]
        target = QApplication.focusWidget() or self.window
        QTest.keyClick(target, combined.key(), combined.keyboardModifiers())

    def lasso_drag(self) -> None:
        view = self.window.projection_view
        if self.rng.random() < 0.5:
            view.lasso.toggle()
        viewport = view.plot.viewport()
        width, height = max(viewport.width(), 2), max(viewport.height(), 2)
        points = [QPoint(int(self.rng.integers(width)), int(self.rng.integers(height))) for _ in range(5)]
        QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
        for point in points[1:]:
            QTest.mouseMove(viewport, point)
        QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])

    def drop_file(self) -> None:
        self.window.gallery_view.image_file_requested.emit(self.pick(self.files))

    def resize(self) -> None:
        self.window.resize(int(self.rng.integers(500, 1600)), int(self.rng.integers(400, 1000)))

    def cancel(self) -> None:
        self.session.cancel_jobs()

    def close_dialogs(self) -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, QDialog) and widget.isVisible():
                widget.reject()


def patch_dialogs(monkey: Monkey, save_folder: Path) -> list[tuple[Any, str, Any]]:
    """Replace blocking dialogs by fakes; returns what to restore."""
    saved: list[tuple[Any, str, Any]] = []

    def replace(owner: Any, name: str, value: Any) -> None:
        saved.append((owner, name, owner.__dict__.get(name, getattr(owner, name))))
        setattr(owner, name, value)

    def open_name(*args: Any, **kwargs: Any) -> tuple[str, str]:
        return ("", "") if monkey.rng.random() < 0.2 else (monkey.pick(monkey.files), "")

    def save_name(parent: Any, title: str = "", start: str = "", file_filter: str = "",
                  *args: Any, **kwargs: Any) -> tuple[str, str]:
        # Like the real dialog: a name with one of the filter's suffixes ("PNG (*.png);;SVG (*.svg)").
        suffixes = [part.split(")")[0] for part in file_filter.split("(*")[1:]] or [".csv"]
        suffix = monkey.pick([s.split()[0] for s in suffixes])
        return (str(save_folder / f"out_{int(monkey.rng.integers(5))}{suffix}"), "")

    replace(QFileDialog, "getOpenFileName", staticmethod(open_name))
    replace(QFileDialog, "getSaveFileName", staticmethod(save_name))
    replace(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: ""))
    for name in ("information", "warning", "critical", "question"):
        replace(QMessageBox, name, staticmethod(lambda *a, **k: QMessageBox.StandardButton.Ok))
    return saved


def run_soak(window: Any, actions: int, seed: int, files: list[str], save_folder: Path,
             settle_ms: int = 1, warm_up_actions: int = 300,
             progress: Callable[[int], None] | None = None) -> SoakStats:
    """Run ``actions`` random actions against ``window`` after ``warm_up_actions`` uncounted ones (memory
    growth is measured from the end of the warm-up to the end)."""
    stats = SoakStats()
    rng = np.random.default_rng(seed)
    monkey = Monkey(window, rng, files, stats)
    restore = patch_dialogs(monkey, save_folder)
    previous_hook, previous_thread_hook = sys.excepthook, threading.excepthook

    def hook(kind: type[BaseException], value: BaseException, trace: Any) -> None:
        stats.escaped.append("".join(traceback.format_exception(kind, value, trace)[-4:]))

    def thread_hook(arguments: threading.ExceptHookArgs) -> None:
        stats.escaped.append(f"thread {arguments.exc_type.__name__}: {arguments.exc_value}")

    def on_error(error: BaseException) -> None:
        if isinstance(error, PosebrowserError):
            stats.typed_errors += 1
        else:
            stats.untyped_errors.append(f"{type(error).__name__}: {error}")

    # Session errors reach the notifier through a signal; the window's own guarded file actions call
    # notifier.show_exception directly: catch both.
    window.session.error_occurred.connect(on_error)
    original_show = window.notifier.show_exception
    window.notifier.show_exception = lambda error: (on_error(error), original_show(error))
    sys.excepthook, threading.excepthook = hook, thread_hook
    started = time.monotonic()
    trace_every = max(1, actions // 10)
    try:
        # Warm-up (not counted): lazy imports, thumbnail and pixmap caches fill up to their limits.
        warm_up = Monkey(window, np.random.default_rng(seed + 1), files, SoakStats())
        for number in range(min(warm_up_actions, actions)):
            warm_up.step()
            QTest.qWait(settle_ms) if number % 10 == 0 else QApplication.processEvents()
        stats.memory_start_mib = resident_mib()
        for number in range(actions):
            if number % trace_every == 0:
                stats.memory_trace_mib.append(round(resident_mib(), 1))
            if progress is not None and number % 100 == 0:
                progress(number)
            monkey.step()
            QTest.qWait(settle_ms) if number % 10 == 0 else QApplication.processEvents()
        window.session.cancel_jobs()
        QTest.qWait(50)
        stats.memory_end_mib = resident_mib()
    finally:
        sys.excepthook, threading.excepthook = previous_hook, previous_thread_hook
        window.notifier.show_exception = original_show
        window.session.error_occurred.disconnect(on_error)
        for owner, name, value in reversed(restore):
            setattr(owner, name, value)
    stats.seconds = time.monotonic() - started
    return stats
