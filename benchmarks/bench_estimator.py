"""Pose estimator on the built-in gallery's test renders: posebit accuracy against the exact ground truth,
and BlazePose speed through posebrowser's layer against a bare call of the mediapipe package.

Accuracy, per posebit and overall, on the test split (renders where BlazePose finds a person):

* *answered*: the estimator's own output — bits whose joints are confident and whose margin is outside
  the hysteresis band; accuracy on those, and the share of bits answered (coverage);
* *forced*: every bit computed from the estimated 3-D joints, no unknowns;
* *majority*: each bit's most frequent ground-truth value on the train split (the floor to beat).

Only ground-truth bits that are known (not −1) count. Speed, images/s on the same images in one run:
a bare ``PoseLandmarker.detect`` on decoded arrays; :meth:`PoseEstimator.estimate` on the same arrays
(adds joint mapping and posebits); and on the files (adds decoding).

    python benchmarks/bench_estimator.py [--count 200] [--per-bit FILE.md]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray


def _rate(fn: Any, items: list[Any]) -> float:
    fn(items[0])  # warm-up
    start = time.perf_counter()
    for item in items:
        fn(item)
    return len(items) / (time.perf_counter() - start)


def _speed(estimator: Any, paths: list[Path]) -> dict[str, float]:
    import mediapipe
    from mediapipe.tasks.python import BaseOptions, vision

    from posebrowser.estimate.estimator import BUNDLE_PATH, rgb_array

    arrays = [rgb_array(path) for path in paths]
    options = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(BUNDLE_PATH)),
                                           running_mode=vision.RunningMode.IMAGE, num_poses=4)
    with vision.PoseLandmarker.create_from_options(options) as bare:
        def bare_call(rgb: NDArray[np.uint8]) -> Any:
            return bare.detect(mediapipe.Image(image_format=mediapipe.ImageFormat.SRGB, data=rgb))

        return {
            "bare mediapipe PoseLandmarker.detect (decoded array)": _rate(bare_call, arrays),
            "PoseEstimator.estimate (decoded array)": _rate(estimator.estimate, arrays),
            "PoseEstimator.estimate (file: decode + estimate)": _rate(estimator.estimate, paths),
        }


def _estimates(estimator: Any, gallery: Any, rows: list[int]) -> tuple[list[int], NDArray[np.int8],
                                                                        NDArray[np.int8]]:
    """Rows with a person, their answered posebits (N, B) and forced posebits (N, B)."""
    from posebrowser.estimate.result import PoseEstimate

    found: list[int] = []
    answered: list[NDArray[np.int8]] = []
    forced: list[NDArray[np.int8]] = []
    for row in rows:
        result = estimator.estimate(gallery.image_path(row))
        if isinstance(result, PoseEstimate):
            found.append(row)
            answered.append(result.posebits)
            forced.append(estimator.vocabulary.compute(result.joints_3d[None])[0].astype(np.int8))
    return found, np.array(answered), np.array(forced)


def _accuracy(bits: NDArray[np.int8], truth: NDArray[np.int8]) -> tuple[NDArray[np.float64],
                                                                          NDArray[np.float64], float, float]:
    """Per-bit accuracy and coverage over known truth, pooled accuracy and coverage."""
    known = truth >= 0
    answered = known & (bits >= 0)
    right = answered & (bits == truth)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_bit = right.sum(0) / answered.sum(0)
        coverage = answered.sum(0) / known.sum(0)
    return per_bit, coverage, right.sum() / max(answered.sum(), 1), answered.sum() / max(known.sum(), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=0, help="test renders to use (0 = all)")
    parser.add_argument("--speed-images", type=int, default=100, help="images for the speed comparison")
    parser.add_argument("--per-bit", type=Path, help="also write the per-bit table to this Markdown file")
    args = parser.parse_args()

    from posebrowser.data.loading import open_gallery
    from posebrowser.estimate.estimator import PoseEstimator

    gallery = open_gallery()
    rows = [int(r) for r in gallery.split_indices("test")]
    rows = rows[: args.count] if args.count else rows
    with PoseEstimator() as estimator:
        if gallery.posebit_names != estimator.vocabulary.names:
            raise SystemExit("the built-in gallery uses another posebit vocabulary than the estimator")
        speed = _speed(estimator, [gallery.image_path(r) for r in rows[: args.speed_images]])
        found, answered, forced = _estimates(estimator, gallery, rows)
        version = estimator.version
        labels = estimator.vocabulary.labels
    truth = gallery.posebits[found].astype(np.int8)
    train = gallery.posebits[gallery.split_indices("train")]
    majority = np.where((train == 1).sum(0) > (train == 0).sum(0), 1, 0).astype(np.int8)
    majority_bits = np.broadcast_to(majority, truth.shape)
    results = {name: _accuracy(bits, truth) for name, bits in
               (("answered", answered), ("forced", forced), ("majority", majority_bits))}

    print(f"estimator {version}; built-in gallery test split: a person found in {len(found)} of "
          f"{len(rows)} renders ({100 * len(found) / len(rows):.1f} %), {truth.shape[1]} posebits\n")
    print("| posebits | accuracy, pooled [%] | mean of per-bit accuracy [%] | bits answered [%] |")
    print("|---|---|---|---|")
    for name, (per_bit, _coverage, pooled, share) in results.items():
        print(f"| {name} | {100 * pooled:.1f} | {100 * np.nanmean(per_bit):.1f} | {100 * share:.1f} |")
    print("\n| speed (same images, one run) | images/s |\n|---|---|")
    for name, rate in speed.items():
        print(f"| {name} | {rate:.1f} |")
    table = ["| posebit | answered acc. [%] | answered [%] | forced acc. [%] | majority acc. [%] |",
             "|---|---|---|---|---|"]
    for i, label in enumerate(labels):
        cells = [results["answered"][0][i], results["answered"][1][i], results["forced"][0][i],
                 results["majority"][0][i]]
        table.append(f"| {label} | " + " | ".join(f"{100 * c:.1f}" for c in cells) + " |")
    if args.per_bit:
        args.per_bit.write_text("\n".join(table) + "\n", encoding="utf-8")
    else:
        print("\n" + "\n".join(table))


if __name__ == "__main__":
    main()
