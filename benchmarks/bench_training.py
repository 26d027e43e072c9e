"""Training throughput: full pipeline (sampling + augmentation + preprocessing + mining + step) vs the bare
forward + backward + optimiser step of the same net on pre-made tensors, measured in the same run.

    python benchmarks/bench_training.py [--quick] [--net compact_resnet] [--device cpu] [--miner thin-slicing]

Prints one JSON object: images/s of both, and the pipeline overhead fraction. Uses random 128² images and
a random ground truth, so it needs no gallery.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="few batches (smoke run for `make bench`)")
    parser.add_argument("--net", default="compact_resnet")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--miner", default="thin-slicing")
    parser.add_argument("--images", type=int, default=600)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = leave as is)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.images, args.batches = 240, 2

    from posebrowser.nets.registry import build_net, get_spec
    from posebrowser.training.image_trainer import ImageTrainConfig, train_image_net
    from posebrowser.training.loop import choose_device
    from posebrowser.training.losses import TripletMarginLoss
    from posebrowser.training.miners import ThinSlicingMiner

    spec = get_spec(args.net)
    preprocessing = spec.preprocessing() if spec.preprocessing is not None else None
    if preprocessing is None:
        raise SystemExit(f"{args.net} is not an image net")
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(args.images, 128, 128, 3), dtype=np.uint8)
    points = rng.normal(size=(args.images, 8)).astype(np.float32)
    gt = np.linalg.norm(points[:, None] - points[None], axis=2).astype(np.float32)
    config = ImageTrainConfig(
        miner=args.miner, epochs=1, device=args.device, max_batches_per_epoch=args.batches
    )

    torch.manual_seed(0)
    net = build_net(args.net, **dict(spec.default_config))
    with tempfile.TemporaryDirectory() as work:
        # warm-up (imports, allocator) on one batch, then the timed run
        train_image_net(
            net,
            images,
            gt,
            preprocessing.to_tensor,
            ImageTrainConfig(miner=args.miner, epochs=1, device=args.device, max_batches_per_epoch=1),
            Path(work) / "warm",
        )
        result = train_image_net(net, images, gt, preprocessing.to_tensor, config, Path(work) / "run")
    pipeline_rate = result.images_per_second

    device = choose_device(args.device)
    batch = 111 if args.miner == "thin-slicing" else config.batch_size
    inputs = preprocessing.to_tensor(list(images[:batch])).to(device)
    positive = torch.zeros(batch, batch, dtype=torch.bool, device=device)
    negative = torch.zeros_like(positive)
    positive[0, 1:6] = True
    negative[0, 6:] = True
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-4)
    loss_fn, miner = TripletMarginLoss(), ThinSlicingMiner()
    net.to(device).train()
    began = time.perf_counter()
    for _ in range(args.batches):
        embeddings = net(inputs)
        loss = loss_fn(embeddings, miner.mine(embeddings, positive, negative))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    bare_rate = args.batches * batch / (time.perf_counter() - began)
    report = {
        "net": args.net,
        "device": str(device),
        "threads": torch.get_num_threads(),
        "miner": args.miner,
        "batch": batch,
        "batches": args.batches,
        "pipeline_images_per_s": round(pipeline_rate, 1),
        "bare_images_per_s": round(bare_rate, 1),
        "pipeline_overhead": round(1.0 - pipeline_rate / bare_rate, 3) if bare_rate > 0 else None,
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
