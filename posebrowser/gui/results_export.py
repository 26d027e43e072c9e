"""*File → Export results…*: the query and every result (not only the tiles on screen) as a figure
(PDF paged, SVG or PNG) with the CSV and JSON tables beside it, or as one of the tables alone; drawn
and written on a worker so the window stays responsive (see :mod:`posebrowser.figures.results_sheet`)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from posebrowser.errors import QueryError
from posebrowser.figures.results_sheet import SheetQuery, SheetResult, save_results_export
from posebrowser.gui.figures import query_image, query_title
from posebrowser.gui.frames import Frames, anchor_index
from posebrowser.gui.state import ResultsState

RESULTS_FILTER = (
    "PDF figure + CSV and JSON (*.pdf);;SVG figure + CSV and JSON (*.svg);;"
    "PNG figure + CSV and JSON (*.png);;CSV table (*.csv);;JSON table (*.json)"
)
#: Longest side in pixels of a result's image in the figure.
RESULT_IMAGE_PX = 160
_EXPORTS = itertools.count(1)


@dataclass(frozen=True)
class ResultsExport:
    """What the export is drawn from, taken on the GUI thread: the gallery, the shown results, their
    frames under the chosen criterion and the posebit labels."""

    gallery: Any
    state: ResultsState
    frames: Frames | None
    labels: dict[str, str]


def query_lines(state: ResultsState, labels: dict[str, str]) -> tuple[str, ...]:
    """The query as lines of text: one per asked posebit for a posebit question, else one per term of
    its expression."""
    if state.chip_names and anchor_index(state.query) is None:
        return tuple(query_title(state, labels).split("; "))
    text = query_title(state, labels)
    return tuple(text.replace(" + ", "\n+ ").replace(" - ", "\n- ").split("\n"))


def _image(gallery: Any, index: int) -> np.ndarray:
    image = gallery.load_image(int(index)).convert("RGB")
    image.thumbnail((RESULT_IMAGE_PX, RESULT_IMAGE_PX))
    return np.asarray(image, dtype=np.uint8)


def sheet_input(export: ResultsExport) -> tuple[SheetQuery, list[SheetResult]]:
    """The query and every result with its image, rank, distance and frame (slow: loads the images)."""
    state = export.state
    correct = None if export.frames is None else export.frames.correct
    results = [
        SheetResult(
            image=_image(export.gallery, int(index)),
            rank=rank + 1,
            index=int(index),
            path=str(state.paths[rank]),
            distance=float(state.distances[rank]),
            correct=None if correct is None else bool(correct[rank]),
        )
        for rank, index in enumerate(state.indices)
    ]
    image, image_path = query_image(export.gallery, state.query)
    meaning = None if export.frames is None or export.frames.correct is None else export.frames.meaning
    return SheetQuery(image, query_lines(state, export.labels), meaning, image_path), results


def write_results_export(export: ResultsExport, path: str | Path) -> list[Path]:
    """Write the export for ``path`` (see :func:`save_results_export`); returns the files written."""
    query, results = sheet_input(export)
    return save_results_export(query, results, path)


def export_results_in_background(window: Any, path: str) -> None:
    """Snapshot the shown results of ``window`` (the MainWindow) and write them to ``path`` on a worker;
    the notifier says which files were written, or why none was."""
    session, notifier = window.session, window.notifier
    state = window.results_view.model.state
    if session.engine is None or state is None or len(state.indices) == 0:
        notifier.show_exception(QueryError("Run a query first: the export holds its results."))
        return
    labels = {bit.name: bit.label for bit in session.engine.vocabulary.bits}
    export = ResultsExport(session.engine.gallery, state, window.results_view.frames(), labels)
    channel = f"results-export-{next(_EXPORTS)}"  # its own channel: a second export never cancels the first
    session.job_started.emit(channel, f"Exporting {len(state.indices)} results…")

    def done(written: list[Path]) -> None:
        session.job_finished.emit(channel)
        names = ", ".join(p.name for p in written)
        notifier.info(f"Exported {len(state.indices)} results to {names} in {written[0].parent}.")

    def failed(error: BaseException) -> None:
        session.job_finished.emit(channel)
        notifier.show_exception(error)

    session.workers.submit(channel, lambda ctx: write_results_export(export, path), done, on_error=failed)
