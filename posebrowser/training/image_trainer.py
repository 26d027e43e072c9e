"""Train an image embedding net under a ground-truth pose metric (the thesis' triplet training, modernised).

Data: every training image is decoded once into a uint8 array ``(N, H, W, 3)`` in RAM (5k × 128² ≈ 250 MB)
and augmented per batch (:mod:`posebrowser.training.augment`); the ground truth is the (N, N) float32
distance matrix of the train split under the chosen metric (``pose.similarity``).

Batches: ``thin-slicing`` uses the thesis' anchor + 5 near + 105 far batches (:class:`ThinSlicingSampler`,
all 525 triplets); the other miners use neighbour-group batches (:class:`NeighbourGroupSampler`) whose
positive/negative layout comes from each item's tie-aware rank-30 radius. One epoch = ⌈N / batch size⌉
batches, so every image is seen about once per epoch (the thesis used N anchors × 111 images per epoch).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor, nn

from posebrowser.nets.preprocessing import Preprocessing
from posebrowser.training.augment import AugmentConfig, augment_batch, flip_posebits, mirror_permutation
from posebrowser.training.aux_heads import (
    AuxJointHead,
    FeatureTap,
    HeadTerm,
    fit_heads_on_frozen,
    trunk_dim,
)
from posebrowser.training.batch_inputs import augmented_inputs, augmented_inputs_and_crops, fusable
from posebrowser.training.landmark_head import LandmarkHead
from posebrowser.training.loop import (
    Cancel,
    EpochLoop,
    Progress,
    TrainResult,
    autocast_context,
    choose_device,
    seed_everything,
)
from posebrowser.training.losses import (
    ContrastiveLoss,
    LogRatioLoss,
    TripletMarginLoss,
    Triplets,
    uniformity_loss,
)
from posebrowser.training.memory import CrossBatchMemory
from posebrowser.training.miners import ThinSlicingMiner, build_miner
from posebrowser.training.prefetch import auto_depth, prefetched
from posebrowser.training.sampling import NeighbourGroupSampler, ThinSlicingSampler
from posebrowser.training.teacher import TeacherTargets

ToTensor = Callable[[Sequence[NDArray[np.uint8]]], Tensor]
#: A prepared batch: the sampled batch, its net input, whether it was mirrored, its crop windows (B, 3).
Prepared = tuple[Any, Tensor, bool, NDArray[np.int64]]
#: Images per forward pass when the fresh heads are probed on the frozen embeddings.
PROBE_BATCH = 128
STATE_FILE = "image_train_state.pt"
CURVE_FILE = "image_loss.png"
#: Settings that must match to resume a run (the rest, e.g. epochs, may change).
RESUME_KEYS = (
    "metric",
    "miner",
    "loss",
    "optimizer",
    "schedule",
    "seed",
    "aux_posebits",
    "aux_joints_3d",
    "aux_joints_2d",
    "aux_trunk_joints_3d",
    "aux_teacher",
    "aux_landmarks",
    "log_ratio",
    "near_share",
    "memory_size",
    "grey_share",
)


@dataclass
class ImageTrainConfig:
    """Hyper-parameters. ``optimizer="sgd"`` + ``schedule="step"`` + lr 0.01 is the thesis recipe (Nesterov,
    momentum 0.9, wd 5e-4, ×0.2 per epoch, trunk lr ×0.1); default: AdamW + cosine (from scratch)."""

    metric: str = "hamming"
    miner: str = "thin-slicing"
    loss: str = "triplet"
    epochs: int = 7
    batch_size: int = 64
    group_size: int = 4
    near_share: float = 0.0  # share of a batch's anchors drawn from another anchor's near band (sampling.py)
    n_pos: int = 5
    n_neg: int = 105
    pos_rank_max: int = 30
    margin: float = 0.2
    uniformity: float = 0.0
    log_ratio: float = 0.0  # log-ratio loss weight added to a ranking loss (``loss="log-ratio"``: alone)
    log_ratio_neighbours: int = 5
    memory_size: int = 0  # cross-batch memory items per mirror state (memory.py; 0 = off)
    memory_weight: float = 1.0
    memory_start: int = 0  # batches before the memory loss starts (warm-up)
    aux_posebits: float = 0.0
    aux_joints_3d: float = 0.0
    aux_joints_2d: float = 0.0
    aux_trunk_joints_3d: float = 0.0  # body-frame 3-D joints read off the trunk features, not the embedding
    aux_teacher: float = 0.0  # 1 − cos to a teacher's embedding of the true pose (training/teacher.py)
    aux_landmarks: float = 0.0  # the 2-D landmarks decoded off the trunk's maps (training/landmark_head.py)
    contrastive_neg_margin: float = 0.5
    optimizer: str = "adamw"
    lr: float = 1e-3
    trunk_lr_factor: float = 1.0
    weight_decay: float = 5e-4
    schedule: str = "cosine"
    step_gamma: float = 0.2
    amp: bool = False
    augment: bool = True
    augment_config: AugmentConfig = field(default_factory=AugmentConfig)
    device: str = "auto"
    seed: int = 0
    max_batches_per_epoch: int | None = None
    val_batches: int = 5
    probe_heads: bool = False  # fit the fresh heads on the frozen embeddings first (fine-tuning a net)
    #: batches prepared ahead on a background thread (0 = serial; same results either way); None: auto_depth
    prefetch: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["augment_config"] = {
            k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self.augment_config).items()
        }
        data["grey_share"] = self.augment_config.grey_probability  # a resume must keep it (RESUME_KEYS)
        if not self.aux_landmarks:
            del data["aux_landmarks"]  # absent, as in the states saved before the head, which stay resumable
        return data


def prefetch_depth(prefetch: int | None, device: torch.device) -> int:
    """``prefetch`` when given, else what :func:`auto_depth` picks for ``device`` and torch's threads."""
    if prefetch is not None:
        return prefetch
    return auto_depth(device.type == "cuda", torch.get_num_threads())


