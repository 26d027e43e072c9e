"""``posebrowser train keypoints``: the keypoint reader (:mod:`posebrowser.nets.keypoint_reader`), a third
reader of each image for the fused image model.

Two stages, both on training data only:

1. **Keypoint net**, initialised from ``<out>/image_net``'s trunk (stem and stages 0–2 frozen), trained with
   an L1 loss in pixels on the exact 2-D landmarks of the train splits of ``--gallery`` and
   ``--finetune-gallery``. Augmentation: colour jitter, a random zoom (0.85–1.15) and shift (±10 %) and a
   mirrored image (its landmarks mirrored with the sides swapped) per image. AdamW 1e-3, one-cycle, batch
   64, ``--keypoint-epochs`` (default 4). With ``--keypoint-depth`` the net also has the depth head and
   learns each joint's exact depth relative to the pelvis from the render's camera (:func:`camera_depths`;
   L1 in pixels, added to the landmarks' L1). Resumable per epoch
   (``<out>/training/keypoint_net_state.pt``; resuming with other epochs, images, batch, seed or depth head
   is a clear error).
2. **Keypoint lifter**, trained to land where ``<out>/joints_net`` puts each image's *true* 3-D pose
   (loss 1 − cos), on the exact 2-D projections (and depths) of the same train splits (no rendering) with
   keypoint-net-like errors: a Gaussian fitted to the keypoint net's residuals on the train renders of the
   built-in gallery (``--noise-gallery``), times 0.5, and, in 17 % of rows, a left/right confusion of the
   legs, arms or whole body. 30 epochs, batch 256, AdamW 1e-3 one-cycle.

Saved as ``<out>/keypoint_reader`` (an image model whose rows live in the joints net's space; its card
carries the keypoint net's landmark error on the noise gallery's train renders).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray

from posebrowser.errors import CheckpointError, DataError
from posebrowser.nets.keypoint_reader import MIRROR, KeypointReader, landmark_features
from posebrowser.pose.skeleton import PELVIS
from posebrowser.training.loop import (
    LossHistory,
    load_training_state,
    read_training_state,
    save_training_state,
)

READER_STEM = "keypoint_reader"
STATE_FILE = "keypoint_net_state.pt"
INPUT_SIZE = 160
NOISE_SCALE = 0.5
SWAP_SHARE = 0.17
LIFTER_EPOCHS = 30
LIFTER_BATCH = 256
#: Trunk stages after the stem that the keypoint net keeps frozen (stages 0–2: the stride-8 features).
FROZEN_STAGES = 3


def _swapped(pairs: Sequence[tuple[int, int]]) -> list[int]:
    order = list(range(16))
    for a, b in pairs:
        order[a], order[b] = b, a
    return order


#: The left/right confusions a landmark reader makes (joint order of the 16-joint skeleton) and their shares
#: among confused images, as measured for the bundled pose estimator on the built-in train renders.
SWAPS = (
    (_swapped([(0, 5), (1, 4)]), 0.35),  # the legs
    (_swapped([(10, 15), (11, 14)]), 0.27),  # the arms
    (list(MIRROR), 0.38),  # the whole body
)


def normalised(pixels: NDArray[np.floating], side: float | NDArray[np.floating]) -> NDArray[np.float32]:
    """Pixel landmarks of a ``side`` px image → normalised coordinates (``align_corners=False``); ``side``
    may be an array that broadcasts against ``pixels`` (one side per image)."""
    return ((np.asarray(pixels, np.float32) + 0.5) / (side / 2) - 1).astype(np.float32)


def load_rgb(gallery: Any, rows: NDArray[np.integer]) -> NDArray[np.uint8]:
    """The gallery's images of ``rows`` as one ``(N, S, S, 3)`` uint8 array (all one size)."""
    images = [np.asarray(gallery.load_image(int(r)).convert("RGB"), np.uint8) for r in rows]
    if len({image.shape for image in images}) > 1:
        raise DataError("The keypoint net trains on square renders of one size.", path=gallery.root)
    return np.stack(images)


