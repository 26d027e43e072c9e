"""Train the joints net (:class:`posebrowser.nets.joints_net.JointsNet`) under the 3-D ground-truth metric.

Data: clean ground-truth poses ``(N, 16, 3)`` (Z-up metres: a gallery's train split and/or poses drawn by
the synthetic pose sampler without rendering). Every batch is fed through a noise model
(:class:`posebrowser.estimate.noise.EstimatorNoise`, drawn afresh per batch) so the net learns to embed
what the pose estimator *would* say about those poses, while positives and negatives come from the clean
poses — the target is still the ground-truth metric.

Batches follow the shipped image net's recipe (neighbour groups, each item's rank-30 radius, batch-all
triplet mining, triplet margin 0.2, AdamW + cosine): the rank-30 radius is found among each pose's
``candidates`` nearest poses by plain L2 of the aligned poses (a full N × N matrix of 20k poses would not
fit), then measured exactly with the 3-D metric (facing- and centroid-aligned mean per-joint distance).
A run of a few thousand steps takes CPU minutes, so it is not resumable: it restarts from its seed.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from posebrowser.estimate.noise import EstimatorNoise
from posebrowser.nets.joints_net import JointsNet, joints_frame
from posebrowser.training.loop import (
    Cancel,
    LossHistory,
    Progress,
    choose_device,
    progress_iter,
    seed_everything,
)
from posebrowser.training.losses import TripletMarginLoss
from posebrowser.training.miners import BatchAllMiner, ThinSlicingMiner, masks_from_distances
from posebrowser.training.sampling import scaled_pos_rank_max

F32 = NDArray[np.float32]
I64 = NDArray[np.int64]


@dataclass
class JointsTrainConfig:
    """Hyper-parameters of a joints-net run (``noise_scale`` multiplies the noise model's residuals)."""

    epochs: int = 20
    batch_size: int = 64
    group_size: int = 4
    pos_rank_max: int = 30
    candidates: int = 160
    hidden: int = 512
    depth: int = 2
    dropout: float = 0.0
    lr: float = 1e-3
    weight_decay: float = 1e-4
    margin: float = 0.2
    noise_scale: float = 1.0
    seed: int = 0
    device: str = "cpu"
    #: The joints-net frame (``"facing"``, or ``"torso"``: triplets then mined by the distance in it).
    frame: str = "facing"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def net_config(self) -> dict[str, Any]:
        """The :class:`JointsNet` keyword arguments of this run (what a model card stores)."""
        config = {"hidden": self.hidden, "depth": self.depth, "embedding_dim": 128, "dropout": self.dropout}
        return config if self.frame == "facing" else {**config, "frame": self.frame}


@dataclass
class JointsTrainResult:
    """``history.train``: mean mined (batch-all) loss per epoch — it can rise as easy triplets stop
    counting; ``history.val``: the fixed all-triplet loss (:func:`all_triplet_loss`) after each epoch,
    ``initial_loss`` the same before training."""

    history: LossHistory
    initial_loss: float
    seconds: float
    steps: int


def aligned_for_metric(poses: NDArray[np.floating], frame: str = "facing") -> NDArray[np.float64]:
    """``(N, 16, 3)`` poses in the joints-net ``frame``, centred on their centroid. Facing-aligned, the mean
    per-joint distance of two such poses is exactly their 3-D ground-truth distance
    (``pose.similarity.distances_3d``); in the torso frame it is that distance with the lean removed."""
    framed = joints_frame(poses, frame).astype(np.float64)
    centred: NDArray[np.float64] = framed - framed.mean(axis=1, keepdims=True)
    return centred


def mean_joint_distance(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """Mean per-joint Euclidean distance of aligned poses, broadcasting over leading axes."""
    distances: NDArray[np.float64] = np.linalg.norm(a - b, axis=-1).mean(axis=-1)
    return distances


def candidate_neighbours(
    aligned: NDArray[np.float64], count: int, block: int = 1024
) -> tuple[I64, NDArray[np.float64]]:
    """Each pose's ``count`` nearest other poses ``(N, count)`` (by L2 of the flattened aligned poses),
    sorted by their exact 3-D distance, with those distances ``(N, count)``."""
    n = len(aligned)
    count = max(1, min(count, n - 1))
    flat = aligned.reshape(n, -1)
    squared = (flat**2).sum(axis=1)
    indices = np.empty((n, count), dtype=np.int64)
    distances = np.empty((n, count), dtype=np.float64)
    for start in range(0, n, block):
        rows = np.arange(start, min(n, start + block))
        l2 = squared[rows, None] + squared[None, :] - 2.0 * flat[rows] @ flat.T
        l2[np.arange(len(rows)), rows] = np.inf  # never its own neighbour
        nearest = np.argpartition(l2, count - 1, axis=1)[:, :count]
        exact = mean_joint_distance(aligned[rows, None], aligned[nearest])
        order = np.argsort(exact, axis=1, kind="stable")
        indices[rows] = np.take_along_axis(nearest, order, axis=1)
        distances[rows] = np.take_along_axis(exact, order, axis=1)
    return indices, distances


class JointsBatches:
    """Neighbour-group batches: ``batch_size / group_size`` anchors, each with ``group_size − 1`` poses
    from its positive pool (its ``rank`` nearest); a pair is positive when its 3-D distance is within the
    anchor's radius (the rank-th nearest distance), negative otherwise (:func:`masks_from_distances`)."""

    def __init__(self, aligned: NDArray[np.float64], config: JointsTrainConfig) -> None:
        self.aligned = aligned
        self.groups = max(1, config.batch_size // max(2, config.group_size))
        self.group_size = max(2, config.group_size)
        self.rank = scaled_pos_rank_max(len(aligned), config.pos_rank_max)
        self.neighbours, near = candidate_neighbours(aligned, max(config.candidates, self.rank))
        self.radii = near[:, self.rank - 1].copy()

    def batches_per_epoch(self) -> int:
        return max(1, math.ceil(len(self.aligned) / (self.groups * self.group_size)))

    def sample(self, anchors: I64, rng: np.random.Generator) -> tuple[I64, torch.Tensor, torch.Tensor]:
        """(indices, positive, negative) of one batch; the masks are ``(B, B)`` bool tensors."""
        members: list[int] = []
        for anchor in anchors:
            pool = self.neighbours[anchor, : self.rank]
            members += [int(anchor), *rng.choice(pool, size=self.group_size - 1, replace=False).tolist()]
        _, first = np.unique(np.asarray(members), return_index=True)
        indices = np.asarray(members, dtype=np.int64)[np.sort(first)]
        poses = self.aligned[indices]
        block = mean_joint_distance(poses[:, None], poses[None, :])
        positive, negative = masks_from_distances(
            torch.from_numpy(block), torch.from_numpy(self.radii[indices])
        )
        return indices, positive, negative

    def epoch(self, rng: np.random.Generator) -> list[I64]:
        order = rng.permutation(len(self.aligned))
        step = self.groups
        return [order[(i * step) % len(order) :][:step] for i in range(self.batches_per_epoch())]


@torch.no_grad()
def all_triplet_loss(
    net: JointsNet, batches: JointsBatches, clean: F32, margin: float, count: int = 4
) -> float:
    """Triplet loss over **all** valid triplets of ``count`` fixed batches (seeded, clean inputs, eval
    mode): a miner-independent measure of the ranking the net has learnt."""
    was_training = net.training
    net.eval()
    device = next(net.parameters()).device
    rng = np.random.default_rng(0)
    loss_fn = TripletMarginLoss(margin)
    values: list[float] = []
    for anchors in batches.epoch(rng)[:count]:
        indices, positive, negative = batches.sample(anchors, rng)
        embeddings = net(torch.from_numpy(clean[indices]).to(device))
        every = ThinSlicingMiner(anchors=tuple(range(len(indices))))
        values.append(
            float(loss_fn(embeddings, every.mine(embeddings, positive.to(device), negative.to(device))))
        )
    net.train(was_training)
    return float(np.mean(values))


def train_joints_net(
    poses: NDArray[np.floating],
    noise: EstimatorNoise | None,
    config: JointsTrainConfig,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    show_bar: bool = False,
) -> tuple[JointsNet, JointsTrainResult]:
    """Train a fresh :class:`JointsNet` on clean ``poses`` ``(N, 16, 3)`` with ``noise`` (None: clean).

    Seeded by ``config.seed``: the same poses, noise model and config give the same weights on a device.
    Returns the net in eval mode and the losses (:class:`JointsTrainResult`).
    """
    if len(poses) < 2 * config.group_size:
        raise ValueError(f"At least {2 * config.group_size} poses are needed, got {len(poses)}.")
    numpy_rng = seed_everything(config.seed)
    device = choose_device(config.device)
    net = JointsNet(**config.net_config()).to(device)
    if noise is not None and noise.frame != config.frame:
        raise ValueError(
            f"The noise model lives in the {noise.frame} frame, the net in the {config.frame} one."
        )
    clean = joints_frame(poses, config.frame)
    with torch.no_grad():
        net.get_buffer("mean_pose").copy_(torch.from_numpy(clean.mean(axis=0)))
    batches = JointsBatches(aligned_for_metric(clean, config.frame), config)
    optimizer = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    per_epoch = batches.batches_per_epoch()
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, config.epochs * per_epoch))
    miner, loss_fn = BatchAllMiner(config.margin), TripletMarginLoss(config.margin)
    history, steps, began = LossHistory(), 0, time.perf_counter()
    initial = all_triplet_loss(net, batches, clean, config.margin)
    for epoch in range(config.epochs):
        net.train()
        losses: list[float] = []
        for anchors in progress_iter(
            iter(batches.epoch(numpy_rng)),
            per_epoch,
            description=f"joints epoch {epoch + 1}/{config.epochs}",
            show_bar=show_bar,
            progress=progress,
            cancel=cancel,
            offset=epoch * per_epoch,
            grand_total=config.epochs * per_epoch,
        ):
            indices, positive, negative = batches.sample(anchors, numpy_rng)
            inputs = (
                clean[indices]
                if noise is None
                else noise.sample(clean[indices], numpy_rng, config.noise_scale)
            )
            embeddings = net(torch.from_numpy(np.ascontiguousarray(inputs)).to(device))
            loss = loss_fn(embeddings, miner.mine(embeddings, positive.to(device), negative.to(device)))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(float(loss.detach()))
            steps += 1
        history.train.append(float(np.mean(losses)))
        history.val.append(all_triplet_loss(net, batches, clean, config.margin))
    net.eval()
    return net, JointsTrainResult(history, initial, time.perf_counter() - began, steps)


@torch.no_grad()
def embed_joints(net: JointsNet, joints: NDArray[np.floating], batch: int = 4096) -> F32:
    """``(N, 16, 3)`` Z-up poses (any frame: they are put in the joints-net frame) → ``(N, 128)`` float32."""
    device = next(net.parameters()).device
    framed = joints_frame(joints, net.frame)
    out = [
        net(torch.from_numpy(framed[i : i + batch]).to(device)).float().cpu().numpy()
        for i in range(0, len(framed), batch)
    ]
    return np.concatenate(out).astype(np.float32) if out else np.zeros((0, 128), np.float32)
