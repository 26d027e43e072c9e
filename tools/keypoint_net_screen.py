"""How well does the keypoint reader's keypoint net read the 16 image landmarks, against the bundled
BlazePose on the same renders (validation data only; never the test split)?

Prints, for the built-in gallery's val renders (or ``--gallery``'s), the per-joint pixel error of the
keypoint net (plain and with its mirrored view) and of BlazePose where it finds a person: median, mean,
share over 10 px, share of limb joints (ankles, knees, wrists, elbows) over 10 px, and the share of renders
read better with the whole body's sides swapped.

    python tools/keypoint_net_screen.py [--model models/keypoint_reader] [--gallery DIR]

(The keypoint-lifter screen, ``tools/keypoint_lifter_screen.py --keypoint-net models/keypoint_reader``,
scores a lifter on these landmarks in the fused model.)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from posebrowser.nets.keypoint_reader import MIRROR

ROOT = Path(__file__).resolve().parents[1]
LIMBS = [0, 1, 4, 5, 10, 11, 14, 15]


def error_summary(label: str, estimated: np.ndarray, truth: np.ndarray) -> str:
    """One line of figures for ``(N, 16, 2)`` pixel landmarks against the truth."""
    error = np.linalg.norm(estimated - truth, axis=-1)
    swapped = np.linalg.norm(estimated[:, list(MIRROR)] - truth, axis=-1).mean(1) < error.mean(1)
    return (f"{label}: {len(truth)} renders, per-joint error median {np.median(error):.2f} px, mean "
            f"{error.mean():.2f} px, over 10 px {100 * (error > 10).mean():.1f} %, limbs over 10 px "
            f"{100 * (error[:, LIMBS] > 10).mean():.1f} %, whole body side-swapped "
            f"{100 * swapped.mean():.1f} %")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "keypoint_reader")
    parser.add_argument("--gallery", default=None, help="gallery folder (default: the built-in gallery)")
    args = parser.parse_args()

    import keypoint_lifter_screen  # a sibling script: run as `python tools/...`, its folder is on sys.path

    from posebrowser.data.loading import open_gallery
    from posebrowser.estimate.estimator import PoseEstimator
    from posebrowser.nets.checkpoint import load_model
    from posebrowser.training.keypoint_trainer import load_rgb, read_landmarks

    reader, _ = load_model(args.model, expect_kind="image")
    gallery = open_gallery(args.gallery)
    rows = gallery.split_indices("val")
    images = load_rgb(gallery, rows)
    side = images.shape[1]
    truth = np.asarray(gallery.joints_2d[rows], np.float64)

    def pixels(normalised: np.ndarray) -> np.ndarray:
        return (normalised + 1) * side / 2 - 0.5

    mirrored = reader.mirrored_landmarks
    reader.mirrored_landmarks = False
    plain = pixels(read_landmarks(reader, images))
    reader.mirrored_landmarks = mirrored
    both = pixels(read_landmarks(reader, images))
    blaze, found = keypoint_lifter_screen.blazepose_landmarks(PoseEstimator(), gallery, rows, None)
    print(error_summary("keypoint net, all val renders", plain, truth))
    print(error_summary("keypoint net + mirrored view, all val renders", both, truth))
    print(error_summary("keypoint net + mirrored view, where BlazePose finds a person", both[found],
                        truth[found]))
    print(error_summary("BlazePose, where it finds a person", blaze[found], truth[found]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
