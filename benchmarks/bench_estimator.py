"""Pose estimator on the built-in gallery's test renders: posebit accuracy against the exact ground truth,
and BlazePose speed through posebrowser's layer against a bare call of the mediapipe package.

Accuracy, per posebit and overall, on the test split (renders where BlazePose finds a person):

* *answered*: the estimator's own output — bits whose joints are confident and whose margin is outside
  the hysteresis band; accuracy on those, and the share of bits answered (coverage);
* *forced*: every bit computed from the estimated 3-D joints, no unknowns;
* *majority*: each bit's most frequent ground-truth value on the train split (the floor to beat);
* the answered accuracy and coverage at other joint-confidence thresholds (0 = only the hysteresis band).

Only ground-truth bits that are known (not −1) count. Speed, images/s on the same images in one run:
a bare ``PoseLandmarker.detect`` on decoded arrays; :meth:`PoseEstimator.estimate` on the same arrays
(adds joint mapping, posebits, and a second try inside a border where nobody is found); and on the files
(adds decoding). The three are timed interleaved, image by image, so a varying machine load hits all alike.

    python benchmarks/bench_estimator.py [--count 200] [--per-bit FILE.md]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray


def _speed(estimator: Any, paths: list[Path]) -> dict[str, float]:
    """images/s of the three ways, timed interleaved image by image (fair under a varying machine load)."""
    import mediapipe
    from mediapipe.tasks.python import BaseOptions, vision

    from posebrowser.estimate.estimator import BUNDLE_PATH, rgb_array

    arrays = [rgb_array(path) for path in paths]
    options = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(BUNDLE_PATH)),
                                           running_mode=vision.RunningMode.IMAGE, num_poses=4)
    with vision.PoseLandmarker.create_from_options(options) as bare:
        def bare_call(i: int) -> Any:
            return bare.detect(mediapipe.Image(image_format=mediapipe.ImageFormat.SRGB, data=arrays[i]))

        ways: dict[str, Any] = {
            "bare mediapipe PoseLandmarker.detect (decoded array)": bare_call,
            "PoseEstimator.estimate (decoded array)": lambda i: estimator.estimate(arrays[i]),
            "PoseEstimator.estimate (file: decode + estimate)": lambda i: estimator.estimate(paths[i]),
        }
        seconds = dict.fromkeys(ways, 0.0)
        for way in ways.values():
            way(0)  # warm-up
        for index in range(len(paths)):
            for name, way in ways.items():
                start = time.perf_counter()
                way(index)
                seconds[name] += time.perf_counter() - start
    return {name: len(paths) / total for name, total in seconds.items()}


def _estimates(estimator: Any, gallery: Any, rows: list[int]) -> tuple[list[int], list[Any]]:
    """Rows with a person and their estimates."""
    from posebrowser.estimate.result import PoseEstimate

    found: list[int] = []
    estimates: list[Any] = []
    for row in rows:
        result = estimator.estimate(gallery.image_path(row))
        if isinstance(result, PoseEstimate):
            found.append(row)
            estimates.append(result)
    return found, estimates


def _answered_at(estimates: list[Any], vocabulary: Any, threshold: float) -> NDArray[np.int8]:
    """The posebits the estimator would answer with another joint-confidence threshold."""
    from posebrowser.estimate.skeleton_map import estimated_posebits

    return np.array([estimated_posebits(e.joints_3d, e.confidence, vocabulary, threshold) for e in estimates])


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
        found, estimates = _estimates(estimator, gallery, rows)
        version, vocabulary = estimator.version, estimator.vocabulary
        labels = vocabulary.labels
    answered = np.array([e.posebits for e in estimates])
    forced = vocabulary.compute(np.array([e.joints_3d for e in estimates])).astype(np.int8)
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
    print("\n| joint-confidence threshold | answered accuracy, pooled [%] | bits answered [%] |")
    print("|---|---|---|")
    for threshold in (0.0, 0.3, 0.5, 0.7, 0.9):
        _, _, pooled, share = _accuracy(_answered_at(estimates, vocabulary, threshold), truth)
        print(f"| {threshold:g} | {100 * pooled:.1f} | {100 * share:.1f} |")
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
