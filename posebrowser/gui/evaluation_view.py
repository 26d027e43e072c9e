"""Evaluation in the app: hit@k curves per ground-truth metric against chance and the posebit-question
table, for the open gallery and model. The numbers come from :func:`posebrowser.evaluation.command.
evaluate_engine` (val queries → test database, as ``posebrowser evaluate``), computed on a worker and
cached per (gallery, model) for the session."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from posebrowser.data.image_folder import estimator_version
from posebrowser.fileio import atomic_write_bytes
from posebrowser.gui.workers import JobContext, Workers

#: k values shown in the posebit-question table.
TABLE_KS = (1, 5, 10)


@dataclass(frozen=True)
class EvaluationResult:
    """A report dict (see :mod:`posebrowser.evaluation.report`) and its hit@k curves as RGBA pixels."""

    report: dict[str, Any]
    curves: np.ndarray


def hit_tables(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [table for table in report["tables"] if table["key"].startswith("hit@k/")]


def question_table(report: dict[str, Any]) -> dict[str, Any] | None:
    return next((t for t in report["tables"] if t["key"] == "precision@k/posebit_questions"), None)


def evaluate(engine: Any, context: JobContext | None = None) -> EvaluationResult:
    """Evaluate ``engine`` (worker side) and draw the curves."""
    from posebrowser.evaluation.command import evaluate_engine

    report = evaluate_engine(engine, ks=tuple(range(1, 11)), untrained_baseline=False)
    if context is not None:
        context.raise_if_cancelled()
    return draw_result(report)


def draw_result(report: dict[str, Any]) -> EvaluationResult:
    """The report with its hit@k curves drawn in one row of panels (the dock is wide and low)."""
    from posebrowser.figures.export import render_rgba
    from posebrowser.figures.thesis import hit_curves

    meta = report["meta"]
    queries = f"{meta['query_count']} {meta['query_split']} queries"
    title = f"{queries} → {meta['database_size']} {meta['database_split']} items"
    tables = hit_tables(report)
    curves = hit_curves(tables, title, columns=max(1, len(tables)), panel_in=2.6)
    return EvaluationResult(report, render_rgba(curves, dpi=110))


#: Bump when what an evaluation computes changes, so stored reports are not reused.
EVALUATION_VERSION = 1


def cache_key(engine: Any) -> str:
    """A digest of what an evaluation depends on: the gallery's content and size, the image and posebit
    models, the posebit vocabulary, the pose estimator that made estimated annotations and this module's
    evaluation version."""
    parts = [
        str(getattr(engine.gallery, "content_hash", "")),
        str(len(engine.gallery)),
        str(getattr(engine, "model_name", "")),
        str(getattr(getattr(engine, "image_embedder", None), "model_sha256", "")),
        str(getattr(getattr(engine, "posebit_embedder", None), "model_sha256", "")),
        str(getattr(getattr(engine, "vocabulary", None), "version", "")),
        estimator_version(engine.gallery),  # estimated annotations change with the estimator
        str(EVALUATION_VERSION),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def default_evaluation_dir() -> Path:
    """Where evaluation reports are kept between runs (next to the embedding cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "posebrowser" / "evaluations"


def stored_evaluation(path: Path) -> EvaluationResult:
    """A report written by an earlier run, with its curves drawn again (worker side)."""
    return draw_result(json.loads(path.read_text(encoding="utf-8")))


class EvaluationController(QObject):
    """Runs evaluations off the GUI thread and caches them in memory and as JSON in ``directory``
    (None: memory only); ``finished`` carries an :class:`EvaluationResult`."""

    started = Signal()
    finished = Signal(object)
    failed = Signal(object)

    def __init__(
        self, workers: Workers, directory: Path | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.workers = workers
        self.directory = directory
        self.cache: dict[str, EvaluationResult] = {}
        self.runs = 0

    def request(self, engine: Any) -> None:
        """Show the cached evaluation of ``engine`` (memory, then disk), or compute it."""
        if engine is None:
            return
        key = cache_key(engine)
        if key in self.cache:
            self.finished.emit(self.cache[key])
            return
        self.started.emit()
        stored = None if self.directory is None else self.directory / f"{key}.json"

        def job(ctx: JobContext) -> EvaluationResult:
            if stored is not None and stored.is_file():
                try:
                    return stored_evaluation(stored)
                except (OSError, ValueError, KeyError):  # unreadable or foreign: evaluate again
                    pass
            self.runs += 1
            result = evaluate(engine, ctx)
            if stored is not None:
                atomic_write_bytes(stored, json.dumps(result.report).encode("utf-8"))
            return result

        def done(result: EvaluationResult) -> None:
            self.cache[key] = result
            self.finished.emit(result)

        self.workers.submit("evaluation", job, done, on_error=self.failed.emit)

    def cached(self, engine: Any) -> EvaluationResult | None:
        return None if engine is None else self.cache.get(cache_key(engine))


class FittedImage(QLabel):
    """A picture scaled to the space it is given (aspect kept), rescaled on every resize."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.original = QPixmap()
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(160, 48)  # the bottom docks can open compact (see dock_heights)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)

    def set_original(self, pixmap: QPixmap) -> None:
        self.original = pixmap
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if not self.original.isNull():
            self.setPixmap(
                self.original.scaled(
                    self.size(),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )


class EvaluationView(QWidget):
    """The *Evaluation* dock: a button, the curves and the posebit-question table."""

    evaluate_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: EvaluationResult | None = None
        self.button = QPushButton("Evaluate", self)
        self.button.setToolTip(
            "hit@k per ground-truth metric against chance and posebit-question precision@k on this gallery "
            "(val queries, test database); computed once per gallery and model"
        )
        self.button.clicked.connect(self.evaluate_requested)
        self.status = QLabel("Not evaluated yet.", self)
        self.status.setWordWrap(True)
        self.curves = FittedImage(self)
        self.curves.setToolTip(
            "hit@k per ground-truth metric (dashed: chance); Figures → hit@k curves saves it"
        )
        self.table = QTableWidget(0, len(TABLE_KS), self)
        self.table.setHorizontalHeaderLabels([f"k={k}" for k in TABLE_KS])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMinimumHeight(40)  # the bottom docks can open compact (see dock_heights)
        top = QHBoxLayout()
        top.addWidget(self.button)
        top.addWidget(self.status, 1)
        questions = QWidget(self)
        column = QVBoxLayout(questions)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel("Posebit questions: precision@k [%]", questions))
        column.addWidget(self.table)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.curves)
        split.addWidget(questions)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(split, 1)

    def show_running(self) -> None:
        self.button.setEnabled(False)
        self.status.setText("Evaluating… (embeddings are reused; the raw-pixel baseline reads the images)")

    def show_failed(self, error: BaseException) -> None:
        self.button.setEnabled(True)
        self.status.setText(f"Evaluation failed: {error}")

    def show_result(self, result: EvaluationResult) -> None:
        self.result = result
        self.button.setEnabled(True)
        meta = result.report["meta"]
        estimated = "; ground truth = estimated poses" if meta.get("annotations") == "estimated" else ""
        self.status.setText(
            f"{meta['query_count']} {meta['query_split']} queries, {meta['database_size']} "
            f"{meta['database_split']} items; hit window {meta['threshold'] + int(meta['thesis_off_by_one'])}"
            + estimated
        )
        self.status.setToolTip("\n".join(meta.get("notes", [])))
        height, width = result.curves.shape[:2]
        image = QImage(result.curves.data, width, height, 4 * width, QImage.Format.Format_RGBA8888)
        self.curves.set_original(QPixmap.fromImage(image.copy()))
        self._fill_table(question_table(result.report))

    def _fill_table(self, table: dict[str, Any] | None) -> None:
        series = {} if table is None else table["series"]
        self.table.setRowCount(len(series))
        self.table.setVerticalHeaderLabels(list(series))
        for row, values in enumerate(series.values()):
            for column, k in enumerate(TABLE_KS):
                text = f"{values[list(table['ks']).index(k)]:.1f}" if table and k in table["ks"] else "–"
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
