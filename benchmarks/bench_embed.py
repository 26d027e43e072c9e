"""Embedding rate: Embedder.embed_images (decode/prepare overlapped with inference) vs a bare forward.

The baseline feeds pre-normalised tensors straight to the network (no preprocessing at all), in the
same precision and memory format; the goal is ≥ 90 % of its rate. Sources are in-memory uint8 images of
``--source-size`` (128 = the built-in gallery; the thread pool resizes them to the net's 112 input; 112
measures the pipeline alone), or real files with ``--files DIR``. On a 2-core CPU the PIL resize is CPU
work that overlap cannot hide while torch uses every core (~13–17 % of a compact_resnet forward).

    python benchmarks/bench_embed.py [--count 512] [--batch 64] [--precision fp32|bf16]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=512)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--source-size", type=int, default=128, help="side of the synthetic source images")
    parser.add_argument("--precision", default="fp32", choices=("fp32", "bf16", "fp16", "auto"))
    parser.add_argument("--net", default="compact_resnet")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--files", type=Path, default=None, help="folder of images to embed instead")
    args = parser.parse_args()

    import torch

    from posebrowser.core.device import configure_threads
    from posebrowser.core.embedder import Embedder
    from posebrowser.nets.registry import build_net, get_spec

    print("threads:", configure_threads())
    torch.manual_seed(0)
    spec = get_spec(args.net)
    assert spec.preprocessing is not None
    prep = spec.preprocessing()
    embedder = Embedder(build_net(args.net), prep, args.device, precision=args.precision)
    if args.files is not None:
        sources: list[object] = sorted(
            p for p in args.files.iterdir() if p.suffix.lower() in (".jpg", ".png")
        )
        sources = sources[: args.count]
    else:
        rng = np.random.default_rng(0)
        sources = [
            rng.integers(0, 256, (args.source_size,) * 2 + (3,), dtype=np.uint8) for _ in range(args.count)
        ]
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
    runs = (
        ("bare forward", bare_forward),
        ("Embedder.embed_images", lambda: embedder.embed_images(sources, batch_size=args.batch)),
    )
    best = {name: float("inf") for name, _ in runs}
    for _ in range(args.repeats):  # interleaved, best of each: load on a shared machine drifts
        for name, fn in runs:
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    results = {name: count / seconds for name, seconds in best.items()}
    for name, rate in results.items():
        print(f"{args.net} {args.precision} {name:24s} {rate:8.1f} img/s")
    ratio = results["Embedder.embed_images"] / results["bare forward"]
    print(f"embedding rate vs bare forward: {100 * ratio:.0f} % (goal >= 90 %)")


if __name__ == "__main__":
    main()
