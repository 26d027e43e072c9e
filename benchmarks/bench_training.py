"""Training throughput of the shipped recipe vs a bare forward + backward + optimiser step, same run.

Pipeline: the first ``--images`` train images of a gallery (default: the built-in one) are read and
decoded from their JPEG files (timed), then ``train_image_net`` runs one epoch of ``--batches`` batches
with the shipped recipe (EfficientNet-Lite0 with its frozen early stages, batch-all triplets on the
3-D ground truth, auxiliary posebit and 2-D heads, the trunk head's 3-D joints, augmentation on and
fused with the normalisation, ``training/batch_inputs.py``; batches prepared ahead on a prefetch thread
or serially, as the recipe's ``auto_depth`` picks for this machine: serially on 2 CPU cores). Its rate =
images trained / (decode time + training time). The same pipeline with the unfused augmentation (augment
at the stored size, then ``Preprocessing.to_tensor``) is measured after the baseline, like for like, and
so is the fused pipeline with the other preparation (two ahead where the recipe prepares serially,
serially where it prefetches: ``other_*`` in the output). The net reads the shipped net's input size
(``models/image_net.json``) unless ``--input-size`` says otherwise.

Baseline: the same net, batch size and optimiser, forward + triplet loss + backward + step on one
pre-made, pre-normalised tensor (no decoding, sampling, augmentation, mining or auxiliary heads).

    python benchmarks/bench_training.py [--images 640] [--batches 10] [--rounds 3] [--warmup-rounds 1]
        [--prefetch N] [--net NAME] [--input-size PX]

Prints one JSON object: medians over ``--rounds`` interleaved rounds (fused, bare, unfused, other) of the
images/s of each and of the per-round ratios to the baseline (goal ≥ 0.90), the bare rate of each round
(how much the machine's speed drifted) and the decode time. The ``--warmup-rounds`` before them are run
the same way and not counted (in two 160 px runs the first round's ratio was 15 and 21 % below the median).

A bench epoch is short, so two one-off costs weigh more in ``ratio`` than in the shipped recipe: every
image's JPEG decoding is charged to one pass over it (``make models`` decodes each once for its eight base
epochs), and the end-of-epoch checkpoint and loss curve to ``--batches`` batches (there: 288).
``ratio_at_recipe_shares`` is the same run with those two measured costs charged at the recipe's shares
(``--recipe-epochs``, ``--recipe-batches``); everything else, per batch, is as measured.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch


def _decode(gallery: Any, rows: np.ndarray) -> tuple[np.ndarray, float]:
    from posebrowser.training.command import decode_rows

    began = time.perf_counter()
    images = decode_rows(gallery, rows, None, False, "bench")
    return images, time.perf_counter() - began


def _shipped_input_size(name: str) -> int | None:
    """The input size of the shipped image net (its card in ``models/``) when it is ``name``, else None."""
    from posebrowser.core.locations import default_models_dir
    from posebrowser.nets.checkpoint import CheckpointError, read_card

    try:
        card = read_card(default_models_dir() / "image_net")
    except CheckpointError:  # no shipped card: the spec's default size
        return None
    return int(card.preprocessing["input_size"]) if card.net == name else None


def _shipped_net(name: str, input_size: int | None) -> tuple[torch.nn.Module, Any]:
    from posebrowser.nets.registry import build_net, get_spec

    spec = get_spec(name)
    if spec.preprocessing is None:
        raise SystemExit(f"{name} is not an image net")
    config = dict(spec.default_config)
    options: dict[str, Any] = {}
    if name == "efficientnet_lite0":
        config["frozen_blocks"] = 3
        options["pretrained"] = True
    size = input_size or _shipped_input_size(name)
    fixed = size is None or spec.fixed_input_size
    preprocessing = spec.preprocessing() if fixed else spec.preprocessing(size)
    torch.manual_seed(0)
    return build_net(name, **config, **options), preprocessing


def _pipeline(
    args: argparse.Namespace, net: torch.nn.Module, preprocessing: Any, fused: bool = True
) -> dict[str, float]:
    from posebrowser.data.loading import open_gallery
    from posebrowser.pose.similarity import pairwise_distances
    from posebrowser.training.image_trainer import ImageTrainConfig, train_image_net

    gallery = open_gallery(args.gallery)
    rows = gallery.split_indices("train")[: args.images]
    images, decode_s = _decode(gallery, rows)
    gt = pairwise_distances("3d", gallery, rows, rows).astype(np.float32)
    extras: dict[str, Any] = {
        "posebits": np.asarray(gallery.posebits[rows]),
        "posebit_names": tuple(gallery.posebit_names),
        "joints_3d": np.asarray(gallery.joints_3d[rows], np.float32),
        "joints_2d": np.asarray(gallery.joints_2d[rows], np.float32),
    }
    config = ImageTrainConfig(
        metric="3d", miner="batch-all", epochs=1, device=args.device, max_batches_per_epoch=args.batches,
        aux_posebits=10.0, aux_joints_3d=0.0, aux_joints_2d=2.0, aux_trunk_joints_3d=5.0, n_neg=105,
        prefetch=args.prefetch,
    )
    inputs = preprocessing if fused else preprocessing.to_tensor  # a bare callable → the unfused path
    with tempfile.TemporaryDirectory() as work:
        warm = ImageTrainConfig(**{**config.__dict__, "max_batches_per_epoch": 1})
        train_image_net(net, images, gt, inputs, warm, Path(work) / "warm", **extras)
        run = Path(work) / "run"
        result = train_image_net(net, images, gt, inputs, config, run, **extras)
    decode_per_image = decode_s / len(rows)
    rate = result.images_seen / (decode_per_image * result.images_seen + result.seconds)
    recipe_rate = rate_at_recipe_shares(
        result.images_seen, decode_per_image, result.seconds, result.end_of_epoch_seconds,
        args.batches, args.recipe_epochs, args.recipe_batches,
    )
    return {
        "rate": rate, "recipe_rate": recipe_rate, "decode_s_per_image": decode_per_image,
        "images": result.images_seen,
    }


def rate_at_recipe_shares(
    images: int,
    decode_s_per_image: float,
    seconds: float,
    end_of_epoch_seconds: float,
    batches_per_epoch: int,
    recipe_epochs: int,
    recipe_batches: int,
) -> float:
    """images/s of a one-epoch bench run with its one-off costs charged as the recipe pays them.

    Decoding is paid once per image for ``recipe_epochs`` passes over it; the end-of-epoch work once per
    ``recipe_batches`` batches instead of once per ``batches_per_epoch``.
    """
    per_batch_work = seconds - end_of_epoch_seconds
    end_share = end_of_epoch_seconds * batches_per_epoch / recipe_batches
    return images / (decode_s_per_image * images / recipe_epochs + per_batch_work + end_share)


def _bare(args: argparse.Namespace, net: torch.nn.Module, preprocessing: Any, images: int) -> float:
    from posebrowser.training.image_trainer import ImageTrainConfig, build_optimizer
    from posebrowser.training.loop import choose_device
    from posebrowser.training.losses import TripletMarginLoss
    from posebrowser.training.miners import ThinSlicingMiner

    device = choose_device(args.device)
    batch = 64
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(batch, 128, 128, 3), dtype=np.uint8)
    inputs = preprocessing.to_tensor(list(pixels)).to(device, memory_format=torch.channels_last)
    positive = torch.zeros(batch, batch, dtype=torch.bool, device=device)
    negative = torch.zeros_like(positive)
    positive[0, 1:6] = True
    negative[0, 6:] = True
    optimizer = build_optimizer(net, ImageTrainConfig())
    loss_fn, miner = TripletMarginLoss(), ThinSlicingMiner()
    net.to(device).train()
    steps = max(1, round(images / batch))
    began = time.perf_counter()
    for _ in range(steps):
        embeddings = net(inputs)
        loss = loss_fn(embeddings, miner.mine(embeddings, positive, negative))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - began)


def _preparation_depths(args: argparse.Namespace) -> tuple[int, int]:
    """The recipe's prefetch depth on this machine (or ``--prefetch``) and the other choice to compare."""
    from posebrowser.training.image_trainer import prefetch_depth
    from posebrowser.training.loop import choose_device

    depth = prefetch_depth(args.prefetch, choose_device(args.device))
    return depth, 0 if depth > 0 else 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--gallery", default=None, help="gallery folder (default: the built-in one)")
    parser.add_argument("--net", default="efficientnet_lite0")
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--input-size", type=int, default=None, help="input px (default: the shipped net's, from models/)"
    )
    parser.add_argument("--images", type=int, default=640)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument(
        "--prefetch", type=int, default=None, help="batches prepared ahead (0: serially; default: auto)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are printed")
    parser.add_argument("--warmup-rounds", type=int, default=1, help="rounds run first and not counted")
    parser.add_argument(
        "--recipe-epochs", type=int, default=8, help="passes over each decoded image (make models: 8)"
    )
    parser.add_argument(
        "--recipe-batches", type=int, default=288, help="batches per epoch in the recipe (make models: 288)"
    )
    parser.add_argument("--quick", action="store_true", help="few batches (smoke run)")
    args = parser.parse_args(argv)
    if args.quick:
        args.images, args.batches, args.rounds, args.warmup_rounds = 256, 3, 1, 0
    net, preprocessing = _shipped_net(args.net, args.input_size)
    depth, other_depth = _preparation_depths(args)
    rounds = []
    for _ in range(args.warmup_rounds + args.rounds):  # interleaved: a drifting speed hits all four alike
        pipeline = _pipeline(args, net, preprocessing)
        bare = _bare(args, net, preprocessing, int(pipeline["images"]))
        unfused = _pipeline(args, net, preprocessing, fused=False)
        other = _pipeline(argparse.Namespace(**{**vars(args), "prefetch": other_depth}), net, preprocessing)
        rates = (pipeline["rate"], bare, unfused["rate"], other["rate"], pipeline["recipe_rate"])
        rounds.append((*rates, pipeline["decode_s_per_image"]))
    columns = (np.array(column) for column in zip(*rounds[args.warmup_rounds :], strict=True))
    fused_rates, bare_rates, unfused_rates, other_rates, recipe_rates, decode = columns
    print(json.dumps({
        "input_size": preprocessing.input_size,
        "net": args.net,
        "device": args.device,
        "threads": torch.get_num_threads(),
        "prefetch": depth,
        "rounds": args.rounds,
        "pipeline_images_per_s": round(float(np.median(fused_rates)), 1),
        "bare_images_per_s": round(float(np.median(bare_rates)), 1),
        "ratio": round(float(np.median(fused_rates / bare_rates)), 3),
        "ratio_per_round": [round(float(r), 3) for r in fused_rates / bare_rates],
        "ratio_at_recipe_shares": round(float(np.median(recipe_rates / bare_rates)), 3),
        "ratio_at_recipe_shares_per_round": [round(float(r), 3) for r in recipe_rates / bare_rates],
        "bare_per_round": [round(float(r), 1) for r in bare_rates],
        "unfused_images_per_s": round(float(np.median(unfused_rates)), 1),
        "unfused_ratio": round(float(np.median(unfused_rates / bare_rates)), 3),
        "unfused_ratio_per_round": [round(float(r), 3) for r in unfused_rates / bare_rates],
        "other_prefetch": other_depth,
        "other_images_per_s": round(float(np.median(other_rates)), 1),
        "other_ratio": round(float(np.median(other_rates / bare_rates)), 3),
        "other_ratio_per_round": [round(float(r), 3) for r in other_rates / bare_rates],
        "decode_ms_per_image": round(1000 * float(np.median(decode)), 3),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
