"""Annotating an own photo folder (no annotation file): images/s of the pose-estimation stage an engine
build runs, against a bare :meth:`PoseEstimator.estimate` of the same files measured in the same run.

The folder: scikit-image's astronaut and camera, matplotlib's Grace Hopper (when installed), one empty
picture and the first ``--count`` test-split renders of the built-in gallery. Figures:

* per image, timed interleaved so a varying machine load hits both alike: the bare estimate of the file,
  and the same image through the estimate cache when it is cold (estimate + content hash + atomic JSON
  write) — the overhead the resumable cache adds;
* :func:`annotate_gallery` end to end, cold and warm (every estimate read back from the cache);
* resume: ``annotate_gallery`` in a subprocess killed (SIGKILL) once half the images are cached, then the
  resumed run — how many images it estimated and how long it took against the cold run.

    python benchmarks/bench_folder_annotation.py [--count 40]
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
_ANNOTATE = """
import sys
from posebrowser.data.loading import open_gallery
from posebrowser.estimate.cache import EstimateCache
from posebrowser.estimate.estimator import PoseEstimator
from posebrowser.estimate.folder import annotate_gallery
with PoseEstimator() as estimator:
    annotate_gallery(open_gallery(sys.argv[1]), estimator, EstimateCache(sys.argv[2], estimator.version))
"""


def build_folder(folder: Path, count: int) -> Path:
    from posebrowser.data.loading import open_gallery

    folder.mkdir(parents=True)
    try:
        from skimage import data

        Image.fromarray(data.astronaut()).save(folder / "astronaut.png")
        Image.fromarray(data.camera()).convert("RGB").save(folder / "camera.png")
    except ImportError:
        pass
    try:
        from matplotlib import cbook

        shutil.copy(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), folder / "grace_hopper.jpg")
    except (ImportError, OSError, ValueError):
        pass
    Image.new("RGB", (160, 120), (70, 80, 90)).save(folder / "empty_room.png")
    gallery = open_gallery()
    for row in gallery.split_indices("test")[:count]:
        shutil.copy(gallery.image_path(int(row)), folder / f"render_{int(row):06d}.jpg")
    return folder


def interleaved(estimator: object, paths: list[Path], cache_root: Path) -> tuple[float, float]:
    """(bare images/s, cold-cache images/s), timed image by image."""
    from posebrowser.estimate.cache import EstimateCache, estimate_cached

    cache = EstimateCache(cache_root, estimator.version)  # type: ignore[attr-defined]
    bare = cached = 0.0
    estimator.estimate(paths[0])  # type: ignore[attr-defined]  # warm-up
    for path in paths:
        start = time.perf_counter()
        estimator.estimate(path)  # type: ignore[attr-defined]
        middle = time.perf_counter()
        estimate_cached(estimator, path, cache)  # type: ignore[arg-type]
        bare, cached = bare + middle - start, cached + time.perf_counter() - middle
    return len(paths) / bare, len(paths) / cached


def timed_annotation(folder: Path, estimator: object, cache_root: Path) -> tuple[float, int]:
    from posebrowser.data.loading import open_gallery
    from posebrowser.estimate.cache import EstimateCache
    from posebrowser.estimate.folder import annotate_gallery

    gallery = open_gallery(folder)
    cache = EstimateCache(cache_root, estimator.version)  # type: ignore[attr-defined]
    calls = [0]
    original = estimator.estimate  # type: ignore[attr-defined]

    def counted(image: object) -> object:
        calls[0] += 1
        return original(image)

    estimator.estimate = counted  # type: ignore[attr-defined]
    try:
        start = time.perf_counter()
        annotate_gallery(gallery, estimator, cache)  # type: ignore[arg-type]
        return time.perf_counter() - start, calls[0]
    finally:
        del estimator.estimate  # type: ignore[attr-defined]


def kill_half_way(folder: Path, cache_root: Path, version: str, half: int) -> int:
    from posebrowser.estimate.cache import EstimateCache

    cache = EstimateCache(cache_root, version)
    process = subprocess.Popen(
        [sys.executable, "-c", _ANNOTATE, str(folder), str(cache_root)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 600
    while len(cache) < half and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return len(cache)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=40, help="renders of the built-in gallery to add")
    args = parser.parse_args()
    from posebrowser.estimate.estimator import PoseEstimator

    with tempfile.TemporaryDirectory() as scratch, PoseEstimator() as estimator:
        root = Path(scratch)
        folder = build_folder(root / "photos", args.count)
        paths = sorted(folder.iterdir())
        print(f"folder: {len(paths)} images ({args.count} renders + real photos + one empty picture)")
        bare, cached = interleaved(estimator, paths, root / "cache_interleaved")
        print(f"bare PoseEstimator.estimate(file):        {bare:6.2f} images/s (baseline)")
        print(
            f"through the estimate cache, cold:         {cached:6.2f} images/s "
            f"({cached / bare:.2f}x baseline)"
        )
        cold_s, cold_calls = timed_annotation(folder, estimator, root / "cache")
        warm_s, warm_calls = timed_annotation(folder, estimator, root / "cache")
        print(
            f"annotate_gallery cold:  {len(paths) / cold_s:6.2f} images/s "
            f"({cold_s:.1f} s, {cold_calls} estimated)"
        )
        print(
            f"annotate_gallery warm:  {len(paths) / warm_s:6.0f} images/s "
            f"({warm_s:.2f} s, {warm_calls} estimated)"
        )
        written = kill_half_way(folder, root / "cache_resume", estimator.version, len(paths) // 2)
        resumed_s, resumed_calls = timed_annotation(folder, estimator, root / "cache_resume")
        print(
            f"resume: killed with {written} of {len(paths)} cached; the resumed run estimated "
            f"{resumed_calls} in {resumed_s:.1f} s ({resumed_s / cold_s:.2f}x the cold run)"
        )
        assert resumed_calls == len(paths) - written, "the resumed run re-estimated finished images"
        assert np.isfinite(cold_s)


if __name__ == "__main__":
    main()
