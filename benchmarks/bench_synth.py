"""Synthetic-gallery throughput (CPU): full images (pose + skin + render + JPEG + annotations) against a
bare raster-only baseline (one body, fixed camera, z-buffer only) measured in the same run.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_synth.py [--count 48] [--workers N]``.
Prints images/s per core at 112 and 128 pixels with 1 worker (in this process) and with all workers
(spawned processes writing a real gallery to a temporary folder, including process start-up, JPEG writing
and the final merge), and the ratio to the baseline (absolute numbers drift on shared machines; ratios
do not).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from posebrowser.synth.camera import fit_camera
from posebrowser.synth.generate import generate_gallery
from posebrowser.synth.poses import draw_pose, pose_rng
from posebrowser.synth.raster import rasterize
from posebrowser.synth.sample import render_sample
from posebrowser.synth.skin import default_body_model


def raster_only(size: int, count: int, supersample: int = 2) -> float:
    """Images/s of the z-buffer pass alone (front faces of one posed body, fixed camera)."""
    model = default_body_model()
    _, posed = draw_pose(pose_rng(0, 0), 0)
    vertices = model.skin(posed.body, posed.transforms)
    camera = fit_camera(vertices, azimuth=0.5, elevation=0.2, distance=4.0, fill=0.9, size=size)
    screen = camera.project(vertices, scale=supersample)
    rasterize(screen, model.faces, size * supersample, size * supersample)
    start = time.perf_counter()
    for _ in range(count):
        rasterize(screen, model.faces, size * supersample, size * supersample)
    return count / (time.perf_counter() - start)


def one_worker(size: int, count: int) -> float:
    """Images/s of full samples rendered in this process (no file writing)."""
    render_sample(1, 0, size=size)
    start = time.perf_counter()
    for index in range(count):
        render_sample(1, index, size=size)
    return count / (time.perf_counter() - start)


def all_workers(size: int, count: int, workers: int) -> float:
    """Images/s of ``posebrowser synth`` with ``workers`` processes (includes start-up and writing)."""
    with tempfile.TemporaryDirectory(prefix="bench_synth_") as folder:
        start = time.perf_counter()
        generate_gallery(Path(folder) / "g", count, seed=2, size=size, workers=workers)
        return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=48, help="images per measurement")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--gallery-count", type=int, default=96, help="images of the multi-worker run")
    args = parser.parse_args()
    print(f"{'size':>4}  {'setup':<28} {'img/s':>7} {'img/s/core':>10} {'vs raster':>9}")
    for size in (112, 128):
        baseline = raster_only(size, args.count)
        print(f"{size:>4}  {'raster only (z-buffer)':<28} {baseline:7.1f} {baseline:10.1f} {1.0:9.2f}")
        single = one_worker(size, args.count)
        print(f"{size:>4}  {'synth, 1 worker':<28} {single:7.1f} {single:10.1f} {single / baseline:9.2f}")
        pooled = all_workers(size, args.gallery_count, args.workers)
        per_core = pooled / args.workers
        label = f"synth, {args.workers} workers (gallery)"
        print(f"{size:>4}  {label:<28} {pooled:7.1f} {per_core:10.1f} {per_core / baseline:9.2f}")


if __name__ == "__main__":
    main()
