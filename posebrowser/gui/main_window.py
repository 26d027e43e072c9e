"""The main window: docks, menus and shortcuts, and the wiring of view intents to the session and of
session state to views. No logic lives here."""

from __future__ import annotations

import html
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QDockWidget,
    QFileDialog,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from posebrowser.data.image_folder import annotations_estimated
from posebrowser.gui import session_io
from posebrowser.gui.dock_heights import TabHeights
from posebrowser.gui.gallery_view import IMAGE_SUFFIXES, GalleryView
from posebrowser.gui.insight import Insight
from posebrowser.gui.mask_view import MaskView
from posebrowser.gui.model_menu import build_image_model_menu
from posebrowser.gui.notifications import Banner, Notifier
from posebrowser.gui.photo_query import PhotoQuery
from posebrowser.gui.posebit_panel import PosebitPanel
from posebrowser.gui.projection_view import ProjectionView
from posebrowser.gui.query_bar import QueryBar
from posebrowser.gui.results_export import RESULTS_FILTER, export_results_in_background
from posebrowser.gui.results_view import ResultsView
from posebrowser.gui.session import Session
from posebrowser.gui.settings_store import SettingsStore
from posebrowser.gui.state import (
    PARTIAL_METHODS,
    EngineInfo,
    ResultsState,
    available_projection_methods,
)
from posebrowser.gui.status_widgets import EngineStatus, JobProgress
from posebrowser.gui.theme import icon
from posebrowser.gui.thumbnails import ThumbnailLoader

#: The Evaluation tab's height when raised (its curves legible); Mask and Messages open as a strip.
EVALUATION_HEIGHT = 320
STRIP_HEIGHT = 100
IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ")"