def _is_head_parameter(name: str) -> bool:
    return name.startswith(("fc", "embedding", "head"))


def build_optimizer(net: nn.Module, config: ImageTrainConfig) -> torch.optim.Optimizer:
    """AdamW or SGD-Nesterov; head (fc*/embedding*) at ``lr``, trunk at ``lr·trunk_lr_factor``."""
    head = [p for n, p in net.named_parameters() if p.requires_grad and _is_head_parameter(n)]
    trunk = [p for n, p in net.named_parameters() if p.requires_grad and not _is_head_parameter(n)]
    groups = [
        {"params": g, "lr": lr}
        for g, lr in ((trunk, config.lr * config.trunk_lr_factor), (head, config.lr))
        if g
    ]
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            groups, lr=config.lr, momentum=0.9, nesterov=True, weight_decay=config.weight_decay
        )
    if config.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
    raise ValueError(f"Unknown optimizer {config.optimizer!r}; use adamw or sgd.")


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: ImageTrainConfig, epochs: int
) -> torch.optim.lr_scheduler.LRScheduler:
    """Per-epoch schedule: cosine annealing to 1% of lr, or the thesis' ×gamma step every epoch."""
    if config.schedule == "cosine":
        base = min(group["lr"] for group in optimizer.param_groups)
        return torch.optim.lr_scheduler.CosineAnnealingLR(
            optimizer, T_max=max(1, epochs), eta_min=0.01 * base
        )
    if config.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=config.step_gamma)
    raise ValueError(f"Unknown schedule {config.schedule!r}; use cosine or step.")


def _make_loss(config: ImageTrainConfig) -> nn.Module:
    if config.loss == "log-ratio":
        return LogRatioLoss(config.log_ratio_neighbours)
    if config.loss == "triplet":
        return TripletMarginLoss(margin=config.margin)
    if config.loss == "contrastive":
        return ContrastiveLoss(pos_margin=0.0, neg_margin=config.contrastive_neg_margin)
    raise ValueError(f"Unknown loss {config.loss!r}; use triplet, contrastive or log-ratio.")


