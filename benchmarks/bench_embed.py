"""Embedding rate: Embedder.embed_images (decode/prepare overlapped with inference) vs a bare forward.

All rates come from the same run, interleaved (best of ``--repeats`` each), on the same sources and net:

* **bare forward** (the baseline): pre-normalised tensors straight into the network, no reading, decoding
  or preprocessing, same precision and memory format; the goal is ≥ 90 % of its rate;
* **Embedder.embed_images**: the real pipeline, reading and decoding the files in worker threads while the
  network runs;
* **decode, then forward (serial)**: the same work as ``embed_images`` with nothing overlapped — its
  like-for-like baseline, so the ratio to it is what the overlap buys;
* **decode + prepare only**: reading, decoding, resizing and normalising alone, in one thread.

By default the sources are the built-in gallery's JPEG files (``--files``, default
``resources/gallery/images``); ``--in-memory`` uses uint8 arrays of ``--source-size`` instead (the pipeline
without decoding). The net is the shipped image net (``--model``, default ``models/image_net``, the
EfficientNet-Lite0 embedding net, when present) or a fresh ``--net``. On a 2-core CPU decoding and
resizing are CPU work that overlap cannot hide while torch uses every core.

    python benchmarks/bench_embed.py [--count 512] [--batch 64] [--precision fp32|bf16] [--in-memory]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
GALLERY_IMAGES = REPO / "resources" / "gallery" / "images"
SHIPPED_MODEL = REPO / "models" / "image_net"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=512)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--source-size", type=int, default=128, help="side of the synthetic source images")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "fp16", "auto"))
    parser.add_argument("--net", default="compact_resnet", help="fresh net when there is no --model")
    parser.add_argument("--model", type=Path, default=SHIPPED_MODEL, help="image net checkpoint (no suffix)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--files", type=Path, default=GALLERY_IMAGES, help="folder of images to embed")
    parser.add_argument("--in-memory", action="store_true", help="random uint8 arrays instead of files")
    args = parser.parse_args()

    import torch

    from posebrowser.core.device import configure_threads
    from posebrowser.core.embedder import Embedder
    from posebrowser.nets.registry import build_net, get_spec

    print("threads:", configure_threads())
    torch.manual_seed(0)
    if args.model.with_suffix(".safetensors").exists():
        embedder = Embedder.from_checkpoint(args.model, args.device, args.precision)
        name_of_net = f"{args.model.name} ({embedder.module.__class__.__name__})"
    else:
        spec = get_spec(args.net)
        assert spec.preprocessing is not None
        embedder = Embedder(build_net(args.net), spec.preprocessing(), args.device, precision=args.precision)
        name_of_net = f"fresh {args.net}"
    prep = embedder.preprocessing
    if args.in_memory:
        rng = np.random.default_rng(0)
        sources: list[object] = [
            rng.integers(0, 256, (args.source_size,) * 2 + (3,), dtype=np.uint8) for _ in range(args.count)
        ]
        what = f"in-memory {args.source_size}px arrays"
    else:
        files = sorted(p for p in args.files.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        sources = list(files[: args.count])
        what = f"{len(sources)} files from {args.files} (decoding included)"
    count = len(sources)
    size = prep.input_size
    inputs = torch.from_numpy(prep.normalise(np.zeros((args.batch, size, size, 3), np.uint8))).to(args.device)
    inputs = inputs.contiguous(memory_format=torch.channels_last)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(args.precision)

    def bare_forward() -> None:
        with torch.inference_mode():
            for _ in range(0, count, args.batch):
                if dtype is not None:
                    with torch.autocast(args.device, dtype=dtype):
                        embedder.module(inputs)
                else:
                    embedder.module(inputs)
        if args.device == "cuda":
            torch.cuda.synchronize()

    embedder.embed_images(sources[: args.batch], batch_size=args.batch)  # warm-up both paths
    bare_forward()

    def decode_only() -> None:  # the decode worker's step (read, decode, prepare, normalise), one thread
        for start in range(0, count, args.batch):
            embedder.prepare_batch(sources[start : start + args.batch], start)

    def decode_then_forward() -> None:  # embed_images' work without the overlap
        for start in range(0, count, args.batch):
            embedder.embed_inputs(embedder.prepare_batch(sources[start : start + args.batch], start)[0])

    runs = (
        ("bare forward", bare_forward),
        ("Embedder.embed_images", lambda: embedder.embed_images(sources, batch_size=args.batch)),
        ("decode, then forward", decode_then_forward),
        ("decode + prepare only", decode_only),
    )
    best = {name: float("inf") for name, _ in runs}
    for _ in range(args.repeats):  # interleaved, best of each: load on a shared machine drifts
        for name, fn in runs:
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    results = {name: count / seconds for name, seconds in best.items()}
    print(f"sources: {what}")
    for name, rate in results.items():
        print(f"{name_of_net} {args.precision} {name:24s} {rate:8.1f} img/s")
    ratio = results["Embedder.embed_images"] / results["bare forward"]
    print(f"embedding rate vs bare forward: {100 * ratio:.0f} % (goal >= 90 %)")
    overlap = results["Embedder.embed_images"] / results["decode, then forward"]
    print(f"embedding rate vs the same work done serially: {overlap:.2f}x")


if __name__ == "__main__":
    main()
