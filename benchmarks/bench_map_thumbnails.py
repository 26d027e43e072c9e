"""Map frame time with thumbnails (level of detail) at 100k points, against the same view without them.

A :class:`ProjectionView` shows ``--points`` clustered 2-D points (a seeded Gaussian mixture) whose
images are ``--images`` distinct generated JPEGs, round-robin. A frame = pan the view by one pixel
(alternately right and left, so nothing is reused from the previous frame's view) and repaint the
map's viewport synchronously (``plot.viewport().repaint()``); the median over ``--repeats`` frames is
reported as wall time and as the GUI thread's CPU time (``time.thread_time``: what the frame costs on
an idle core, when other processes share the machine). Four views:

* zoomed out (whole map, dots only) with thumbnails on, and off (baseline);
* zoomed in onto a cluster until about ``--visible`` points are in view, thumbnails on (after the
  visible thumbnails were decoded off the GUI thread) and off (baseline: the same view, dots only).

Prints ms, fps and the on / off ratio per view; the goal is >= 30 fps zoomed in with thumbnails.
A brute-force check that the drawn thumbnails are exactly the points in view runs first.

Usage: ``python benchmarks/bench_map_thumbnails.py [--points 100000] [--visible 190] [--repeats 40]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

MAP_WIDGET = (900, 600)


def clustered_points(count: int, seed: int = 0) -> np.ndarray:
    """(count, 2) float32: 40 Gaussian clusters of varied spread, like a t-SNE map."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-50, 50, size=(40, 2))
    spreads = rng.uniform(0.5, 4.0, size=40)
    cluster = rng.integers(0, 40, size=count)
    return (centres[cluster] + rng.normal(size=(count, 2)) * spreads[cluster, None]).astype(np.float32)