def _metric_loss(
    loss_fn: nn.Module,
    config: ImageTrainConfig,
    embeddings: Tensor,
    triplets: Callable[[], Triplets],
    truth: Callable[[], Tensor],
) -> Tensor:
    """The configured metric loss of a batch: a ranking loss on mined triplets, the log-ratio loss on the
    batch's ground-truth block, or a ranking loss plus ``config.log_ratio`` × the log-ratio loss."""
    loss: Tensor
    if isinstance(loss_fn, LogRatioLoss):
        loss = loss_fn(embeddings, truth())
        return loss
    loss = loss_fn(embeddings, triplets())
    if config.log_ratio > 0:  # the loss is stateless: one instance per call costs nothing
        loss = loss + config.log_ratio * LogRatioLoss(config.log_ratio_neighbours)(embeddings, truth())
    return loss


def train_image_net(
    net: nn.Module,
    images: NDArray[np.uint8],
    distances: NDArray[np.float32],
    to_tensor: ToTensor | Preprocessing,
    config: ImageTrainConfig,
    work_dir: Path,
    *,
    resume: bool = False,
    show_bar: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    validation: tuple[NDArray[np.uint8], NDArray[np.float32]] | None = None,
    posebits: NDArray[np.int8] | None = None,
    posebit_names: tuple[str, ...] = (),
    joints_3d: NDArray[np.float32] | None = None,
    joints_2d: NDArray[np.float32] | None = None,
    teacher: TeacherTargets | None = None,
) -> TrainResult:
    """Train ``net`` ((N,3,S,S) → (N,D) unit rows) in place on ``images`` (N, H, W, 3) uint8 with
    ground-truth ``distances`` (N, N) float32. Writes a resumable checkpoint and the loss-curve PNG into
    ``work_dir`` after every epoch; with ``resume`` continues after the last saved epoch. Given the net's
    :class:`Preprocessing` instead of a plain ``to_tensor`` callable, augmentation and normalisation run
    fused (:mod:`posebrowser.training.batch_inputs`).

    ``validation`` = (images (M, H, W, 3) uint8, distances (M, M) float32) of a held-out split: after each
    epoch :func:`validation_loss` is appended to ``history.val`` (drawn in the loss curve).

    With ``config.aux_posebits > 0`` and ``posebits`` (N, B) int8 (−1 unknown) an auxiliary linear head
    reads every posebit off the embedding (binary cross-entropy on the known bits, labels mirrored with a
    flipped batch, weight ``aux_posebits``): a dense, pose-only signal next to the ranking loss that makes
    the embedding linearly encode the posebits. The head is trained here and discarded.

    With ``config.aux_joints_3d`` / ``aux_joints_2d`` > 0 and ``joints_3d`` (N, 16, 3) / ``joints_2d``
    (N, 16, 2), linear heads regress the body-frame 3D joints / the image-plane pose shape off the
    embedding (:mod:`posebrowser.training.aux_heads`). With ``config.aux_trunk_joints_3d`` > 0 a linear head
    regresses the body-frame 3-D joints off the pooled trunk features that enter the net's ``embedding``
    layer instead: the trunk learns to see 3-D pose while the embedding stays free to lay it out. With
    ``config.aux_teacher`` > 0 and ``teacher`` targets (:mod:`posebrowser.training.teacher`) the embedding
    is also pulled towards a teacher's embedding of each image's true pose. With ``config.aux_landmarks``
    > 0 a landmark head decodes the 2-D landmarks (``joints_2d``, placed by each image's crop window) off
    the trunk's stride-8 and stride-16 maps (:mod:`posebrowser.training.landmark_head`)."""
    if len(images) != len(distances) or distances.shape != (len(images), len(images)):
        raise ValueError(f"images ({len(images)}) and distances {distances.shape} do not match")
    preprocessing: Preprocessing | None = None
    plain_to_tensor: ToTensor
    if isinstance(to_tensor, Preprocessing):
        preprocessing, plain_to_tensor = to_tensor, to_tensor.to_tensor
    else:
        plain_to_tensor = to_tensor
    numpy_rng = seed_everything(config.seed)
    device = choose_device(config.device)
    depth = prefetch_depth(config.prefetch, device)
    net.to(device)
    net.to(memory_format=torch.channels_last)  # measured faster on CPU for these nets
    optimizer = build_optimizer(net, config)
    aux = AuxPosebitHead.build(net, config, posebits, posebit_names, device, optimizer)
    joint_heads = _joint_heads(net, config, joints_3d, joints_2d, device, optimizer)
    parts = {"net": net} | ({"aux": aux.head} if aux is not None else {})
    parts |= {weighted[1].kind: weighted[1].head for weighted in joint_heads}
    trunk_head = _trunk_joint_head(net, config, joints_3d, device, optimizer)
    if trunk_head is not None:
        parts["trunk_joints_3d"] = trunk_head.head.head
    landmark_head = _landmark_head(net, config, joints_2d, images, preprocessing, device, optimizer)
    if landmark_head is not None:
        parts["landmarks"] = landmark_head.decoder
    loop = EpochLoop(
        name="image",
        net=net,
        model=net if len(parts) == 1 else nn.ModuleDict(parts),
        optimizer=optimizer,
        scheduler=build_scheduler(optimizer, config, config.epochs),
        numpy_rng=numpy_rng,
        generators={"miner": torch.Generator().manual_seed(config.seed)},  # saved with the state
        config=config.to_dict(),
        state_path=work_dir / STATE_FILE,
        curve_path=work_dir / CURVE_FILE,
        curve_title=f"image net ({config.metric}, {config.miner})",
    )
    if loop.restore(resume, RESUME_KEYS) == 0 and config.probe_heads:
        _probe_heads(net, images, plain_to_tensor, aux, joint_heads, config, device, trunk_head)
    sampler = _make_sampler(distances, config)
    miner = build_miner(config.miner, config.margin, loop.generators["miner"])
    loss_fn = _make_loss(config)
    memory = _make_memory(distances, sampler, config)
    per_epoch = sampler.batches_per_epoch()
    if config.max_batches_per_epoch is not None:
        per_epoch = min(per_epoch, config.max_batches_per_epoch)

    def prepare(batch: Any) -> Prepared:
        pixels, flipped = images[batch.indices], False
        crops = np.zeros((len(batch.indices), 3), dtype=np.int64)  # the whole image: no crop jitter
        if config.augment and preprocessing is not None:
            if landmark_head is None:
                inputs, flipped = augmented_inputs(pixels, preprocessing, config.augment_config, numpy_rng)
            else:  # the same inputs and draws, and the crop windows its targets follow
                inputs, flipped, crops = augmented_inputs_and_crops(
                    pixels, preprocessing, config.augment_config, numpy_rng
                )
            return batch, inputs, flipped, crops
        if config.augment:
            pixels, flipped = augment_batch(pixels, config.augment_config, numpy_rng)
        return batch, plain_to_tensor(list(pixels)), flipped, crops

    def epoch_batches(epoch: int) -> Iterator[Prepared]:
        batches = (b for _, b in zip(range(per_epoch), sampler.epoch(epoch, numpy_rng), strict=False))
        return prefetched(batches, prepare, depth)

    def batch_loss(prepared: Prepared) -> tuple[Tensor, int]:
        batch, cpu_inputs, flipped, crops = prepared
        inputs = cpu_inputs.to(device, non_blocking=True, memory_format=torch.channels_last)
        with autocast_context(device, config.amp):
            embeddings = net(inputs)
        embeddings = embeddings.float()
        positive = torch.from_numpy(batch.positive).to(device)
        negative = torch.from_numpy(batch.negative).to(device)
        loss = _metric_loss(
            loss_fn,
            config,
            embeddings,
            lambda: miner.mine(embeddings, positive, negative),
            lambda: _truth_block(distances, batch.indices, device),
        )
        if config.uniformity > 0:
            loss = loss + config.uniformity * uniformity_loss(embeddings)
        if aux is not None:
            loss = loss + config.aux_posebits * aux.loss(embeddings, batch.indices, flipped)
        for weight, head in joint_heads:
            loss = loss + weight * head.loss(embeddings, batch.indices, flipped)
        if trunk_head is not None:
            features = trunk_head.tap.take().float()
            loss = loss + trunk_head.weight * trunk_head.head.loss(features, batch.indices, flipped)
        if teacher is not None and config.aux_teacher > 0:
            loss = loss + config.aux_teacher * teacher.loss(embeddings, batch.indices, flipped)
        if landmark_head is not None:
            loss = loss + landmark_head.weight * landmark_head.loss(batch.indices, crops, flipped)
        if memory is not None:
            term = memory.loss(embeddings, batch.indices, flipped, batch.positive)
            loss = loss + config.memory_weight * term
            memory.push(embeddings, batch.indices, flipped)
        return loss, len(batch.indices)

    validate = None
    if validation is not None and len(validation[0]) >= 8:
        validate = partial(
            validation_loss, net, validation[0], validation[1], plain_to_tensor, config, device
        )
    try:
        return loop.run(
            config.epochs,
            per_epoch,
            epoch_batches,
            batch_loss,
            validate=validate,
            show_bar=show_bar,
            progress=progress,
            cancel=cancel,
        )
    finally:
        if trunk_head is not None:
            trunk_head.tap.remove()
        if landmark_head is not None:
            landmark_head.remove()


