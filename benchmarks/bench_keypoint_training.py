"""Training throughput of the keypoint net (`posebrowser train keypoints`, stage 1), same run, like for like.

Three measurements on the same decoded train renders (the first ``--images`` of the built-in gallery's
train split), the same net (a fresh keypoint reader on ``models/image_net``'s trunk, stem and stages 0–2
frozen), batch 64, AdamW:

- ``shipped``: ``train_keypoint_net`` for one epoch, as ``make models`` runs it (colour jitter, the random
  zoom / shift / mirror warp, channels_last memory format, the end-of-epoch resumable state);
- ``bare_channels_last``: forward + L1 loss + backward + step on one pre-made channels_last batch (no
  augmentation, no state);
- ``bare_contiguous``: the same on a contiguous (NCHW) batch and net: the layout the trainer used before.

Prints one JSON object: medians over ``--rounds`` interleaved rounds of the images/s of each, the recipe's
share of the bare rate (``shipped / bare_channels_last``, goal ≥ 0.90) and the layout's gain
(``bare_channels_last / bare_contiguous``).

    python benchmarks/bench_keypoint_training.py [--images 384] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time

import numpy as np
import torch

from posebrowser.core.locations import default_models_dir
from posebrowser.data.loading import open_gallery
from posebrowser.nets.keypoint_reader import KeypointReader
from posebrowser.training.keypoint_trainer import (
    gallery_annotation,
    image_net_trunk,
    load_rgb,
    normalised,
    train_keypoint_net,
    warped_batch,
)

BATCH = 64


def _fresh_reader() -> KeypointReader:
    torch.manual_seed(0)
    reader = KeypointReader(joints_model="joints_net")
    reader.keypoints.load_trunk(image_net_trunk(default_models_dir()))
    return reader


def _shipped_rate(images: np.ndarray, landmarks: np.ndarray) -> float:
    with tempfile.TemporaryDirectory() as out:
        args = argparse.Namespace(keypoint_epochs=1, batch_size=BATCH, out=out, resume=False, seed=0,
                                  train_device="cpu")
        reader = _fresh_reader()  # built and loaded before the clock starts, as for the bare steps
        began = time.perf_counter()
        train_keypoint_net(reader, images, landmarks, args, lambda _: None)
        return len(images) // BATCH * BATCH / (time.perf_counter() - began)


def _bare_rate(images: np.ndarray, landmarks: np.ndarray, layout: torch.memory_format) -> float:
    net = _fresh_reader().keypoints
    for module in (net.stem, net.fine):
        module.requires_grad_(False)
    net.to(memory_format=layout).train()
    optimiser = torch.optim.AdamW([p for p in net.parameters() if p.requires_grad], lr=1e-3)
    x, target = warped_batch(images[:BATCH], landmarks[:BATCH], None)
    x = x.contiguous(memory_format=layout)
    steps = len(images) // BATCH
    began = time.perf_counter()
    for _ in range(steps):
        optimiser.zero_grad()
        (net(x) - target).abs().mean().backward()
        optimiser.step()
    return steps * BATCH / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=384)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    gallery = open_gallery(None)
    rows = np.asarray(gallery.split_indices("train"), np.int64)[: args.images]
    images = load_rgb(gallery, rows)
    landmarks = normalised(gallery_annotation(gallery, "joints_2d")[rows], images.shape[1])
    _bare_rate(images[:BATCH * 2], landmarks[:BATCH * 2], torch.channels_last)  # warm-up, not counted
    rates: dict[str, list[float]] = {"shipped": [], "bare_channels_last": [], "bare_contiguous": []}
    for _ in range(args.rounds):
        rates["shipped"].append(_shipped_rate(images, landmarks))
        rates["bare_channels_last"].append(_bare_rate(images, landmarks, torch.channels_last))
        rates["bare_contiguous"].append(_bare_rate(images, landmarks, torch.contiguous_format))
    median = {name: statistics.median(values) for name, values in rates.items()}
    print(json.dumps({
        "images": len(images), "rounds": args.rounds,
        **{f"{name}_img_per_s": round(value, 1) for name, value in median.items()},
        "shipped_over_bare": round(median["shipped"] / median["bare_channels_last"], 3),
        "channels_last_over_contiguous": round(median["bare_channels_last"] / median["bare_contiguous"], 3),
    }, indent=1))


if __name__ == "__main__":
    main()
