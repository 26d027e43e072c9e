"""GUI performance benchmark (offscreen by default; set QT_QPA_PLATFORM=xcb under Xvfb for real paints).

Measures, in one run so the ratios are meaningful on a shared machine:

* click-to-results-painted latency at 10k and 100k items (mouse click on a gallery thumbnail → the
  results grid has painted the new results) next to the bare core query time (``engine.search``) of
  the same real :class:`RetrievalEngine` (faiss index over random 128-d unit vectors);
* scatter frame time at each size, like for like: posebrowser's numpy point layer vs a pyqtgraph
  ScatterPlotItem with the same points, symbol (3-px opaque squares, one colour) and widget size;
* the app's projection view frame time (its own layer, in the 1400×900 window, with the app's colours);
* hover-pick time (scipy cKDTree) at 100k;
* gallery grid scroll-and-repaint time (thumbnails decode off the GUI thread);
* launch-to-first-window (``python -m posebrowser --quit-after-shown``) vs ``python -c "import torch"``.

Usage: ``python benchmarks/bench_gui.py [--sizes 10000 100000] [--repeats 15] [--json out.json]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "gui"))

import numpy as np  # noqa: E402
from PySide6.QtCore import QEvent, QObject, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


class PaintWatcher(QObject):
    """Counts paint events reaching a widget (the results viewport)."""

    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def real_engine(folder: Path, count: int, seed: int = 3) -> Any:
    """A real RetrievalEngine (faiss index) over random 128-d unit vectors and a generated gallery."""
    from fake_engine import make_engine

    from posebrowser.core.engine import RetrievalEngine

    fake = make_engine(folder, count=count, seed=seed)
    rng = np.random.default_rng(seed)
    embeddings = rng.normal(size=(count, 128)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    return RetrievalEngine.from_arrays(fake.gallery, embeddings, vocabulary=fake.vocabulary)


def wait_until(app: QApplication, predicate: Any, timeout_s: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout_s
    while not predicate():
        app.processEvents()
        if time.perf_counter() > deadline:
            raise TimeoutError("benchmark step timed out")
        time.sleep(0.0005)


def bench_click_to_results(app: QApplication, count: int, repeats: int, folder: Path) -> dict[str, float]:
    from posebrowser.app import build
    from posebrowser.core.query import Query
    from posebrowser.gui.settings_store import SettingsStore

    engine = real_engine(folder / f"g{count}", count)
    window, session, _ = build(lambda ctx, path: engine, SettingsStore(folder / "settings.ini"))
    window.resize(1400, 900)
    window.show()
    session.load()
    wait_until(app, lambda: session.engine is not None and session.projection is not None)
    watcher = PaintWatcher()
    viewport = window.results_view.list.viewport()
    viewport.installEventFilter(watcher)
    gallery = window.gallery_view
    latencies = []
    for repeat in range(repeats + 1):
        row = repeat % 12
        position = gallery.list.visualRect(gallery.index_at_row(row)).center()
        previous = session.results
        paints = watcher.paints
        start = time.perf_counter()
        QTest.mouseClick(gallery.list.viewport(), Qt.MouseButton.LeftButton, pos=position)
        wait_until(app, lambda p=previous, n=paints: session.results is not p and watcher.paints > n)
        if repeat:  # the first click warms caches (thumbnails, faiss)
            latencies.append((time.perf_counter() - start) * 1000)
    core = []
    for repeat in range(repeats):
        query = Query.image(repeat % 12)
        start = time.perf_counter()
        engine.search(query, k=50)
        core.append((time.perf_counter() - start) * 1000)
    view = window.projection_view
    rng = np.random.default_rng(0)
    picks = []
    for x, y in view.coords[rng.integers(0, len(view.coords), 200)]:
        view.pick(float(x), float(y))
        picks.append(view.last_pick_ms)
    result = {
        "click_to_painted_ms": statistics.median(latencies),
        "core_search_ms": statistics.median(core),
        "hover_pick_ms": statistics.median(picks),
        "app_projection_frame_ms": frame_time(app, view.plot, repeats),
        "gallery_scroll_frame_ms": scroll_frame_time(app, gallery.list, repeats),
    }
    window.close()
    return result


def frame_time(app: QApplication, plot: Any, repeats: int) -> float:
    """Median wall time of a synchronous full repaint of the plot widget."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        plot.viewport().repaint()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def scroll_frame_time(app: QApplication, view: Any, repeats: int) -> float:
    """Median time to jump the gallery grid to a new scroll position and repaint it."""
    bar = view.verticalScrollBar()
    times = []
    for step in range(repeats):
        start = time.perf_counter()
        bar.setValue(int(bar.maximum() * (step + 1) / (repeats + 1)))
        view.viewport().repaint()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