def _probe_heads(
    net: nn.Module,
    images: NDArray[np.uint8],
    to_tensor: ToTensor,
    aux: AuxPosebitHead | None,
    joint_heads: list[tuple[float, AuxJointHead]],
    config: ImageTrainConfig,
    device: torch.device,
    trunk_head: TrunkJointHead | None = None,
) -> None:
    """Before fine-tuning, fit the fresh auxiliary heads to the net's (unaugmented, eval-mode) embeddings of
    every training image (:func:`posebrowser.training.aux_heads.fit_heads_on_frozen`); a trunk head to the
    trunk features of the same pass."""
    terms: list[HeadTerm] = [(w, head.loss, list(head.head.parameters())) for w, head in joint_heads]
    if aux is not None:
        terms.append((config.aux_posebits, aux.loss, list(aux.head.parameters())))
    if not terms and trunk_head is None:
        return
    net.eval()
    chunks, trunk_chunks = [], []
    with torch.no_grad():
        batches = (to_tensor(list(images[i : i + PROBE_BATCH])) for i in range(0, len(images), PROBE_BATCH))
        for batch in batches:
            chunks.append(net(batch.to(device, memory_format=torch.channels_last)))
            if trunk_head is not None:
                trunk_chunks.append(trunk_head.tap.take())
    if trunk_head is not None:
        terms.append(trunk_head.probe_term(torch.cat(trunk_chunks).float()))
    fit_heads_on_frozen(torch.cat(chunks).float(), terms)


