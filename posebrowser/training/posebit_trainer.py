"""Train the posebit ("language") net that maps posebytes into the image embedding space (as the thesis).

Inputs are the train split's posebits (N, B) int8 (0/1, −1 unknown) and the frozen eval-mode image
embeddings (N, 128) float32 unit rows of the same images. Unknown bits are fed as 0.5 ("no preference",
the midpoint of the two values) so the net sees the same input encoding as a partially specified query.

Losses:

* ``cosine`` (thesis): ``mean |1 − ⟨ẑ_i, y_i⟩|`` pulls each posebyte's embedding onto its image's embedding.
* ``ranking``: Wang et al. 2016 bidirectional ranking + structure preservation inside each batch. Posebyte i
  and image j match when their posebits' Hamming distance is ≤ ``match_radius`` (so i ↔ i always matches);
  the same relation defines the within-modality neighbourhoods of the posebit embeddings. The image side
  is frozen, so its structure term is constant and omitted.

Initialisation: the thesis copies the Hamming image net's fc6/fc7 into fc2/fc3 and freezes them. That only
works for the ``thesis_vggs`` image net (:func:`init_from_image_head` checks shapes); the default
``compact_resnet`` has no fc6, so the posebit net is then an independent MLP trained end to end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor, nn

from posebrowser.training.loop import (
    Cancel,
    EpochLoop,
    Progress,
    TrainResult,
    choose_device,
    seed_everything,
)
from posebrowser.training.losses import BidirectionalRankingLoss, CosineAlignmentLoss

STATE_FILE = "posebit_train_state.pt"
CURVE_FILE = "posebit_loss.png"
UNKNOWN_BIT_VALUE = 0.5


@dataclass
class PosebitTrainConfig:
    """Hyper-parameters. Thesis: SGD-Nesterov, lr 0.083895513 on fc1 only, batch 128, 21 epochs, cosine."""

    loss: str = "cosine"
    epochs: int = 21
    batch_size: int = 128
    optimizer: str = "adamw"
    lr: float = 1e-3
    weight_decay: float = 5e-4
    match_radius: float = 0.1
    margin: float = 0.1
    structure_weight: float = 0.1
    device: str = "auto"
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def encode_posebits(bits: NDArray[np.integer[Any]]) -> Tensor:
    """(N, B) int posebits (0/1, −1 unknown) → (N, B) float32 net input with unknown = 0.5."""
    values = np.asarray(bits, dtype=np.float32)
    return torch.from_numpy(np.where(values < 0, np.float32(UNKNOWN_BIT_VALUE), values))


def hamming_block(bits: Tensor) -> Tensor:
    """Fraction of differing bits (B, B) float32 among bits known (≥ 0) in both rows; ``bits`` (B, K) int."""
    known = (bits >= 0).float()
    ones = (bits == 1).float()
    zeros = (bits == 0).float()
    differing = ones @ zeros.T + zeros @ ones.T
    compared = (known @ known.T).clamp_min(1.0)
    return differing / compared


def init_from_image_head(posebit_net: nn.Module, image_net: nn.Module) -> bool:
    """Thesis init: copy image ``fc6``/``fc7`` into posebit ``fc2``/``fc3`` and freeze them.

    Returns False (and changes nothing) when either net lacks those layers or their shapes differ.
    """
    pairs = []
    for source, target in (("fc6", "fc2"), ("fc7", "fc3")):
        src, dst = getattr(image_net, source, None), getattr(posebit_net, target, None)
        if not isinstance(src, nn.Linear) or not isinstance(dst, nn.Linear):
            return False
        if src.weight.shape != dst.weight.shape:
            return False
        pairs.append((src, dst))
    with torch.no_grad():
        for src, dst in pairs:
            dst.weight.copy_(src.weight)
            dst.bias.copy_(src.bias)
            dst.weight.requires_grad_(False)
            dst.bias.requires_grad_(False)
    return True


def _optimizer(net: nn.Module, config: PosebitTrainConfig) -> torch.optim.Optimizer:
    params = [p for p in net.parameters() if p.requires_grad]
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            params, lr=config.lr, momentum=0.9, nesterov=True, weight_decay=config.weight_decay
        )
    if config.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    raise ValueError(f"Unknown optimizer {config.optimizer!r}; use adamw or sgd.")


def train_posebit_net(
    net: nn.Module,
    posebits: NDArray[np.int8],
    targets: NDArray[np.float32],
    config: PosebitTrainConfig,
    work_dir: Path,
    *,
    resume: bool = False,
    show_bar: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> TrainResult:
    """Train ``net`` ((N,B) float → (N,D) unit rows) in place: ``posebits`` (N, B) onto ``targets`` (N, D).

    Checkpoints after each epoch into ``work_dir`` (resumable) and draws the loss curve PNG.
    """
    if len(posebits) != len(targets):
        raise ValueError(f"{len(posebits)} posebytes but {len(targets)} target embeddings")
    numpy_rng = seed_everything(config.seed)
    device = choose_device(config.device)
    net.to(device)
    loop = EpochLoop(
        name="posebit",
        net=net,
        optimizer=_optimizer(net, config),
        numpy_rng=numpy_rng,
        config=config.to_dict(),
        state_path=work_dir / STATE_FILE,
        curve_path=work_dir / CURVE_FILE,
        curve_title=f"posebit net ({config.loss})",
    )
    loop.restore(resume)
    inputs = encode_posebits(posebits)
    raw_bits = torch.from_numpy(np.asarray(posebits, dtype=np.int8))
    target_tensor = torch.from_numpy(np.asarray(targets, dtype=np.float32))
    cosine = CosineAlignmentLoss()
    ranking = BidirectionalRankingLoss(
        margin=config.margin, weight_structure_x=config.structure_weight, weight_structure_y=0.0
    )
    batch_size = min(config.batch_size, len(inputs))
    per_epoch = max(1, len(inputs) // batch_size)  # drop_last, as the thesis

    def epoch_batches(epoch: int) -> Iterator[NDArray[np.int64]]:
        order = numpy_rng.permutation(len(inputs))  # drawn when the epoch starts
        return (order[i * batch_size : (i + 1) * batch_size] for i in range(per_epoch))

    def batch_loss(rows: NDArray[np.int64]) -> tuple[Tensor, int]:
        index = torch.from_numpy(rows)
        outputs = net(inputs[index].to(device))
        goal = target_tensor[index].to(device)
        if config.loss == "cosine":
            return cosine(outputs, goal), len(rows)
        if config.loss == "ranking":
            match = hamming_block(raw_bits[index].to(device)) <= config.match_radius
            return ranking(outputs, goal, match, x_neighbours=match), len(rows)
        raise ValueError(f"Unknown posebit loss {config.loss!r}; use cosine or ranking.")

    return loop.run(
        config.epochs,
        per_epoch,
        epoch_batches,
        batch_loss,
        show_bar=show_bar,
        progress=progress,
        cancel=cancel,
    )


@torch.no_grad()
def alignment_score(net: nn.Module, posebits: NDArray[np.int8], targets: NDArray[np.float32]) -> float:
    """Mean cosine ⟨ẑ_i, y_i⟩ in eval mode (1 = every posebyte lands on its image) — a card metric."""
    net.eval()
    device = next(net.parameters()).device
    outputs = net(encode_posebits(posebits).to(device)).float().cpu()
    return float((outputs * torch.from_numpy(np.asarray(targets, dtype=np.float32))).sum(dim=1).mean())
