"""Screen more test-time views for the image net (validation data only; never the test split).

The shipped image net already reads each image twice (plain and mirrored, ``--mirror-view``). Each
variant here adds views of the same image re-cropped the way training jitters its crops (the window grown
or shrunk by ``s`` px per side, or moved by ``t`` px; :func:`posebrowser.training.augment.jitter_crop_to`)
and averages the image net's unit rows over them; the fused model then blends that row with its readers as
it ships (``normalise(0.6 · cnn + (0.2 · joints + 0.2 · keypoint reader) · R)``). Scored on the val halves of
``tools/ablation.py``:

    python tools/tta_screen.py --sets builtin steep cs12

Needs the galleries and caches that ``tools/keypoint_lifter_screen.py`` lists for each set.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import torch
from keypoint_lifter_screen import ROOT, net_landmarks, print_scores, set_rows  # a sibling script

from posebrowser.training.augment import jitter_crop_to

#: variant → crop windows (grow px per side, shift x, shift y) averaged with the plain view.
VARIANTS: dict[str, list[tuple[int, int, int]]] = {
    "zoom ±4 px": [(4, 0, 0), (-4, 0, 0)],
    "zoom ±8 px": [(8, 0, 0), (-8, 0, 0)],
    "shift ±4 px": [(0, 4, 0), (0, -4, 0), (0, 0, 4), (0, 0, -4)],
    "zoom out 6 px": [(6, 0, 0)],
}


def view_rows(embedder: Any, gallery: Any, rows: np.ndarray, window: tuple[int, int, int]) -> np.ndarray:
    side = embedder.preprocessing.input_size
    out = []
    for start in range(0, len(rows), 64):
        chunk = rows[start : start + 64]
        images = [np.asarray(gallery.load_image(int(r)).convert("RGB"), np.uint8) for r in chunk]
        out.append(embedder.embed_arrays(np.stack([jitter_crop_to(im, *window, side) for im in images])))
    return np.concatenate(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", nargs="+", default=["builtin"])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    torch.set_num_threads(2)
    import ablation  # a sibling script

    from posebrowser.core.embedder import Embedder
    from posebrowser.core.fused_embedder import FusedEmbedder
    from posebrowser.core.joints_embedder import JointsEmbedder
    from posebrowser.estimate.estimator import PoseEstimator
    from posebrowser.nets.checkpoint import load_model

    joints_embedder = JointsEmbedder.from_checkpoint(ROOT / "models" / "joints_net", "cpu")
    fused = FusedEmbedder.from_checkpoint(ROOT / "models" / "fused_net", "cpu")
    rotation = fused.fusion.rotations()[0].numpy()
    reader, _ = load_model(ROOT / "models" / "keypoint_reader", expect_kind="image")
    embedder = Embedder.from_checkpoint(ROOT / "models" / "image_net", "cpu")

    def read(gallery: Any, rows: np.ndarray, _cache: Any) -> tuple[np.ndarray, np.ndarray]:
        return net_landmarks(reader, gallery, rows)

    print(ablation.screen_header("val halves"))
    for name in args.sets:
        data = set_rows(name, PoseEstimator(), joints_embedder, reader.lifter, read, clean=False)
        plain = view_rows(embedder, data["gallery"], data["rows"], (0, 0, 0))
        agreement = float(np.mean(np.sum(plain * data["cnn"], axis=1)))
        print(f"{name}: plain view recomputed, mean cosine to the cached rows {agreement:.5f}", flush=True)
        print_scores(name, data, rotation, [(0.2, 0.2)])
        for variant in args.variants:
            views = [plain]
            views += [view_rows(embedder, data["gallery"], data["rows"], w) for w in VARIANTS[variant]]
            mean = np.sum(views, axis=0)
            data["cnn"] = (mean / np.linalg.norm(mean, axis=1, keepdims=True)).astype(np.float32)
            print(f"-- {variant}", flush=True)
            print_scores(f"{name} {variant}", data, rotation, [(0.2, 0.2)])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
