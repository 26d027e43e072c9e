"""Example output of *Figures → t-SNE with brushed boxes* and *File → Export results* on the built-in
gallery, drawn headless with the same core functions the app calls, for the README.

The boxes are chosen here the way a user would brush them: cells of a 6 × 6 grid over the t-SNE map
with at least 25 points, the one where the posebit holds most often, the one where it holds least
often and the most crowded one. The results sheet is a posebit query over the test split.

    .venv/bin/python tools/example_figures.py resources/screenshots
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from posebrowser.core.engine import RetrievalEngine
from posebrowser.core.query import PosebitTerm, Query
from posebrowser.figures.boxes import Box, MapInput, points_in_box
from posebrowser.figures.brushed_map import brushed_map
from posebrowser.figures.export import save_figure
from posebrowser.figures.results_sheet import SheetQuery, SheetResult, results_pages

BIT_LABEL = "torso is upright"
SECOND_LABEL = "right arm is raised"
GRID = 6
MIN_POINTS = 25
DPI = 150
SHEET_DPI = 110  # the app writes 300 dpi; smaller for the README


def brushed_boxes(coords: NDArray[np.float32], values: NDArray[np.float32]) -> tuple[Box, ...]:
    """Three grid cells: where the bit holds most, least, and the most crowded one."""
    low, high = coords.min(axis=0), coords.max(axis=0)
    step = (high - low) / GRID
    cells = []
    for row in range(GRID):
        for column in range(GRID):
            corner = low + step * (column, row)
            box = Box.spanning("", corner.tolist(), (corner + step).tolist())
            inside = points_in_box(coords, box)
            known = values[inside][~np.isnan(values[inside])]
            if len(inside) >= MIN_POINTS and len(known):
                cells.append((box, float(known.mean()), len(inside)))
    most = max(cells, key=lambda cell: cell[1])
    least = min(cells, key=lambda cell: cell[1])
    crowded = max((c for c in cells if c not in (most, least)), key=lambda cell: cell[2])
    named = ((most, "bit mostly holds"), (least, "bit mostly not"), (crowded, "most crowded"))
    return tuple(Box(name, c[0].x0, c[0].y0, c[0].x1, c[0].y1) for c, name in named)


def map_figure(engine: RetrievalEngine, out: Path) -> None:
    gallery = engine.gallery
    bit = next(b for b in engine.vocabulary.bits if b.label == BIT_LABEL)
    start = time.perf_counter()
    coords = np.asarray(engine.project("tsne"), dtype=np.float32)
    print(f"t-SNE of {len(coords)} points: {time.perf_counter() - start:.1f} s")
    column = np.asarray(gallery.posebit_column(bit.name), dtype=np.float32)
    values = np.where(column < 0, np.nan, column).astype(np.float32)
    data = MapInput(coords, values, bit.label, True, "t-SNE", brushed_boxes(coords, values))
    figure = brushed_map(data, gallery.image_path, title="Built-in gallery: t-SNE of the image embedding")
    print("wrote", save_figure(figure, out / "tsne-brushed-boxes.png", dpi=DPI))


def results_figure(engine: RetrievalEngine, out: Path) -> None:
    gallery = engine.gallery
    names = {b.label: b.name for b in engine.vocabulary.bits}
    asked = ((names[BIT_LABEL], 1), (names[SECOND_LABEL], 1))
    result = engine.search(Query((PosebitTerm(tuple(sorted(asked))),)), k=50, split="test")
    results = []
    for rank, (index, distance) in enumerate(zip(result.indices, result.distances, strict=True)):
        image = gallery.load_image(int(index)).convert("RGB")
        image.thumbnail((160, 160))
        correct = None if result.correct is None else bool(result.correct[rank])
        results.append(
            SheetResult(
                np.asarray(image),
                rank + 1,
                int(index),
                str(gallery.image_path(int(index))),
                float(distance),
                correct,
            )
        )
    query = SheetQuery(None, (f"{BIT_LABEL}? True", f"{SECOND_LABEL}? True"), "holds every asked posebit")
    sheet = results_pages(query, results, rows_per_page=None)[0]  # what an SVG or PNG export holds
    print("wrote", save_figure(sheet, out / "results-sheet.png", dpi=SHEET_DPI))


def main(out: str) -> int:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    engine = RetrievalEngine.open(device="cpu")
    map_figure(engine, folder)
    results_figure(engine, folder)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "resources/screenshots"))
