"""One posebit-net training step (ranking loss, batch 128): the shipped loss vs the dense (B, M, M) form.

    .venv/bin/python benchmarks/bench_posebit_training.py [--repeats 40] [--batch 128]

Same batches for both (posebytes of the built-in gallery's train split, random unit targets, the shipped
MLP 173 → 1024 → 512 → 128, AdamW): forward, loss, backward and the optimiser step. The dense form
expands every (anchor, positive, negative) triple into a (B, M, M) block; the shipped
``_masked_ranking_term`` expands only the positive pairs into a (P, M) block, the same triplets and the
same mean. Prints the median step time of each, their ratio and the largest loss difference.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np
import torch
from torch import Tensor

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from timing import median_ms  # noqa: E402

from posebrowser.data.gallery_format import SPLITS  # noqa: E402
from posebrowser.data.loading import open_gallery  # noqa: E402
from posebrowser.nets.registry import build_net  # noqa: E402
from posebrowser.training import losses  # noqa: E402
from posebrowser.training.posebit_trainer import encode_posebits, hamming_block  # noqa: E402


def dense_ranking_term(distances: Tensor, positive: Tensor, negative: Tensor, margin: float) -> Tensor:
    """The (B, M, M) form: every triple materialised, then masked."""
    violation = torch.relu(margin + distances[:, :, None] - distances[:, None, :])
    valid = positive[:, :, None] & negative[:, None, :]
    count = valid.sum()
    if int(count) == 0:
        return distances.sum() * 0.0
    return (violation * valid).sum() / count


def time_steps(
    term: object, bits: np.ndarray, targets: Tensor, batches: list[np.ndarray], repeats: int
) -> tuple[float, float]:
    """Median step time in ms with ``term`` as the ranking term, and the first step's loss."""
    shipped = losses._masked_ranking_term
    losses._masked_ranking_term = term  # type: ignore[assignment]  # looked up when the loss runs
    torch.manual_seed(0)
    net = build_net("posebit_mlp", num_bits=bits.shape[1], hidden=1024, hidden2=512, embedding_dim=128)
    optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3)
    ranking = losses.BidirectionalRankingLoss(margin=0.1, weight_structure_x=0.1, weight_structure_y=0.0)
    first: list[float] = []

    def step(i: int) -> None:
        rows = torch.from_numpy(batches[i])
        match = hamming_block(torch.from_numpy(bits)[rows]) <= 0.1
        outputs = net(encode_posebits(bits[batches[i]]))
        loss = ranking(outputs, targets[rows].float(), match, x_neighbours=match)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        first.append(float(loss.detach()))

    try:
        return median_ms(step, repeats), first[0]
    finally:
        losses._masked_ranking_term = shipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--batch", type=int, default=128)
    args = parser.parse_args()
    gallery = open_gallery(ROOT / "resources" / "gallery")
    train = np.flatnonzero(gallery.split == SPLITS.index("train"))
    bits = np.asarray(gallery.posebits[train], dtype=np.int8)
    rng = np.random.default_rng(0)
    targets = torch.nn.functional.normalize(torch.from_numpy(rng.standard_normal((len(bits), 128))), dim=1)
    batches = [rng.choice(len(bits), args.batch, replace=False) for _ in range(args.repeats + 1)]
    dense_ms, dense_loss = time_steps(dense_ranking_term, bits, targets, batches, args.repeats)
    shipped_ms, shipped_loss = time_steps(losses._masked_ranking_term, bits, targets, batches, args.repeats)
    print(f"posebit training step, batch {args.batch}, median of {args.repeats}:")
    print(f"  dense (B, M, M)   {dense_ms:7.2f} ms")
    print(f"  shipped (P, M)    {shipped_ms:7.2f} ms")
    print(f"  speed-up {dense_ms / shipped_ms:.1f}x; first-step loss {dense_loss:.6f} vs {shipped_loss:.6f}")


if __name__ == "__main__":
    main()