#: Both scatter layers draw in a plot widget of this size (pixels), so they fill the same raster.
SCATTER_WIDGET = (900, 600)
SCATTER_SIZE_PX = 3
SCATTER_RGBA = (70, 130, 180, 255)


def bench_scatter(app: QApplication, count: int, repeats: int) -> dict[str, float]:
    """Full-repaint frame time of posebrowser's point layer and of a pyqtgraph ScatterPlotItem, like for
    like: the same ``count`` points, the same symbol (opaque ``SCATTER_SIZE_PX``-px squares, no outline, one
    colour) and the same widget size; the ratio is pyqtgraph / own layer."""
    import pyqtgraph as pg

    from posebrowser.gui.point_cloud import PointCloudItem, pack_colours

    points = np.random.default_rng(1).normal(size=(count, 2))
    own = PointCloudItem(size=SCATTER_SIZE_PX)
    own.set_points(points, pack_colours(np.tile(np.array(SCATTER_RGBA, np.uint8), (count, 1))))
    baseline = pg.ScatterPlotItem(
        x=points[:, 0], y=points[:, 1], symbol="s", size=SCATTER_SIZE_PX, pxMode=True, pen=None,
        brush=pg.mkBrush(*SCATTER_RGBA),
    )
    figures = {}
    for name, item in (("own_layer_frame_ms", own), ("pyqtgraph_frame_ms", baseline)):
        plot = pg.PlotWidget()
        plot.resize(*SCATTER_WIDGET)
        plot.addItem(item)
        plot.getPlotItem().getViewBox().setRange(xRange=(-4, 4), yRange=(-4, 4), padding=0)
        plot.show()
        app.processEvents()
        frame_time(app, plot, 2)  # first paints build caches (pyqtgraph's symbol atlas)
        figures[name] = frame_time(app, plot, repeats)
        plot.close()
    figures["pyqtgraph_over_own"] = figures["pyqtgraph_frame_ms"] / figures["own_layer_frame_ms"]
    return figures


def bench_launch(repeats: int = 3) -> dict[str, float]:
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    settings = Path(tempfile.mkdtemp()) / "settings.ini"

    def wall(command: list[str]) -> float:
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env, cwd=REPO)
        return time.perf_counter() - start

    window = [
        wall([sys.executable, "-m", "posebrowser", "--quit-after-shown", "--settings", str(settings)])
        for _ in range(repeats)
    ]
    torch = [wall([sys.executable, "-c", "import torch"]) for _ in range(repeats)]
    return {"launch_to_window_s": min(window), "import_torch_s": min(torch)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    report: dict[str, Any] = {"platform": os.environ["QT_QPA_PLATFORM"]}
    with tempfile.TemporaryDirectory() as folder:
        for count in args.sizes:
            report[f"n={count}"] = bench_click_to_results(app, count, args.repeats, Path(folder))
    for count in args.sizes:
        report[f"scatter n={count}"] = bench_scatter(app, count, args.repeats)
    report.update(bench_launch())
    for key, value in report.items():
        if isinstance(value, dict):
            figures = "  ".join(f"{name}={number:.3f}" for name, number in value.items())
            print(f"{key:>12}: {figures}")
        else:
            print(f"{key:>12}: {value if isinstance(value, str) else f'{value:.3f}'}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