@dataclass
class TrunkJointHead:
    """A body-frame 3-D joint head on the trunk features (read through ``tap``), with its loss weight."""

    weight: float
    head: AuxJointHead
    tap: FeatureTap

    def probe_term(self, features: Tensor) -> HeadTerm:
        """The head's term for :func:`fit_heads_on_frozen`, reading the given fixed trunk features of
        every training row (the probe's embeddings are ignored)."""
        fixed = features.detach()

        def loss(_embeddings: Tensor, rows: NDArray[np.int64], flipped: bool) -> Tensor:
            return self.head.loss(fixed[torch.from_numpy(rows)], rows, flipped)

        return (self.weight, loss, list(self.head.head.parameters()))


def _trunk_joint_head(
    net: nn.Module,
    config: ImageTrainConfig,
    joints_3d: NDArray[np.float32] | None,
    device: torch.device,
    optimizer: torch.optim.Optimizer,
) -> TrunkJointHead | None:
    """The configured trunk-level 3-D joint head, registered with the optimizer (None when off)."""
    if config.aux_trunk_joints_3d <= 0 or joints_3d is None:
        return None
    dim = trunk_dim(net)
    if dim is None:
        raise ValueError(f"{type(net).__name__} has no Linear 'embedding' layer to read trunk features at")
    head = AuxJointHead("joints_3d", joints_3d, dim, device, gain=1.0)
    optimizer.add_param_group({"params": list(head.head.parameters()), "lr": config.lr, "weight_decay": 0.0})
    return TrunkJointHead(config.aux_trunk_joints_3d, head, FeatureTap(net.get_submodule("embedding")))