def warped_batch(
    images: NDArray[np.uint8], landmarks: NDArray[np.float32], rng: np.random.Generator | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 ``(B, S, S, 3)`` + normalised landmarks → the net's ``(B, 3, 160, 160)`` input in [−1, 1] and
    its targets; with ``rng`` each image gets a random zoom, shift and mirror (``None``: the plain view)."""
    x, target, _ = warped_batch_with_depths(images, landmarks, None, rng)
    return x, target


def warped_batch_with_depths(
    images: NDArray[np.uint8],
    landmarks: NDArray[np.float32],
    depths: NDArray[np.float32] | None,
    rng: np.random.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """:func:`warped_batch` that also carries ``(B, 16)`` depths (landmark units) along: a zoom scales them
    as it scales the landmarks' offsets, a mirror swaps the sides and keeps them."""
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float()
    target = torch.from_numpy(np.asarray(landmarks, np.float32)).clone()
    depth = None if depths is None else torch.from_numpy(np.asarray(depths, np.float32)).clone()
    count = len(images)
    theta = torch.zeros(count, 2, 3)
    theta[:, 0, 0] = theta[:, 1, 1] = 1.0
    if rng is not None:
        scale = torch.from_numpy(rng.uniform(0.85, 1.15, count)).float()
        shift = torch.from_numpy(rng.uniform(-0.1, 0.1, (count, 2))).float()
        mirrored = torch.from_numpy(rng.random(count) < 0.5)
        sign = torch.where(mirrored, -1.0, 1.0)
        theta[:, 0, 0], theta[:, 1, 1], theta[:, :, 2] = scale * sign, scale, shift
        # the grid samples input = theta · output, so a landmark moves to (input − shift) / (scale · sign)
        target = (target - shift[:, None]) / torch.stack([scale * sign, scale], -1)[:, None]
        target[mirrored] = target[mirrored][:, list(MIRROR)]
        if depth is not None:
            depth = depth / scale[:, None]
            depth[mirrored] = depth[mirrored][:, list(MIRROR)]
    grid = F.affine_grid(theta, [count, 3, INPUT_SIZE, INPUT_SIZE], align_corners=False)
    warped = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return (warped - 127.5) / 127.5, target, depth


def camera_depths(gallery: Any, rows: NDArray[np.integer], side: int) -> NDArray[np.float32]:
    """``(N, 16)`` exact depths of the rows' joints relative to the pelvis in normalised image units of a
    ``side`` px render: ``f · (Z_j − Z_pelvis) / Z_pelvis / (side / 2)``, camera ``X_c = R X_w + t``."""
    rotation = gallery_annotation(gallery, "camera_rotation")[rows].astype(np.float64)
    translation = gallery_annotation(gallery, "camera_translation")[rows].astype(np.float64)
    focal = gallery_annotation(gallery, "camera_focal")[rows].astype(np.float64)
    world = gallery_annotation(gallery, "joints_3d")[rows].astype(np.float64)
    z = (np.einsum("nij,nkj->nki", rotation, world) + translation[:, None])[..., 2]
    pelvis = z[:, PELVIS : PELVIS + 1]
    return np.asarray(focal[:, None] * (z - pelvis) / pelvis / (side / 2), np.float32)


def optimiser_step(loss: torch.Tensor, optimiser: torch.optim.Optimizer, schedule: Any) -> float:
    """One optimiser and schedule step on ``loss``; returns its value."""
    optimiser.zero_grad()
    loss.backward()
    optimiser.step()
    schedule.step()
    return float(loss.detach())


def _resumed_losses(
    state_path: Path,
    resume: bool,
    settings: dict[str, Any],
    net: torch.nn.Module,
    optimiser: torch.optim.Optimizer,
    schedule: torch.optim.lr_scheduler.LRScheduler,
    rng: np.random.Generator,
) -> list[float]:
    """With ``resume`` and a saved state, restore it and return the finished epochs' losses (else ``[]``).
    A state saved with other ``settings`` (epochs, images, batch, seed: the one-cycle schedule depends on
    them) or one that cannot be read is a :class:`CheckpointError`; the file is kept either way."""
    if not (resume and state_path.is_file()):
        return []
    state = read_training_state(state_path)  # settings are checked before any weights load
    changed = [key for key, value in settings.items() if state["config"].get(key) != value]
    if changed:
        raise CheckpointError(
            f"The saved training state used different settings ({', '.join(changed)}); "
            "start without --resume or use the same settings.",
            path=state_path,
        )
    _, history, _ = load_training_state(state_path, model=net, optimizer=optimiser, scheduler=schedule,
                                        numpy_rng=rng, state=state)
    return history.train


def train_keypoint_net(
    reader: KeypointReader,
    images: NDArray[np.uint8],
    landmarks: NDArray[np.float32],
    args: argparse.Namespace,
    log: Callable[[str], None],
    depths: NDArray[np.float32] | None = None,
) -> list[float]:
    """Stage 1 (see the module doc); returns the per-epoch mean L1 error in pixels of the training images'
    landmarks (plus that of their depths, when ``depths`` trains the depth head). ``args.frozen_stages``
    (default 3: stages 0–2, the stride-8 features) says how many trunk stages after the stem stay frozen."""
    from posebrowser.training.augment import AugmentConfig, colour_jitter

    net = reader.keypoints
    frozen_stages = int(getattr(args, "frozen_stages", FROZEN_STAGES))
    frozen = [net.stem, *list(net.fine)[:frozen_stages]]
    for module in frozen:
        module.requires_grad_(False)
    device = args.train_device
    net.to(device).to(memory_format=torch.channels_last)  # 1.5x the steps/s on CPU: bench_keypoint_training
    trainable = [p for p in net.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trainable, lr=1e-3, weight_decay=1e-4)
    steps = max(1, len(images) // args.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, 1e-3, total_steps=args.keypoint_epochs * steps,
                                                   pct_start=0.1)
    state_path = Path(args.out) / "training" / STATE_FILE
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    settings = {"keypoint_epochs": args.keypoint_epochs, "training_images": len(images),
                "batch_size": args.batch_size, "seed": args.seed, "depth_head": depths is not None}
    grey_share = float(getattr(args, "grey_share", 0.0))
    settings["grey_share"] = grey_share
    if frozen_stages != FROZEN_STAGES:  # only then, so the states of earlier runs still resume
        settings["frozen_stages"] = frozen_stages
    losses = _resumed_losses(state_path, args.resume, settings, net, optimiser, schedule, rng)
    if losses:
        log(f"keypoint net: resumed after epoch {len(losses)}")
    half = INPUT_SIZE / 2 * (images.shape[1] / INPUT_SIZE)  # normalised units → pixels of the source image
    config = AugmentConfig(grey_probability=grey_share)
    began = time.perf_counter()
    for epoch in range(len(losses), args.keypoint_epochs):
        order, total = rng.permutation(len(images)), 0.0
        net.train()
        for module in frozen:
            module.eval()
        for step in range(steps):
            batch = np.sort(order[step * args.batch_size : (step + 1) * args.batch_size])
            x, target, depth = warped_batch_with_depths(
                colour_jitter(images[batch], config, rng), landmarks[batch],
                None if depths is None else depths[batch], rng,
            )
            points, read_depths = net.read(x.to(device, memory_format=torch.channels_last))
            loss = (points - target.to(device)).abs().mean() * half
            if depth is not None and read_depths is not None:
                loss = loss + (read_depths - depth.to(device)).abs().mean() * half
            total += optimiser_step(loss, optimiser, schedule)
        losses.append(total / steps)
        state_path.parent.mkdir(parents=True, exist_ok=True)
        save_training_state(state_path, epoch=epoch, model=net, optimizer=optimiser, scheduler=schedule,
                            history=LossHistory(train=losses), numpy_rng=rng, config=settings)
        what = "landmarks + depths" if depths is not None else "landmarks"
        log(f"keypoint net epoch {epoch + 1}/{args.keypoint_epochs}: L1 ({what}) {losses[-1]:.2f} px "
            f"({time.perf_counter() - began:.0f} s)")
    net.eval()
    return losses


@torch.inference_mode()
def read_keypoints(
    reader: KeypointReader, images: NDArray[np.uint8], device: str = "cpu"
) -> tuple[NDArray[np.float32], NDArray[np.float32] | None]:
    """``(N, 16, 2)`` normalised landmarks and ``(N, 16)`` depths (None without the depth head) of uint8
    renders, read as the reader reads them (mirrored view included)."""
    reader.eval().to(device).to(memory_format=torch.channels_last)
    points, depths = [], []
    for start in range(0, len(images), 128):
        chunk = images[start : start + 128]
        x, _ = warped_batch(chunk, np.zeros((len(chunk), 16, 2), np.float32), None)
        read, read_depths = reader.reading(x.to(device, memory_format=torch.channels_last))
        points.append(read.cpu().numpy())
        if read_depths is not None:
            depths.append(read_depths.cpu().numpy())
    if not points:
        return np.zeros((0, 16, 2), np.float32), None
    return np.concatenate(points), (np.concatenate(depths) if depths else None)


def read_landmarks(
    reader: KeypointReader, images: NDArray[np.uint8], device: str = "cpu"
) -> NDArray[np.float32]:
    """``(N, 16, 2)`` normalised landmarks of uint8 renders, read as the reader reads them (mirrored view
    included)."""
    return read_keypoints(reader, images, device)[0]


def landmark_noise(
    reader: KeypointReader, gallery: Any, rows: NDArray[np.integer], device: str
) -> tuple[NDArray[np.float64], NDArray[np.float64], dict[str, float]]:
    """Mean and covariance of the keypoint net's feature residuals (landmarks, and depths with the depth
    head) on ``rows``, and its pixel errors there (for the card)."""
    side = gallery.load_image(int(rows[0])).size[0]
    truth = normalised(gallery_annotation(gallery, "joints_2d")[rows], side)
    read, depths = read_keypoints(reader, load_rgb(gallery, rows), device)
    true_depths = None if depths is None else camera_depths(gallery, rows, side)
    residual = landmark_features(read, depths) - landmark_features(truth, true_depths)
    error = np.linalg.norm(read - truth, axis=-1) * side / 2
    figures = {"images": len(rows), "median_px": round(float(np.median(error)), 2),
               "mean_px": round(float(error.mean()), 2),
               "over_10px_share": round(float((error > 10).mean()), 4)}
    if depths is not None and true_depths is not None:
        depth_error = np.abs(depths - true_depths) * side / 2
        figures |= {"depth_median_px": round(float(np.median(depth_error)), 2),
                    "depth_mean_px": round(float(depth_error.mean()), 2)}
    return residual.mean(0), np.cov(residual, rowvar=False), figures


def with_swaps(features: torch.Tensor, rng: np.random.Generator, share: float) -> torch.Tensor:
    """``features`` (32 landmark features, or 48 with depths) with ``share`` of its rows' joints
    left/right-confused as :data:`SWAPS` says (landmarks and depths alike)."""
    out = features.clone()
    rows = len(out)
    confused = rng.random(rows) < share
    kinds = rng.choice(len(SWAPS), rows, p=[weight for _, weight in SWAPS])
    with_depths = out.shape[1] > 32
    points = out[:, :32].reshape(rows, 16, 2)
    for kind, (order, _) in enumerate(SWAPS):
        chosen = torch.from_numpy(np.nonzero(confused & (kinds == kind))[0])
        if len(chosen):
            points[chosen] = points[chosen][:, order]
            if with_depths:
                out[chosen, 32:] = out[chosen, 32:][:, order]
    out[:, :32] = points.reshape(rows, 32)
    return out


def _gaussian(
    noise: tuple[NDArray[np.float64], NDArray[np.float64]] | None,
) -> Callable[[int], torch.Tensor] | None:
    """A sampler of ``count`` rows of the Gaussian (mean, covariance) (None for None)."""
    if noise is None:
        return None
    mean, covariance = (torch.from_numpy(np.asarray(v)).float() for v in noise)
    factor = torch.linalg.cholesky(covariance + 1e-6 * torch.eye(len(mean)))
    return lambda count: mean + torch.randn(count, len(mean)) @ factor.T


def train_lifter(
    reader: KeypointReader,
    features: NDArray[np.float32],
    targets: NDArray[np.float32],
    noise: tuple[NDArray[np.float64], NDArray[np.float64]] | None,
    args: argparse.Namespace,
    log: Callable[[str], None],
    swap_share: float = SWAP_SHARE,
    augmented: NDArray[np.bool_] | None = None,
) -> list[float]:
    """Stage 2 (see the module doc); returns the per-epoch mean loss. ``noise=None`` and ``swap_share=0``
    train on the exact inputs (a bound). ``augmented`` (one flag per row; default all) says which rows get
    the noise and the swaps: rows that are already a keypoint net's readings need neither."""
    lifter = reader.lifter
    x, target = torch.from_numpy(features), torch.from_numpy(targets)
    takes_errors = None if augmented is None else torch.from_numpy(np.asarray(augmented, bool))
    draw_noise = _gaussian(noise)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    batch_size = min(LIFTER_BATCH, len(x))
    steps = max(1, len(x) // batch_size)
    optimiser = torch.optim.AdamW(lifter.parameters(), lr=1e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, 1e-3, total_steps=args.lifter_epochs * steps)
    losses: list[float] = []
    lifter.cpu().train()
    for epoch in range(args.lifter_epochs):
        order, total = torch.randperm(len(x)), 0.0
        for step in range(steps):
            batch = order[step * batch_size : (step + 1) * batch_size]
            inputs = with_swaps(x[batch], rng, swap_share)
            if draw_noise is not None:
                inputs = inputs + NOISE_SCALE * draw_noise(len(batch))
            if takes_errors is not None:
                inputs = torch.where(takes_errors[batch, None], inputs, x[batch])
            total += optimiser_step((1 - (lifter(inputs) * target[batch]).sum(1)).mean(), optimiser, schedule)
        losses.append(total / steps)
        if (epoch + 1) % 10 == 0 or epoch + 1 == args.lifter_epochs:
            log(f"keypoint lifter epoch {epoch + 1}/{args.lifter_epochs}: loss {losses[-1]:.4f}")
    lifter.eval()
    return losses


def gallery_annotation(gallery: Any, name: str) -> NDArray[np.float32]:
    values = getattr(gallery, name, None)
    if values is None:
        raise DataError(f"The keypoint reader trains on a gallery with {name}; this one has none.",
                        path=gallery.root)
    return np.asarray(values, np.float32)


def image_net_trunk(out: Path) -> Any:
    """The timm trunk of ``<out>/image_net`` (a Lite0 net, with or without its mirrored view)."""
    from posebrowser.nets.checkpoint import load_model

    module, _ = load_model(out / "image_net", expect_kind="image")
    trunk = getattr(getattr(module, "net", module), "trunk", None)
    if trunk is None or not hasattr(trunk, "blocks"):
        raise CheckpointError("The keypoint reader starts from an efficientnet_lite0 image net.", path=out)
    return trunk


def run_keypoints(args: argparse.Namespace, log: Callable[[str], None] = print) -> list[float]:
    """Train and save ``<out>/keypoint_reader`` (see the module doc); returns the keypoint net's epoch
    losses."""
    from posebrowser.core.device import resolve_device
    from posebrowser.data.loading import open_gallery
    from posebrowser.nets.checkpoint import ModelCard, load_model, save_model
    from posebrowser.nets.joints_net import embed_joints
    from posebrowser.nets.preprocessing import lite_preprocessing
    from posebrowser.training.train_split import train_rows

    out = Path(args.out)
    for stem in ("image_net", "joints_net"):
        if not (out / f"{stem}.json").is_file():
            raise CheckpointError(f"The keypoint reader needs {stem} in the models folder; it is not there.",
                                  path=out)
    args.train_device = resolve_device(args.device).name
    galleries = [open_gallery(name) for name in (args.gallery, args.finetune_gallery) if name is not None]
    parts = [(gallery, train_rows(gallery, args.tiny, args.max_train_images)) for gallery in galleries]
    images = np.concatenate([load_rgb(gallery, rows) for gallery, rows in parts])
    side = images.shape[1]
    landmarks = np.concatenate([normalised(gallery_annotation(gallery, "joints_2d")[rows], side)
                                for gallery, rows in parts])
    depth = bool(args.keypoint_depth)
    depths = (np.concatenate([camera_depths(gallery, rows, side) for gallery, rows in parts]) if depth
              else None)
    log(f"keypoint net: {len(images)} training images" + (", with depths" if depth else ""))
    torch.manual_seed(args.seed)  # the decoder's, the depth head's and the lifter's initial weights
    reader = KeypointReader(joints_model="joints_net", depth_head=depth)
    reader.keypoints.load_trunk(image_net_trunk(out))
    losses = train_keypoint_net(reader, images, landmarks, args, log, depths)
    del images
    noise_gallery = open_gallery(args.noise_gallery)
    noise_rows = train_rows(noise_gallery, args.tiny, args.max_train_images)
    mean, covariance, errors = landmark_noise(reader, noise_gallery, noise_rows, args.train_device)
    log(f"keypoint net on {errors['images']} train renders of the noise gallery: median "
        f"{errors['median_px']} px, mean {errors['mean_px']} px"
        + (f"; depth median {errors['depth_median_px']} px" if depth else ""))
    joints_net, joints_card = load_model(out / "joints_net", expect_kind="image")
    # the normalised landmarks share the depths' unit (the 2-D features themselves are scale-free)
    features = landmark_features(landmarks, depths)
    targets = np.concatenate([embed_joints(joints_net, gallery_annotation(gallery, "joints_3d")[rows])
                              for gallery, rows in parts])
    lifter_losses = train_lifter(reader, features, targets, (mean, covariance), args, log)
    reader.cpu().eval()
    card = ModelCard(
        net="keypoint_reader",
        config=dict(reader.config),
        kind="image",
        preprocessing=lite_preprocessing(INPUT_SIZE).to_dict(),
        embedding_dim=int(reader.config["embedding_dim"]),
        training_data_hash="+".join(gallery.content_hash for gallery in galleries),
        metrics={
            "keypoint_train_l1_px": [round(v, 3) for v in losses],
            "lifter_train_loss": [round(v, 4) for v in lifter_losses],
            "landmark_error_noise_gallery": {**errors, "gallery": noise_gallery.content_hash},
            "joints_net_sha256": joints_card.sha256,
        },
        notes=f"keypoint net ({args.keypoint_epochs} epochs on {len(landmarks)} train renders, from "
        f"image_net's trunk{', with the depth head' if depth else ''}) + keypoint lifter "
        f"({args.lifter_epochs} epochs, noise x {NOISE_SCALE}, "
        f"{SWAP_SHARE:.0%} left/right swaps) into joints_net's space; seed {args.seed}"
        + (f"; grey share {args.grey_share}" if args.grey_share > 0 else ""),
    )
    save_model(out / READER_STEM, reader, card)
    (out / "training" / STATE_FILE).unlink(missing_ok=True)
    return losses
