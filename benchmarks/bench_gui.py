"""GUI performance benchmark (offscreen by default; set QT_QPA_PLATFORM=xcb under Xvfb for real paints).

Measures, in one run so the ratios are meaningful on a shared machine:

* click-to-results-painted latency at 10k and 100k items (mouse click on a gallery thumbnail → the
  results grid has painted the new results) next to the bare core query time (``engine.search``) of
  the same real :class:`RetrievalEngine` (faiss index over random 128-d unit vectors);
* the same clicks on a gallery with 2-D and 3-D joints (green/red frames by the true k nearest 3-D
  poses), with the inspector dock open and then closed (same engine, same window, same run): click →
  results painted for both and their ratio, and click → inspector painted with the clicked item; clicks
  come at a user's pace (each once the previous one's work is done); "painted" is the first paint event
  of the results grid with the new results plus the grid's median paint time, ``*_idle_ms`` runs to the
  end of that event-loop pass (the map's repaint and the other views' work included), ``*_cpu_ms`` is the
  CPU time all the process's threads spent over the latter span (whatever else the machine runs);
* scatter frame time at each size, like for like: posebrowser's numpy point layer vs a pyqtgraph
  ScatterPlotItem with the same points, symbol (3-px opaque squares, one colour) and widget size;
* the app's projection view frame time (its own layer, in the 1400×900 window, with the app's colours);
* hover-pick time (scipy cKDTree) at 100k;
* relaunch with a cached t-SNE at each size (``--tsne-sizes``): seconds from "gallery loaded" to "t-SNE map
  drawn" when the map is read from the on-disk map cache (the first launch writes the cache with a
  seeded random layout standing in for the t-SNE optimisation, which takes many minutes at 100k on a CPU;
  the relaunch reads and draws it exactly as it would a real one; ``bench_map.py`` does the same with a
  real t-SNE at 5,000 points);
* gallery grid scroll-and-repaint time (thumbnails decode off the GUI thread);
* launch-to-first-window (``python -m posebrowser --quit-after-shown``) vs ``python -c "import torch"``.

Usage: ``python benchmarks/bench_gui.py [--sizes 10000 100000] [--repeats 15] [--tsne-sizes 100000]
[--clicks-only] [--json out.json]``
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
    """Counts paint events reaching a widget (the results viewport); once armed (:meth:`arm`), notes when
    the first paint event arrives while ``condition()`` holds (the new results are there to paint)."""

    def __init__(self) -> None:
        super().__init__()
        self.paints = 0
        self.first_at: float | None = None
        self._condition: Any = None

    def arm(self, condition: Any) -> None:
        self.first_at, self._condition = None, condition

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
            if self._condition is not None and self._condition():
                self.first_at, self._condition = time.perf_counter(), None
        return False


def real_engine(folder: Path, count: int, seed: int = 3, joints: bool = False) -> Any:
    """A real RetrievalEngine (faiss index) over random 128-d unit vectors and a generated gallery;
    ``joints`` adds 2-D and 3-D joints (noisy standing skeletons, as the GUI tests' annotated engine)."""
    from annotated_engine import STANDING
    from fake_engine import make_engine

    from posebrowser.core.engine import RetrievalEngine

    fake = make_engine(folder, count=count, seed=seed)
    if joints:
        noise = np.random.default_rng(seed + 1).normal(scale=0.12, size=(count, 16, 3))
        fake.gallery.joints_3d = (STANDING[None] + noise).astype(np.float32)
        pose = fake.gallery.joints_3d
        fake.gallery.joints_2d = np.stack([48 + 40 * pose[..., 0], 90 - 45 * pose[..., 2]], axis=-1)
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


def open_window(app: QApplication, engine: Any, folder: Path) -> tuple[Any, Any]:
    """The app's main window over ``engine``, shown at 1400×900 with its first map drawn."""
    from posebrowser.app import build
    from posebrowser.gui.settings_store import SettingsStore

    window, session, _ = build(lambda ctx, path: engine, SettingsStore(folder / "settings.ini"))
    window.resize(1400, 900)
    window.show()
    session.load()
    wait_until(app, lambda: session.engine is not None and session.projection is not None)
    return window, session


def settle(app: QApplication, session: Any) -> None:
    """Wait until no job runs and the timers a click starts have fired (a user's pace between clicks)."""
    for _ in range(2):
        wait_until(app, lambda: not session.workers.is_busy())
        pause = time.perf_counter() + 0.08
        while time.perf_counter() < pause:
            app.processEvents()
            time.sleep(0.002)


def click_latencies(app: QApplication, window: Any, session: Any, repeats: int) -> dict[str, float]:
    """Median click on a gallery thumbnail → results painted (and → inspector painted with the clicked
    item when the inspector dock is open), over ``repeats`` clicks after one warm-up click.

    ``click_to_painted_ms``: to the first paint event of the results grid with the new results, plus the
    median time the grid takes to paint; ``click_to_idle_ms``: to the end of the event-loop pass in which
    it painted (also counts what other views did in that pass, e.g. repainting the map)."""
    watcher = PaintWatcher()
    window.results_view.list.viewport().installEventFilter(watcher)
    inspector = window.insight.inspector
    inspector_paints = PaintWatcher()
    inspector.skeleton.installEventFilter(inspector_paints)
    inspecting = window.docks["inspector"].isVisible()
    gallery = window.gallery_view
    painted, idle, inspected, cpu = [], [], [], []
    for repeat in range(repeats + 1):
        settle(app, session)
        row = repeat % 12
        clicked = int(gallery.model.indices[row])
        position = gallery.list.visualRect(gallery.index_at_row(row)).center()
        previous, shown = session.results, inspector.inspection
        skeleton_paints = inspector_paints.paints
        watcher.arm(lambda p=previous: session.results is not p)
        start, start_cpu = time.perf_counter(), time.process_time()
        QTest.mouseClick(gallery.list.viewport(), Qt.MouseButton.LeftButton, pos=position)
        wait_until(app, lambda: watcher.first_at is not None)
        idle_ms = (time.perf_counter() - start) * 1000
        results_cpu_ms = (time.process_time() - start_cpu) * 1000
        results_ms = (float(watcher.first_at or start) - start) * 1000
        if inspecting:  # the new inspection of the clicked item, painted
            wait_until(
                app,
                lambda s=shown, c=clicked, n=skeleton_paints: (
                    inspector.inspection is not s
                    and inspector.inspection is not None
                    and inspector.inspection.index == c
                    and inspector_paints.paints > n
                ),
            )
        if repeat:  # the first click warms caches (thumbnails, faiss)
            painted.append(results_ms)
            idle.append(idle_ms)
            cpu.append(results_cpu_ms)
            inspected.append((time.perf_counter() - start) * 1000)
    grid_paint_ms = frame_time(app, window.results_view.list, repeats)
    figures = {
        "click_to_painted_ms": statistics.median(painted) + grid_paint_ms,
        "click_to_idle_ms": statistics.median(idle),
        # CPU time of all the process's threads over the same span: what the click costs on a busy machine
        "click_to_painted_cpu_ms": statistics.median(cpu),
    }
    if inspecting:
        figures["click_to_inspector_ms"] = statistics.median(inspected)
    window.results_view.list.viewport().removeEventFilter(watcher)
    inspector.skeleton.removeEventFilter(inspector_paints)
    return figures


def bench_click_to_results(app: QApplication, count: int, repeats: int, folder: Path) -> dict[str, float]:
    from posebrowser.core.query import Query

    engine = real_engine(folder / f"g{count}", count)
    window, session = open_window(app, engine, folder)
    window.docks["inspector"].hide()
    clicks = click_latencies(app, window, session, repeats)
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
    gallery = window.gallery_view
    result = {
        **clicks,
        "core_search_ms": statistics.median(core),
        "hover_pick_ms": statistics.median(picks),
        "app_projection_frame_ms": frame_time(app, view.plot, repeats),
        "gallery_scroll_frame_ms": scroll_frame_time(app, gallery.list, repeats),
    }
    session.workers.shutdown()
    window.close()
    return result


def bench_inspector(app: QApplication, count: int, repeats: int, folder: Path) -> dict[str, float]:
    """Clicks on a gallery with joints, the inspector dock open, then closed (same engine and window)."""
    engine = real_engine(folder / f"j{count}", count, joints=True)
    window, session = open_window(app, engine, folder)
    dock = window.docks["inspector"]
    dock.show()
    dock.raise_()  # its tab in front of the docks it shares the place with
    opened = click_latencies(app, window, session, repeats)
    dock.hide()
    closed = click_latencies(app, window, session, repeats)
    session.workers.shutdown()
    window.close()
    return {
        "closed_click_to_painted_ms": closed["click_to_painted_ms"],
        "closed_idle_ms": closed["click_to_idle_ms"],
        "closed_cpu_ms": closed["click_to_painted_cpu_ms"],
        "open_click_to_painted_ms": opened["click_to_painted_ms"],
        "open_idle_ms": opened["click_to_idle_ms"],
        "open_cpu_ms": opened["click_to_painted_cpu_ms"],
        "open_over_closed": opened["click_to_painted_ms"] / closed["click_to_painted_ms"],
        "open_click_to_inspector_ms": opened["click_to_inspector_ms"],
    }


def bench_tsne_relaunch(app: QApplication, count: int, folder: Path) -> dict[str, float]:
    """Relaunch with a cached t-SNE of ``count`` points: seconds from the gallery to the drawn map."""
    from bench_map import open_with_tsne

    import posebrowser.core.projection as projection

    real_tsne = projection.tsne

    def stand_in(data: Any, *args: Any, **kwargs: Any) -> tuple[np.ndarray, None]:
        return np.random.default_rng(0).normal(size=(len(data), 2)).astype(np.float32), None

    gallery, cache = folder / f"t{count}", folder / f"projections{count}"
    projection.tsne = stand_in  # type: ignore[assignment]
    try:
        first = open_with_tsne(app, count, gallery, cache)
    finally:
        projection.tsne = real_tsne
    again = open_with_tsne(app, count, gallery, cache)
    return {
        "first_launch_stand_in_map_after_gallery_s": first["map_after_gallery_s"],
        "relaunch_cached_map_after_gallery_s": again["map_after_gallery_s"],
    }


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
        x=points[:, 0],
        y=points[:, 1],
        symbol="s",
        size=SCATTER_SIZE_PX,
        pxMode=True,
        pen=None,
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
    parser.add_argument(
        "--tsne-sizes", type=int, nargs="*", default=[100_000], help="relaunch with a cached t-SNE"
    )
    parser.add_argument(
        "--clicks-only", action="store_true", help="only the click latencies (no scatter, no launch)"
    )
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    report: dict[str, Any] = {"platform": os.environ["QT_QPA_PLATFORM"]}
    with tempfile.TemporaryDirectory() as folder:
        for count in args.sizes:
            report[f"n={count}"] = bench_click_to_results(app, count, args.repeats, Path(folder))
            report[f"joints n={count}"] = bench_inspector(app, count, args.repeats, Path(folder))
        for count in args.tsne_sizes:
            report[f"t-SNE n={count}"] = bench_tsne_relaunch(app, count, Path(folder))
    for count in args.sizes if not args.clicks_only else ():
        report[f"scatter n={count}"] = bench_scatter(app, count, args.repeats)
    if not args.clicks_only:
        report.update(bench_launch())
    for key, value in report.items():
        if isinstance(value, dict):
            figures = "  ".join(f"{name}={number:.3f}" for name, number in value.items())
            print(f"{key:>14}: {figures}")
        else:
            print(f"{key:>14}: {value if isinstance(value, str) else f'{value:.3f}'}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