def _landmark_head(
    net: nn.Module,
    config: ImageTrainConfig,
    joints_2d: NDArray[np.float32] | None,
    images: NDArray[np.uint8],
    preprocessing: Preprocessing | None,
    device: torch.device,
    optimizer: torch.optim.Optimizer,
) -> LandmarkHead | None:
    """The configured landmark head (:mod:`posebrowser.training.landmark_head`), registered with the
    optimizer (None when off). Its targets are placed in the whole image or follow the crop windows of
    the fused augmentation, so the net's preprocessing must be a plain resize of square images."""
    if config.aux_landmarks <= 0 or joints_2d is None:
        return None
    if preprocessing is None or not fusable(preprocessing, images[:1]):
        raise ValueError("the landmark head needs square training images and a plain-resize preprocessing")
    head = LandmarkHead(net, joints_2d, int(images.shape[1]), config.aux_landmarks, device)
    optimizer.add_param_group({"params": list(head.decoder.parameters()), "lr": config.lr})
    return head


def _joint_heads(
    net: nn.Module,
    config: ImageTrainConfig,
    joints_3d: NDArray[np.float32] | None,
    joints_2d: NDArray[np.float32] | None,
    device: torch.device,
    optimizer: torch.optim.Optimizer,
) -> list[tuple[float, AuxJointHead]]:
    """The (weight, head) pairs of the configured joint-regression heads, registered with the optimizer."""
    dim = int(getattr(net, "config", {}).get("embedding_dim", 128))
    heads: list[tuple[float, AuxJointHead]] = []
    for weight, kind, joints in (
        (config.aux_joints_3d, "joints_3d", joints_3d),
        (config.aux_joints_2d, "joints_2d", joints_2d),
    ):
        if weight > 0 and joints is not None:
            head = AuxJointHead(kind, joints, dim, device)  # type: ignore[arg-type]
            optimizer.add_param_group(
                {"params": list(head.head.parameters()), "lr": config.lr, "weight_decay": 0.0}
            )
            heads.append((weight, head))
    return heads


