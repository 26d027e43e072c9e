"""Bare forward throughput of the image nets at 112×112 (CPU): fp32, channels_last, bf16 + channels_last.

Run: ``.venv/bin/python benchmarks/bench_forward.py [--batch 64] [--iters 5] [--threads N]``.
Prints images/s per net and variant, the ratio to the same net's fp32 and the ratio to a full-width
ResNet-18 layout measured in the same run (absolute numbers drift on shared machines; ratios do not).
"""

from __future__ import annotations

import argparse
import copy
import functools
import time
from collections.abc import Callable

import torch
from torch import nn

from posebrowser.nets.registry import NETS, build_net

Variant = Callable[[nn.Module, torch.Tensor], tuple[nn.Module, torch.Tensor, bool]]


def _fp32(net: nn.Module, x: torch.Tensor) -> tuple[nn.Module, torch.Tensor, bool]:
    return net, x, False


def _channels_last(net: nn.Module, x: torch.Tensor) -> tuple[nn.Module, torch.Tensor, bool]:
    return net.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last), False


def _bf16_channels_last(net: nn.Module, x: torch.Tensor) -> tuple[nn.Module, torch.Tensor, bool]:
    net, x, _ = _channels_last(net, x)
    return net, x, True


VARIANTS: dict[str, Variant] = {
    "fp32": _fp32,
    "channels_last": _channels_last,
    "bf16+cl": _bf16_channels_last,
}


def measure(net: nn.Module, x: torch.Tensor, bf16: bool, iters: int) -> tuple[float, torch.Tensor]:
    """(images per second, output of the last forward as fp32)."""
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        out = net(x)  # warm-up (kernel selection, allocator)
        start = time.perf_counter()
        for _ in range(iters):
            out = net(x)
        elapsed = time.perf_counter() - start
    return x.shape[0] * iters / elapsed, out.float()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: leave as is)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(args.batch, 3, 112, 112)
    nets: dict[str, Callable[[], nn.Module]] = {
        name: functools.partial(build_net, name) for name, spec in NETS.items() if spec.kind == "image"
    }
    nets["resnet18 layout (reference)"] = functools.partial(build_net, "compact_resnet", width=1.0)
    print(f"batch {args.batch}, 112×112, {torch.get_num_threads()} threads, {args.iters} timed iterations")
    print(f"{'net':<30}{'variant':<15}{'img/s':>9}{'vs fp32':>9}{'vs ref':>8}{'cos(fp32)':>11}")
    results: dict[tuple[str, str], float] = {}
    for name in ["resnet18 layout (reference)", *[n for n in nets if n != "resnet18 layout (reference)"]]:
        reference_out: torch.Tensor | None = None
        base = nets[name]().eval()
        for variant, prepare in VARIANTS.items():
            net, inputs, bf16 = prepare(copy.deepcopy(base), x)
            rate, out = measure(net, inputs, bf16, args.iters)
            results[(name, variant)] = rate
            if reference_out is None:
                reference_out = out
            cosine = torch.nn.functional.cosine_similarity(out, reference_out, dim=1).min().item()
            ratio = rate / results[(name, "fp32")]
            vs_ref = rate / results[("resnet18 layout (reference)", variant)]
            print(f"{name:<30}{variant:<15}{rate:>9.1f}{ratio:>9.2f}{vs_ref:>8.2f}{cosine:>11.5f}")


if __name__ == "__main__":
    main()