class MainWindow(QMainWindow):
    def __init__(
        self,
        session: Session,
        notifier: Notifier,
        settings: SettingsStore,
        loader: ThumbnailLoader | None = None,
    ) -> None:
        super().__init__()
        self.session, self.notifier, self.settings = session, notifier, settings
        self.loader = loader or ThumbnailLoader(self)
        self.setWindowTitle("posebrowser")
        self.setWindowIcon(icon("app"))
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks)
        self.gallery_view = GalleryView(self.loader, self)
        self.posebit_panel = PosebitPanel(self)
        self.query_bar = QueryBar(self.loader, self)
        self.results_view = ResultsView(self.loader, self)
        self.projection_view = ProjectionView(self.loader, self)
        self.mask_view = MaskView(self)
        self.log_list = QListWidget(self)
        self.banner = Banner(self)
        self.insight = Insight(self)
        self.photo = PhotoQuery(self)
        self.query_bar.add_row_above_chips(self.photo.choice)
        central = QWidget(self)
        column = QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.banner)
        column.addWidget(self.query_bar)
        column.addWidget(self.results_view, 1)
        self.setCentralWidget(central)
        self.docks: dict[str, QDockWidget] = {}
        area = Qt.DockWidgetArea
        for name, title, widget, where in (
            ("gallery", "Gallery", self.gallery_view, area.LeftDockWidgetArea),
            ("posebits", "Posebits", self.posebit_panel, area.RightDockWidgetArea),
            ("projection", "Projection", self.projection_view, area.RightDockWidgetArea),
            ("mask", "Mask", self.mask_view, area.BottomDockWidgetArea),
            ("log", "Messages", self.log_list, area.BottomDockWidgetArea),
            ("inspector", "Inspector", self.insight.inspector, area.LeftDockWidgetArea),
            ("photo", "Photo", self.photo.panel, area.LeftDockWidgetArea),
            ("evaluation", "Evaluation", self.insight.evaluation_view, area.BottomDockWidgetArea),
        ):
            dock = QDockWidget(title, self)
            dock.setObjectName(f"dock_{name}")
            dock.setWidget(widget)
            self.addDockWidget(where, dock)
            self.docks[name] = dock
        self.tabifyDockWidget(self.docks["mask"], self.docks["log"])
        self.tabifyDockWidget(self.docks["mask"], self.docks["evaluation"])
        self.splitDockWidget(self.docks["gallery"], self.docks["inspector"], Qt.Orientation.Vertical)
        self.tabifyDockWidget(self.docks["inspector"], self.docks["photo"])
        self.docks["inspector"].raise_()
        self.docks["mask"].raise_()
        bottom = {"mask": STRIP_HEIGHT, "log": STRIP_HEIGHT, "evaluation": EVALUATION_HEIGHT}
        self.bottom_heights = TabHeights(self, {self.docks[name]: px for name, px in bottom.items()})
        self.engine_status = EngineStatus(self)
        self.job_progress = JobProgress(self)
        self.statusBar().addPermanentWidget(self.job_progress)
        self.statusBar().addPermanentWidget(self.engine_status)
        notifier.attach(self.statusBar(), self.banner, self.log_list)
        self._build_menus()
        self.insight.wire_first()
        self._wire()
        self.insight.wire()
        self.photo.wire(self.docks["photo"])
        self.resize(1400, 900)
        self.resizeDocks([self.docks["mask"]], [STRIP_HEIGHT], Qt.Orientation.Vertical)
        self.resizeDocks(
            [self.docks["gallery"], self.docks["posebits"]], [330, 440], Qt.Orientation.Horizontal
        )
        self.resizeDocks(
            [self.docks["posebits"], self.docks["projection"]], [380, 420], Qt.Orientation.Vertical
        )
        self.resizeDocks(  # the gallery shows rows of thumbnails to pick from, not one
            [self.docks["gallery"], self.docks["inspector"]], [280, 470], Qt.Orientation.Vertical
        )
        geometry, state = settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        self._restore_preferences()

    # ------------------------------------------------------------------ menus and shortcuts
    def _action(
        self,
        menu: Any,
        text: str,
        slot: Any,
        shortcut: Any = None,
        tip: str = "",
        icon_name: str | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        if icon_name:
            action.setIcon(icon(icon_name))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        keys = QKeySequence.StandardKey
        file_menu = self.menuBar().addMenu("&File")
        self._action(
            file_menu, "Open image as query…", self.open_image, keys.Open, "Query with an image file", "open"
        )
        self._action(
            file_menu,
            "Open gallery folder…",
            self.open_gallery,
            "Ctrl+Shift+O",
            "Open another gallery (posebrowser, thesis layout or a folder of images)",
        )
        self._action(file_menu, "Paste image as query", self.paste_image, keys.Paste)
        file_menu.addSeparator()
        self._action(file_menu, "Save session…", self.save_session, keys.Save, "Save the whole state", "save")
        self._action(file_menu, "Restore session…", self.restore_session, "Ctrl+Shift+R")
        file_menu.addSeparator()
        self._action(
            file_menu,
            "Export results (figure + CSV/JSON)…",
            self.export_results,
            "Ctrl+E",
            "The query and every result: a PDF, SVG or PNG figure with CSV and JSON tables beside it",
            "export",
        )
        self._action(
            file_menu, "Screenshot of the results grid (PNG/SVG)…", self.export_results_grid, "Ctrl+Shift+E"
        )
        self._action(file_menu, "Export projection (PNG/SVG)…", self.export_projection, "Ctrl+Alt+E")
        file_menu.addSeparator()
        self._action(file_menu, "Quit", self.close, keys.Quit)
        query_menu = self.menuBar().addMenu("&Query")
        self.back_action = self._action(
            query_menu, "Back", self.session.back, "Alt+Left", "Previous query", "back"
        )
        self.forward_action = self._action(
            query_menu, "Forward", self.session.forward, "Alt+Right", "Next query", "forward"
        )
        self._action(query_menu, "Clear query", lambda: self.session.request_query(None), "Ctrl+Backspace")
        self._action(query_menu, "Type a query", self.query_bar.expression.setFocus, "Ctrl+L")
        self._action(query_menu, "Find posebit", self.posebit_panel.search.setFocus, keys.Find)
        self._action(query_menu, "Toggle lasso", self.projection_view.lasso.toggle, "L")
        self._action(
            query_menu, "Cancel running job / dismiss message", self._escape, "Esc", icon_name="cancel"
        )
        self.image_model_menu = build_image_model_menu(query_menu, self.session)
        self.insight.build_menu(self.menuBar().addMenu("Fi&gures"))
        view_menu = self.menuBar().addMenu("&View")
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "Keyboard shortcuts", self.show_shortcuts, "F1")

    def _wire(self) -> None:
        s = self.session
        s.engine_changed.connect(self._engine_changed)
        s.query_changed.connect(self.query_bar.show_query)
        s.results_changed.connect(self._results_changed)
        s.results_changed.connect(lambda state: self.notifier.clear_errors() if state is not None else None)
        s.conditions_changed.connect(self.posebit_panel.show_conditions)
        s.match_count_changed.connect(self.posebit_panel.show_count)
        s.gallery_filter_changed.connect(
            lambda indices: self.gallery_view.set_gallery(s.image_path, indices, s.gallery_size)
        )
        s.projection_changed.connect(self.projection_view.show_projection)
        s.colours_changed.connect(self.projection_view.show_colours)
        s.selection_changed.connect(self.projection_view.show_selection)
        s.selection_changed.connect(
            lambda ix: self.statusBar().showMessage(f"{len(ix):,} points selected", 4000)
        )
        s.mask_changed.connect(self.mask_view.show_mask)
        s.history_changed.connect(self._history_changed)
        s.settings_changed.connect(self._settings_changed)
        s.job_started.connect(self.job_progress.started)
        s.job_finished.connect(self.job_progress.finished)
        s.job_progress.connect(self.job_progress.progressed)
        s.error_occurred.connect(self.notifier.show_exception)
        s.message.connect(self.notifier.warning)
        s.info.connect(self.notifier.info)
        self.gallery_view.image_query_requested.connect(s.request_image_query)
        self.gallery_view.image_file_requested.connect(self.photo.request_photo)
        self.gallery_view.split_requested.connect(s.set_split)
        self.results_view.count_requested.connect(s.set_result_count)
        self.gallery_view.filter_by_posebits_requested.connect(s.set_filter_by_posebits)
        self.posebit_panel.conditions_requested.connect(s.request_conditions)
        self.posebit_panel.partial_method_requested.connect(s.set_partial_method)
        self.posebit_panel.weight_asked_bits_requested.connect(s.set_weight_asked_bits)
        self.posebit_panel.colour_by_requested.connect(s.set_colour_by)
        self.query_bar.weight_requested.connect(s.request_term_weight)
        self.query_bar.remove_requested.connect(s.request_remove_term)
        self.query_bar.name_requested.connect(s.request_term_name)
        self.query_bar.expression_requested.connect(s.request_expression)
        self.query_bar.back_requested.connect(s.back)
        self.query_bar.forward_requested.connect(s.forward)
        self.query_bar.clear_requested.connect(lambda: s.request_query(None))
        self.results_view.image_query_requested.connect(s.request_image_query)
        self.results_view.add_term_requested.connect(s.request_add_result_term)
        self.results_view.criterion_changed.connect(s.set_frame_criterion)
        s.frame_criterion_changed.connect(self.results_view.set_criterion)
        self.projection_view.method_requested.connect(lambda method: s.request_projection(method=method))
        self.projection_view.subspace_requested.connect(lambda on: s.request_projection(subspace=on))
        self.projection_view.colour_by_requested.connect(s.set_colour_by)
        self.projection_view.params_requested.connect(s.set_projection_params)
        self.projection_view.image_query_requested.connect(s.request_image_query)
        self.projection_view.selection_requested.connect(s.set_selection)
        self.projection_view.selection_query_requested.connect(s.request_selection_query)
        self.projection_view.export_selection_requested.connect(self.export_selection)
        self.engine_status.device_requested.connect(s.set_device)
        self.job_progress.cancel_requested.connect(s.cancel_jobs)
        self.setAcceptDrops(True)

    def _escape(self) -> None:
        self.session.cancel_jobs()
        self.banner.hide()

    # ------------------------------------------------------------------ session → views
    def _engine_changed(self, info: EngineInfo) -> None:
        self.engine_status.show_info(info)
        self._show_annotation_source(annotations_estimated(self.session.engine.gallery))
        vocabulary = self.session.engine.vocabulary
        labels = {bit.name: bit.label for bit in vocabulary.bits}
        if self.posebit_panel.tree.topLevelItemCount() == 0 or set(labels) != set(
            self.posebit_panel.bit_names()
        ):
            self.posebit_panel.set_vocabulary(vocabulary)
            self.projection_view.set_colour_choices(labels)
        self.query_bar.set_labels(labels)
        self.query_bar.path_for = self.session.image_path
        self.projection_view.path_for = self.session.image_path
        self.setWindowTitle(f"posebrowser — {info.gallery_name}")

    def _show_annotation_source(self, estimated: bool) -> None:
        """Say in the status bar, the posebit panel and the gallery's posebit filter whether the gallery's
        joints and posebits were estimated from the photos (results and inspector say it themselves)."""
        self.engine_status.show_annotation_source(estimated)
        self.posebit_panel.set_estimated(estimated)
        self.gallery_view.set_estimated(estimated)

    def _results_changed(self, state: ResultsState | None) -> None:
        self.results_view.show_results(state)
        self.projection_view.show_results(state.indices if state is not None else np.zeros(0, dtype=np.int64))

    def _settings_changed(self) -> None:
        settings = self.session.settings
        self.posebit_panel.show_partial_method(settings.partial_method)
        self.posebit_panel.show_weight_asked_bits(settings.weight_asked_bits)
        self.gallery_view.show_filters(settings.split, settings.filter_by_posebits)
        if self.results_view.count.value() != settings.k:  # e.g. a restored session
            self.results_view.count.setValue(settings.k)
        parameters = self.projection_view.parameters  # setValue emits no editingFinished: no new request
        parameters.perplexity.setValue(float(settings.projection_param("tsne", "perplexity")))
        parameters.neighbours.setValue(int(settings.projection_param("umap", "n_neighbors")))

    def _history_changed(self, can_back: bool, can_forward: bool) -> None:
        self.query_bar.set_history(can_back, can_forward)
        self.back_action.setEnabled(can_back)
        self.forward_action.setEnabled(can_forward)

    # ------------------------------------------------------------------ file actions
    def _save_path(self, title: str, file_filter: str, default: str) -> str:
        start = str(Path(self.settings.value("paths/last_dir", str(Path.home()))) / default)
        path, _ = QFileDialog.getSaveFileName(self, title, start, file_filter)
        if path:
            self.settings.set_value("paths/last_dir", str(Path(path).parent))
        return path

    def _open_path(self, title: str, file_filter: str) -> str:
        path, _ = QFileDialog.getOpenFileName(
            self, title, self.settings.value("paths/last_dir", ""), file_filter
        )
        if path:
            self.settings.set_value("paths/last_dir", str(Path(path).parent))
        return path

    def _guarded(self, work: Any, done: str) -> None:
        try:
            result = work()
        except Exception as error:  # shown in one place; a failed export never crashes the app
            self.notifier.show_exception(error)
        else:
            self.notifier.info(done.format(result=result))

    def open_image(self) -> None:
        path = self._open_path("Query with an image", IMAGE_FILTER)
        if path:
            self.photo.request_photo(path)

    def open_gallery(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, "Open gallery folder", self.settings.value("paths/last_dir")
        )
        if folder:
            self.session.load(folder)

    def paste_image(self) -> None:
        clipboard = QGuiApplication.clipboard()
        mime = clipboard.mimeData()
        if mime is not None and mime.hasUrls() and mime.urls()[0].isLocalFile():
            self.photo.request_photo(mime.urls()[0].toLocalFile())
            return
        image = clipboard.image()
        if image.isNull():
            self.notifier.warning("The clipboard holds no image.")
            return
        descriptor, name = tempfile.mkstemp(prefix="posebrowser-paste-", suffix=".png")
        os.close(descriptor)
        if not image.save(name):
            self.notifier.warning("The pasted image could not be stored for the query.")
            return
        self.photo.request_photo(name)

    def save_session(self) -> None:
        path = self._save_path(
            "Save session", "posebrowser session (*.pbsession.json *.json)", "session.pbsession.json"
        )
        if path:
            self._guarded(lambda: session_io.save_session(self.session, path), f"Session saved to {path}.")

    def restore_session(self) -> None:
        path = self._open_path("Restore session", "posebrowser session (*.json)")
        if path:  # the session announces success itself, once it is applied
            try:
                session_io.restore_session(self.session, path)
            except Exception as error:
                self.notifier.show_exception(error)

    def export_results(self) -> None:
        path = self._save_path("Export results", RESULTS_FILTER, "results.pdf")
        if path:  # drawn on a worker; the notifier names the files written
            export_results_in_background(self, path)

    def export_selection(self) -> None:
        path = self._save_path("Export selection", "CSV (*.csv)", "selection.csv")
        if path:
            self._guarded(
                lambda: session_io.export_selection(self.session, path),
                "Exported {result} selected points to " + path + ".",
            )

    def export_results_grid(self) -> None:
        path = self._save_path("Export results grid", "PNG (*.png);;SVG (*.svg)", "results.png")
        if path:
            self._guarded(lambda: self.results_view.export_image(path), f"Results grid written to {path}.")

    def export_projection(self) -> None:
        path = self._save_path("Export projection", "PNG (*.png);;SVG (*.svg)", "projection.png")
        if path:
            self._guarded(lambda: self.projection_view.export_image(path), f"Projection written to {path}.")

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(keys, what) for every menu action and button with a shortcut, sorted by what they do."""
        native = QKeySequence.SequenceFormat.NativeText
        rows = {
            (a.shortcut().toString(native), a.text().replace("&", ""))
            for a in self.findChildren(QAction)
            if not a.shortcut().isEmpty()
        }
        rows |= {
            (b.shortcut().toString(native), (b.toolTip() or b.text()).split(" (")[0])
            for b in self.findChildren(QAbstractButton)
            if not b.shortcut().isEmpty()
        }
        return sorted(rows, key=lambda row: row[1].lower())

    def show_shortcuts(self) -> None:
        cells = "".join(
            f"<tr><td style='padding-right:16px'><b>{html.escape(keys)}</b></td>"
            f"<td>{html.escape(what)}</td></tr>"
            for keys, what in self.shortcut_rows()
        )
        box = QMessageBox(
            QMessageBox.Icon.Information, "Keyboard shortcuts", f"<table>{cells}</table>", parent=self
        )
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setModal(False)  # a reference card: stays open beside the window and never blocks the app
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        self.shortcuts_box = box

    # ------------------------------------------------------------------ window events
    def dragEnterEvent(self, event: Any) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: Any) -> None:
        self.gallery_view.dropEvent(event)

    def _restore_preferences(self) -> None:
        """Partial method, ticked-bit weighting and projection method from the last run (ignored when
        not valid)."""
        settings = self.session.settings
        method = self.settings.value("preferences/partial_method", settings.partial_method)
        if method in dict(PARTIAL_METHODS):
            settings.partial_method = method
        weight = self.settings.value("preferences/weight_asked_bits", "true")
        settings.weight_asked_bits = weight != "false"
        projection = self.settings.value("preferences/projection_method", settings.projection_method)
        if projection in dict(available_projection_methods()):
            settings.projection_method = projection
        projection = settings.projection_method
        self._settings_changed()
        self.projection_view.method.blockSignals(True)
        self.projection_view.method.setCurrentIndex(self.projection_view.method.findData(projection))
        self.projection_view.method.blockSignals(False)

    def closeEvent(self, event: QCloseEvent) -> None:
        settings = self.session.settings
        self.settings.set_value("preferences/partial_method", settings.partial_method)
        weight = "true" if settings.weight_asked_bits else "false"
        self.settings.set_value("preferences/weight_asked_bits", weight)
        self.settings.set_value("preferences/projection_method", settings.projection_method)
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.settings.sync()
        self.session.workers.shutdown()
        self.loader.clear_pending()
        self.loader.wait_idle(1000)
        super().closeEvent(event)