class AuxPosebitHead:
    """Linear(D → B) on the unit embedding (fixed gain 8); BCE on the known posebits."""

    def __init__(
        self, head: nn.Linear, posebits: NDArray[np.int8], mirror: Any, device: torch.device
    ) -> None:
        self.head = head
        self.bits = torch.from_numpy(np.asarray(posebits, dtype=np.int8))
        self.mirrored = torch.from_numpy(flip_posebits(posebits, mirror)) if mirror is not None else None
        self.device = device

    @classmethod
    def build(
        cls,
        net: nn.Module,
        config: ImageTrainConfig,
        posebits: NDArray[np.int8] | None,
        names: tuple[str, ...],
        device: torch.device,
        optimizer: torch.optim.Optimizer,
    ) -> AuxPosebitHead | None:
        if config.aux_posebits <= 0 or posebits is None or posebits.shape[1] == 0:
            return None
        dim = int(getattr(net, "config", {}).get("embedding_dim", 128))
        generator_state = torch.random.get_rng_state()
        head = nn.Linear(dim, posebits.shape[1]).to(device)
        torch.random.set_rng_state(generator_state)  # the net's batches stay as without the head
        optimizer.add_param_group({"params": list(head.parameters()), "lr": config.lr, "weight_decay": 0.0})
        mirror = mirror_permutation(list(names)) if names else None
        return cls(head, posebits, mirror, device)

    def loss(self, embeddings: Tensor, rows: NDArray[np.int64], flipped: bool) -> Tensor:
        source = self.mirrored if flipped and self.mirrored is not None else self.bits
        targets = source[torch.from_numpy(np.asarray(rows, dtype=np.int64))].to(self.device)
        known = targets >= 0
        if not bool(known.any()):
            return embeddings.sum() * 0.0
        logits = self.head(embeddings * 8.0)  # unit rows: a fixed gain lets the logits reach ±several
        return nn.functional.binary_cross_entropy_with_logits(logits[known], targets[known].float())


def _truth_block(distances: NDArray[np.float32], rows: NDArray[np.int64], device: torch.device) -> Tensor:
    """Ground-truth distances (B, B) float32 between the batch items ``rows``."""
    return torch.from_numpy(np.ascontiguousarray(distances[np.ix_(rows, rows)])).to(device)


def _make_sampler(
    distances: NDArray[np.float32], config: ImageTrainConfig
) -> ThinSlicingSampler | NeighbourGroupSampler:
    if config.miner == "thin-slicing":
        return ThinSlicingSampler(distances, config.n_pos, config.n_neg, config.pos_rank_max)
    return NeighbourGroupSampler(
        distances,
        config.batch_size,
        config.group_size,
        config.n_pos,
        config.pos_rank_max,
        near_share=config.near_share,
    )


def _make_memory(
    distances: NDArray[np.float32],
    sampler: ThinSlicingSampler | NeighbourGroupSampler,
    config: ImageTrainConfig,
) -> CrossBatchMemory | None:
    """The cross-batch memory of ``config`` (neighbour-group batches only: it needs their radii)."""
    if config.memory_size <= 0:
        return None
    if not isinstance(sampler, NeighbourGroupSampler):
        raise ValueError("the cross-batch memory needs neighbour-group batches (not the thin-slicing miner)")
    return CrossBatchMemory(distances, sampler.radii, config.memory_size, config.margin, config.memory_start)


@torch.no_grad()
def validation_loss(
    net: nn.Module,
    images: NDArray[np.uint8],
    distances: NDArray[np.float32],
    to_tensor: ToTensor,
    config: ImageTrainConfig,
    device: torch.device,
) -> float:
    """Miner-independent held-out loss: the configured loss over **all** valid triplets of
    ``config.val_batches`` fixed batches (same seed every epoch, no augmentation, eval mode, epoch-0 far_max).
    """
    was_training = net.training
    net.eval()
    sampler = _make_sampler(distances, config)
    rng = np.random.default_rng(config.seed + 1)
    loss_fn = _make_loss(config)
    values: list[float] = []
    for _, batch in zip(range(config.val_batches), sampler.epoch(0, rng), strict=False):
        embeddings = net(to_tensor(list(images[batch.indices])).to(device)).float()
        every = ThinSlicingMiner(anchors=tuple(range(len(batch.indices))))
        positive = torch.from_numpy(batch.positive).to(device)
        negative = torch.from_numpy(batch.negative).to(device)
        loss = _metric_loss(
            loss_fn,
            config,
            embeddings,
            lambda: every.mine(embeddings, positive, negative),  # noqa: B023 - called at once
            lambda: _truth_block(distances, batch.indices, device),  # noqa: B023 - called at once
        )
        values.append(float(loss))
    net.train(was_training)
    return float(np.mean(values)) if values else float("nan")
