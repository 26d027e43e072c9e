"""What a photo query costs before its search: the app's photo step against the bare estimator.

On scikit-image's photos (read from the installed package), timed interleaved photo by photo, so a
varying machine load hits all alike:

* *estimate*: :meth:`PoseEstimator.estimate` on the file (decoding included) — the baseline;
* *analyse, first time*: :func:`posebrowser.estimate.photo.analyse_photo` with an empty cache (estimate,
  decode for the crop and the preview, crop, PNG written atomically, posebit conditions);
* *analyse, seen before*: the same photo again (the estimate comes from the cache; the crop is rewritten).

    python benchmarks/bench_photo_query.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

PHOTOS = ("astronaut", "camera", "coffee", "chelsea")


def _photos(folder: Path) -> list[Path]:
    from PIL import Image
    from skimage import data

    paths = []
    for name in PHOTOS:
        path = folder / f"{name}.png"
        Image.fromarray(np.asarray(getattr(data, name)())).save(path)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    from posebrowser.estimate.cache import EstimateCache
    from posebrowser.estimate.estimator import PoseEstimator
    from posebrowser.estimate.photo import analyse_photo

    folder = Path(tempfile.mkdtemp(prefix="pb-bench-photo-"))
    paths = _photos(folder)
    times: dict[str, list[float]] = {"estimate": [], "analyse, first time": [], "analyse, seen before": []}
    with PoseEstimator() as estimator:
        estimator.estimate(paths[0])  # loads the model (not counted)
        for repeat in range(args.repeats):
            for path in paths:
                cache = EstimateCache(folder / f"cache-{repeat}-{path.stem}", estimator.version)
                started = time.perf_counter()
                estimator.estimate(path)
                times["estimate"].append(time.perf_counter() - started)
                started = time.perf_counter()
                analyse_photo(path, estimator, cache)
                times["analyse, first time"].append(time.perf_counter() - started)
                started = time.perf_counter()
                analyse_photo(path, estimator, cache)
                times["analyse, seen before"].append(time.perf_counter() - started)
    print(f"{len(paths)} photos ({', '.join(PHOTOS)}) × {args.repeats} repeats, interleaved; median ms:")
    baseline = statistics.median(times["estimate"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:22s} {1000 * median:8.1f} ms   ({median / baseline:.2f} × estimate)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