def write_images(folder: Path, count: int) -> list[str]:
    """``count`` distinct 160x120 JPEGs (a coloured field and a disc), like small gallery photos."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    paths = []
    for number in range(count):
        red, green, blue = (int(v) for v in rng.integers(20, 235, size=3))
        image = Image.new("RGB", (160, 120), (red, green, blue))
        left, top = (int(v) for v in rng.integers(10, 90, size=2))
        ImageDraw.Draw(image).ellipse((left, top - 5, left + 50, top + 25), fill=(240, 220, 200))
        path = folder / f"img{number:04d}.jpg"
        image.save(path, quality=85)
        paths.append(str(path))
    return paths


def points_in_rect(coords: np.ndarray, rect: Any) -> np.ndarray:
    """Brute force: indices of ``coords`` inside the QRectF ``rect`` (edges included)."""
    x, y = coords[:, 0].astype(np.float64), coords[:, 1].astype(np.float64)
    inside = (x >= rect.left()) & (x <= rect.right()) & (y >= rect.top()) & (y <= rect.bottom())
    return np.flatnonzero(inside)


def frame_ms(view: Any, repeats: int) -> tuple[float, float]:
    """Median (wall, CPU) ms of a frame: a one-pixel pan, then a synchronous repaint of the map."""
    viewport, box = view.plot.viewport(), view.view_box
    times, cpu = [], []
    for frame in range(repeats + 2):  # two warm-up frames
        pixel = box.viewPixelSize()[0]
        start, start_cpu = time.perf_counter(), time.thread_time()
        box.translateBy(x=pixel if frame % 2 == 0 else -pixel)
        viewport.repaint()
        times.append((time.perf_counter() - start) * 1000.0)
        cpu.append((time.thread_time() - start_cpu) * 1000.0)
    return statistics.median(times[2:]), statistics.median(cpu[2:])


def zoom_to_visible(view: Any, coords: np.ndarray, visible: int) -> int:
    """Centre the view on the densest cluster and shrink it until at most ``visible`` points are in it."""
    middle = coords[np.argmin(np.abs(coords - np.median(coords, axis=0)).sum(axis=1))]
    x, y = float(middle[0]), float(middle[1])
    half = float(np.ptp(coords, axis=0).max())
    while True:
        view.view_box.setRange(xRange=(x - half, x + half), yRange=(y - half, y + half), padding=0)
        inside = len(points_in_rect(coords, view.view_box.viewRect()))
        if inside <= visible:
            return inside
        half *= 0.99


def wait_for_thumbnails(app: Any, view: Any, expected: int, timeout_s: float = 60.0) -> float:
    """Repaint until every visible thumbnail is drawn; seconds from the first request."""
    layer = view.map_thumbnails
    start = time.perf_counter()
    while True:
        view.plot.viewport().repaint()
        if len(layer.drawn_indices) == expected:
            return time.perf_counter() - start
        if time.perf_counter() - start > timeout_s:
            raise TimeoutError("thumbnails did not arrive")
        layer.loader.wait_idle(100)
        app.processEvents()


def measure(view: Any, repeats: int) -> dict[str, tuple[float, float]]:
    """(wall, CPU) frame ms with thumbnails on, then off (the same view)."""
    view.thumbnails.setChecked(True)
    with_thumbnails = frame_ms(view, repeats)
    view.thumbnails.setChecked(False)
    without = frame_ms(view, repeats)
    view.thumbnails.setChecked(True)
    return {"on": with_thumbnails, "off": without}


def report(name: str, figures: dict[str, tuple[float, float]]) -> None:
    for clock, column in (("wall", 0), ("CPU", 1)):
        on_ms, off_ms = figures["on"][column], figures["off"][column]
        print(
            f"{name:28s} {clock:4s}  thumbnails on {on_ms:6.2f} ms ({1000 / on_ms:6.1f} fps)   "
            f"off {off_ms:6.2f} ms ({1000 / off_ms:6.1f} fps)   on/off {on_ms / off_ms:4.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--images", type=int, default=500, help="distinct image files, round-robin")
    parser.add_argument("--visible", type=int, default=190, help="points in view when zoomed in")
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()
    from PySide6.QtWidgets import QApplication

    from posebrowser.gui.projection_view import ProjectionView
    from posebrowser.gui.state import ProjectionState
    from posebrowser.gui.thumbnails import ThumbnailLoader

    app = QApplication.instance() or QApplication([])
    coords = clustered_points(args.points)
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_images(Path(tmp), args.images)
        view = ProjectionView(ThumbnailLoader())
        view.path_for = lambda index: paths[index % len(paths)]
        view.resize(*MAP_WIDGET)
        view.show()
        view.show_projection(ProjectionState("pca", (), coords))
        app.processEvents()
        report(f"zoomed out ({args.points:,} in view)", measure(view, args.repeats))
        inside = zoom_to_visible(view, coords, args.visible)
        view.plot.viewport().repaint()
        first_ms = view.map_thumbnails.last_paint_ms
        loaded_s = wait_for_thumbnails(app, view, inside)
        expected = points_in_rect(coords, view.view_box.viewRect())
        assert np.array_equal(view.map_thumbnails.drawn_indices, expected), "drawn != points in view"
        figures = measure(view, args.repeats)
        report(f"zoomed in ({inside} in view)", figures)
        layer_ms = view.map_thumbnails.last_paint_ms
        print(f"thumbnail layer alone, zoomed in: {layer_ms:.2f} ms wall per frame ({inside} drawn)")
        print(
            f"first zoomed-in frame (decodes queued): layer {first_ms:.2f} ms; all {inside} drawn "
            f"{loaded_s:.2f} s later (2 decode threads)"
        )
        wall_fps, cpu_fps = 1000 / figures["on"][0], 1000 / figures["on"][1]
        print(
            f"goal >= 30 fps zoomed in with thumbnails: {wall_fps:.1f} fps wall, {cpu_fps:.1f} fps CPU "
            f"({'met' if wall_fps >= 30 else 'not met'} on the wall clock)"
        )
        view.close()


if __name__ == "__main__":
    main()
