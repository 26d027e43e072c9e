"""Map benchmark: relaunch with a cached t-SNE, and the lasso's point-in-polygon test.

* **relaunch with a cached t-SNE**: a real :class:`RetrievalEngine` (random 128-d unit vectors over a
  generated gallery) computes its t-SNE map once into a projection cache folder; then a fresh engine and
  a fresh window over the same folder are opened with t-SNE chosen, and the time from "gallery loaded" to
  "t-SNE map drawn" is printed (target ≤ 1 s), next to the time of the first computation;
* **lasso**: posebrowser's even-odd test (:func:`points_in_polygon`) against matplotlib's
  ``Path.contains_points``, with and without the bounding-box prefilter, 100k points, a 256-vertex lasso.

Usage: ``python benchmarks/bench_map.py [--size 5000] [--lasso-points 100000]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))

import numpy as np  # noqa: E402
from bench_gui import real_engine, wait_until  # noqa: E402
from timing import median_ms  # noqa: E402


def bench_lasso(points: int, repeats: int = 7) -> dict[str, float]:
    from matplotlib.path import Path as PolygonPath

    from posebrowser.gui.projection_view import points_in_polygon

    rng = np.random.default_rng(0)
    xy = rng.normal(size=(points, 2))
    angles = np.linspace(0, 2 * np.pi, 256, endpoint=False)
    radii = 0.5 + 0.8 * rng.random(256)
    polygon = np.c_[radii * np.cos(angles), radii * np.sin(angles)]

    def matplotlib_prefiltered(_: int) -> np.ndarray:
        low, high = polygon.min(axis=0), polygon.max(axis=0)
        candidates = np.flatnonzero(np.all((xy >= low) & (xy <= high), axis=1))
        inside = np.zeros(len(xy), dtype=bool)
        inside[candidates] = PolygonPath(polygon).contains_points(xy[candidates])
        return inside

    assert np.array_equal(matplotlib_prefiltered(0), points_in_polygon(xy, polygon))
    return {
        "lasso_posebrowser_ms": median_ms(lambda _: points_in_polygon(xy, polygon), repeats),
        "lasso_matplotlib_ms": median_ms(lambda _: PolygonPath(polygon).contains_points(xy), repeats),
        "lasso_matplotlib_prefiltered_ms": median_ms(matplotlib_prefiltered, repeats),
    }


def open_with_tsne(app: Any, size: int, folder: Path, cache: Path) -> dict[str, float]:
    """Open a window over a fresh engine with t-SNE chosen; seconds to the gallery and to the map."""
    from posebrowser.app import build
    from posebrowser.core.projection import ProjectionCache
    from posebrowser.gui.settings_store import SettingsStore

    engine = real_engine(folder, size)
    engine.projections = ProjectionCache(folder=cache, reference=engine.embeddings)
    window, session, _ = build(lambda ctx, path: engine, SettingsStore(folder / "settings.ini"))
    window.resize(1400, 900)
    window.show()
    session.settings.projection_method = "tsne"
    marks: dict[str, float] = {}
    session.engine_changed.connect(lambda _: marks.setdefault("gallery", time.perf_counter()))

    def drawn(state: Any) -> None:
        if state.method == "tsne" and state.final:
            window.projection_view.plot.viewport().repaint()
            marks.setdefault("map", time.perf_counter())

    session.projection_changed.connect(drawn)
    start = time.perf_counter()
    session.load()
    wait_until(app, lambda: "map" in marks, timeout_s=900.0)
    session.workers.shutdown()
    window.close()
    return {"gallery_s": marks["gallery"] - start, "map_after_gallery_s": marks["map"] - marks["gallery"]}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=5000, help="gallery size for the t-SNE relaunch")
    parser.add_argument("--lasso-points", type=int, default=100_000)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    for name, value in bench_lasso(args.lasso_points).items():
        print(f"{name:34s} {value:8.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        folder, cache = Path(tmp) / "gallery", Path(tmp) / "projections"
        first = open_with_tsne(app, args.size, folder, cache)["map_after_gallery_s"]
        again = open_with_tsne(app, args.size, folder, cache)["map_after_gallery_s"]
    print(f"first launch, t-SNE computed ({args.size} points): map drawn {first:.2f} s after the gallery")
    print(f"relaunch, t-SNE read from the cache: map drawn {again:.3f} s after the gallery (target <= 1 s)")


if __name__ == "__main__":
    main()
