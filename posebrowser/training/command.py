"""``posebrowser train image|posebit|masks|all`` — gallery → trained models in ``--out``.

``all`` runs image net → embed the train split → posebit net → masks (→ the image net's mirrored view with
``--mirror-view``; ``train mirror-view`` runs that step alone; ``train keypoints`` trains the keypoint
reader, a third reader of each image, from ``<out>/image_net``'s trunk and ``<out>/joints_net``'s space;
``train fusion`` fits the fused image model of ``<out>/image_net``, ``<out>/joints_net`` and the readers
``--fusion-readers`` names). Outputs (``--out``, default
``models/``): ``image_net``, ``posebit_net`` (``.safetensors`` + ``.json`` model cards), ``masks.safetensors``
+ ``masks.json``; resumable states and loss-curve PNGs go to ``<out>/training/``. ``--tiny`` is a preset for
tests and smoke runs (≤ 48 train images, 1 epoch, a narrow one-block-per-stage compact net at 64 px).

The defaults plus ``--aux-trunk-joints-3d 5`` are the recipe of the shipped models (8 epochs on the
30,000-image training set): EfficientNet-Lite0 from ImageNet weights reading the 128 px renders
upsampled to 160 px (``--input-size``) with its stem and first three stages frozen,
batch-all triplets on the facing-aligned 3-D ground truth, a linear head reading the body-frame 3-D
joints off the pooled trunk features (weight 5, training only), auxiliary posebit (weight 10) and
2-D-pose (2) heads on the embedding (its 3-D-joint head, ``--aux-joints-3d``, is off: removing it won on
the validation data); ranking-loss posebit net.
The thesis' recipe is ``--net thesis_vggs --metric hamming --miner thin-slicing --aux-posebits 0
--aux-joints-2d 0 --optimizer sgd --posebit-loss cosine``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from posebrowser.core.locations import DEFAULT_READERS
from posebrowser.errors import DataError, PosebrowserError
from posebrowser.training.train_split import TINY_IMAGES, TrainData, decode_rows, load_train_split

TINY_NET_CONFIG: dict[str, Any] = {"width": 0.125, "blocks": [1, 1, 1, 1], "embedding_dim": 128}
TINY_INPUT_SIZE = 64
VAL_IMAGES = 1000
EMBED_BATCH = 128
#: Where ``--finetune-gallery`` keeps the base image net and its training state, under ``--out``.
BASE_DIR = Path("training") / "base"
POSEBIT_NET_CONFIG: dict[str, Any] = {"hidden": 1024, "hidden2": 512, "embedding_dim": 128, "dropout": 0.1}


def load_validation(
    args: argparse.Namespace, data: TrainData
) -> tuple[NDArray[np.uint8], NDArray[np.float32]] | None:
    """Decoded val-split images (≤ VAL_IMAGES) and their ground-truth distances; None without a val split."""
    from posebrowser.data.loading import open_gallery
    from posebrowser.pose.similarity import pairwise_distances

    gallery = open_gallery(args.val_gallery) if getattr(args, "val_gallery", None) else data.gallery
    rows = gallery.split_indices("val")[: TINY_IMAGES // 2 if args.tiny else VAL_IMAGES]
    if len(rows) < 8:
        return None
    images = decode_rows(gallery, rows, data.images.shape[1:], not args.quiet, "val")
    return images, pairwise_distances(args.metric, gallery, rows, rows).astype(np.float32)


def posebit_version(gallery: Any) -> str | None:
    """The vocabulary version the gallery's posebits belong to (manifest, else the default if names match)."""
    from posebrowser.pose.posebits import get_vocabulary

    version = gallery.manifest.get("posebit_version") if isinstance(gallery.manifest, dict) else None
    vocabulary = get_vocabulary()
    if version is None and tuple(gallery.posebit_names) == tuple(vocabulary.names):
        version = vocabulary.version
    return str(version) if version is not None else None


def run_image(args: argparse.Namespace, data: TrainData | None = None) -> tuple[Any, Any]:
    """Train and save the image net; returns (net in eval mode, preprocessing).

    With ``--finetune-gallery`` the net trained on ``--gallery`` is kept as ``<out>/training/base/`` (its
    own resumable state there) and then fine-tuned on the other gallery's train split
    (``--finetune-epochs``, ``--finetune-lr``, heads probed first); the fine-tuned net is the one saved as
    ``<out>/image_net``. Both stages resume.
    """
    if args.finetune_gallery is None:
        return _train_image_net(args, data)
    from posebrowser.data.loading import builtin_gallery_path

    base_out = Path(args.out) / BASE_DIR
    _train_image_net(argparse.Namespace(**{**vars(args), "out": str(base_out)}), data)
    tuned = {
        "gallery": args.finetune_gallery,
        "val_gallery": args.val_gallery or args.gallery or str(builtin_gallery_path()),
        "init_from": str(base_out / "image_net"),
        "input_size": None,
        "epochs": args.finetune_epochs,
        "lr": args.finetune_lr,
    }
    return _train_image_net(argparse.Namespace(**{**vars(args), **tuned}))


def _train_image_net(args: argparse.Namespace, data: TrainData | None = None) -> tuple[Any, Any]:
    """One image-net training run into ``args.out``: a new net, or the ``--init-from`` net fine-tuned."""
    from posebrowser.nets.checkpoint import ModelCard, save_model
    from posebrowser.pose.similarity import pairwise_distances
    from posebrowser.training.augment import AugmentConfig
    from posebrowser.training.aux_heads import trunk_dim
    from posebrowser.training.image_trainer import ImageTrainConfig, train_image_net

    initial = _initial_net(args) if args.init_from is not None else None  # a bad one fails before loading
    data = data or load_train_split(args.gallery, args.tiny, not args.quiet, args.max_train_images)
    if not data.gallery.has_ground_truth(args.metric):
        raise DataError(
            f"The gallery has no annotations for the {args.metric!r} metric.", path=data.gallery.root
        )
    distances = pairwise_distances(args.metric, data.gallery, data.rows, data.rows).astype(np.float32)
    net, net_config, preprocessing, init_note = initial or _new_net(args)
    if args.aux_trunk_joints_3d > 0 and trunk_dim(net) is None:
        raise DataError(
            f"--aux-trunk-joints-3d reads the features entering a Linear 'embedding' layer; "
            f"{type(net).__name__} has none (use efficientnet_lite0 or compact_resnet)."
        )
    if args.aux_landmarks > 0 and args.net != "efficientnet_lite0":
        raise DataError(f"--aux-landmarks reads the EfficientNet-Lite0 trunk's maps; {args.net} has none.")
    config = ImageTrainConfig(
        metric=args.metric,
        miner=args.miner,
        loss=args.loss,
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        lr=args.lr,
        schedule=args.schedule,
        amp=args.amp,
        device=args.device,
        seed=args.seed,
        trunk_lr_factor=0.1 if args.optimizer == "sgd" else 1.0,
        uniformity=args.uniformity,
        log_ratio=args.log_ratio,
        near_share=args.near_share,
        pos_rank_max=args.pos_rank_max,
        memory_size=args.memory_size,
        memory_weight=args.memory_weight,
        memory_start=args.memory_start,
        aux_posebits=args.aux_posebits,
        aux_joints_3d=args.aux_joints_3d,
        aux_joints_2d=args.aux_joints_2d,
        aux_trunk_joints_3d=args.aux_trunk_joints_3d,
        aux_teacher=args.aux_teacher,
        aux_landmarks=args.aux_landmarks,
        n_neg=20 if args.tiny else 105,
        probe_heads=initial is not None,
        augment_config=AugmentConfig(grey_probability=args.grey_share),
    )
    work = Path(args.out) / "training"
    result = train_image_net(
        net,
        data.images,
        distances,
        preprocessing,
        config,
        work,
        resume=args.resume,
        show_bar=not args.quiet,
        validation=load_validation(args, data),
        posebits=None if data.gallery.posebits is None else np.asarray(data.gallery.posebits[data.rows]),
        posebit_names=tuple(data.gallery.posebit_names),
        joints_3d=_rows_of(data.gallery.joints_3d, data.rows),
        joints_2d=_rows_of(data.gallery.joints_2d, data.rows),
        teacher=_teacher(args, data),
    )
    card = ModelCard(
        net=args.net,
        config=net_config,
        kind="image",
        preprocessing=preprocessing.to_dict(),
        embedding_dim=int(net_config.get("embedding_dim", 128)),
        posebit_version=posebit_version(data.gallery),
        training_data_hash=data.gallery.content_hash,
        metrics={
            "train_loss": result.history.train,
            "val_loss": result.history.val,
            "train_images": len(data.rows),
            "train_images_per_second": round(result.images_per_second, 1),
        },
        notes=f"metric={args.metric} miner={args.miner} loss={args.loss} optimizer={args.optimizer} "
        f"epochs={args.epochs} seed={args.seed} uniformity={args.uniformity} log_ratio={args.log_ratio} "
        f"near_share={args.near_share} pos_rank_max={args.pos_rank_max} memory_size={args.memory_size} "
        f"memory_weight={args.memory_weight} memory_start={args.memory_start} "
        f"aux_posebits={args.aux_posebits} aux_joints_3d={args.aux_joints_3d} "
        f"aux_joints_2d={args.aux_joints_2d} neck={net_config.get('neck', False)} "
        f"{_trunk_note(args)}{_grey_note(args)}{init_note} device={args.device}",
    )
    save_model(Path(args.out) / "image_net", net.cpu().eval(), card)
    _report(args, "image_net", result.history.train)
    return net, preprocessing


def _grey_note(args: argparse.Namespace) -> str:
    """`` grey_share=P`` for a card whose net saw grey training images (nothing for a share of 0)."""
    return f" grey_share={args.grey_share}" if args.grey_share > 0 else ""


def _teacher(args: argparse.Namespace, data: TrainData) -> Any:
    """The teacher's targets for ``--aux-teacher`` (None when off)."""
    if args.aux_teacher <= 0:
        return None
    if data.gallery.joints_3d is None:
        raise DataError("--aux-teacher needs the gallery's 3-D joints.", path=data.gallery.root)
    import torch

    from posebrowser.core.device import resolve_device
    from posebrowser.training.teacher import TeacherTargets

    device = torch.device(resolve_device(args.device).name)
    return TeacherTargets.from_joints(data.gallery.joints_3d[data.rows], args.teacher_model, device)


def _trunk_note(args: argparse.Namespace) -> str:
    """The card notes of the optional training heads: the trunk-level 3-D joint head, the teacher and the
    landmark head (empty when off, so older cards read the same)."""
    note = f"aux_trunk_joints_3d={args.aux_trunk_joints_3d} " if args.aux_trunk_joints_3d > 0 else ""
    note += f"aux_teacher={args.aux_teacher} " if args.aux_teacher > 0 else ""
    return note + (f"aux_landmarks={args.aux_landmarks} " if args.aux_landmarks > 0 else "")


def _new_net(args: argparse.Namespace) -> tuple[Any, dict[str, Any], Any, str]:
    """A new image net of ``--net`` (ImageNet-initialised where asked): (net, its config, its preprocessing,
    a note for the card)."""
    from posebrowser.nets.preprocessing import compact_preprocessing
    from posebrowser.nets.registry import build_net, get_spec

    spec = get_spec(args.net)
    net_config = (
        dict(TINY_NET_CONFIG) if args.tiny and args.net == "compact_resnet" else dict(spec.default_config)
    )
    if args.neck is not None and args.net == "compact_resnet":
        net_config["neck"] = args.neck
    pretrained = False
    if args.net == "efficientnet_lite0":
        net_config["frozen_blocks"] = args.frozen_blocks
        if args.spatial_channels > 0:
            net_config["spatial_channels"] = args.spatial_channels
        pretrained = args.pretrained and not args.tiny
    make_preprocessing = spec.preprocessing or compact_preprocessing
    size = TINY_INPUT_SIZE if args.tiny else args.input_size
    if spec.fixed_input_size:  # e.g. the thesis' 112 px crop of the 144 px image: its fc6 is sized for it
        if args.input_size is not None:
            raise DataError(f"{args.net} reads a fixed input size; --input-size cannot change it.")
        size = None
    preprocessing = make_preprocessing() if size is None else make_preprocessing(size)
    options = {"pretrained": pretrained} if args.net == "efficientnet_lite0" else {}
    net = build_net(args.net, **net_config, **options)
    return net, net_config, preprocessing, f"imagenet_init={pretrained}"


def _initial_net(args: argparse.Namespace) -> tuple[Any, dict[str, Any], Any, str]:
    """The image net to fine-tune, loaded from ``--init-from``: (net, its config, its preprocessing, a note).

    The architecture, its config and the preprocessing are the saved model's (a mirrored view is dropped:
    ``train mirror-view`` fits a new one for the fine-tuned net); an ``--net`` or
    ``--input-size`` that contradicts them is a clear error rather than a silent override.
    """
    from posebrowser.nets.checkpoint import load_model
    from posebrowser.nets.preprocessing import Preprocessing

    net, card = load_model(args.init_from, expect_kind="image")
    preprocessing = Preprocessing.from_dict(card.preprocessing)
    if card.net != args.net:
        raise DataError(
            f"--init-from holds a {card.net} net, but --net asks for {args.net}.", path=args.init_from
        )
    if args.input_size is not None and args.input_size != preprocessing.input_size:
        raise DataError(
            f"--init-from was trained at {preprocessing.input_size} px, but --input-size asks for "
            f"{args.input_size}.",
            path=args.init_from,
        )
    from posebrowser.nets.mirror_view import CONFIG_KEY, unwrap

    config = {key: value for key, value in card.config.items() if key != CONFIG_KEY}
    note = f"init_from={card.sha256[:16]}:{card.training_data_hash}"
    return unwrap(net), config, preprocessing, note  # training changes the plain net; refit its view after


def _rows_of(values: Any, rows: NDArray[np.int64]) -> NDArray[np.float32] | None:
    return None if values is None else np.asarray(values[rows], dtype=np.float32)


def _train_embeddings(
    args: argparse.Namespace, data: TrainData, net: Any, preprocessing: Any
) -> NDArray[np.float32]:
    """Eval-mode image embeddings (N, 128) of the train split, computed once per TrainData and reused.

    They go through the app's :class:`Embedder` (fp32, channels_last, NHWC normalisation), so the posebit
    net and the masks learn from the vectors the app computes: 1.6× the rate of a plain NCHW loop at
    160 px on 2 CPU cores (measured; 18,370 images in ~6 min instead of ~10). ``net`` is left in eval
    mode and channels_last memory format (its weights are unchanged).
    """
    from posebrowser.core.command import progress_bar
    from posebrowser.core.embedder import Embedder

    if data.embeddings is None:
        embedder = Embedder(net, preprocessing, args.device, precision="fp32")
        data.embeddings = embedder.embed_images(
            list(data.images),
            batch_size=EMBED_BATCH,
            progress=progress_bar("embed train split", disable=args.quiet),
            strict=True,
        )
    return data.embeddings


def _load_image_net(args: argparse.Namespace) -> tuple[Any, Any]:
    from posebrowser.nets.checkpoint import load_model
    from posebrowser.nets.preprocessing import Preprocessing

    net, card = load_model(Path(args.out) / "image_net", expect_kind="image")
    return net, Preprocessing.from_dict(card.preprocessing)


def _require_posebits(data: TrainData) -> NDArray[np.int8]:
    if data.gallery.posebits is None:
        raise DataError("The gallery has no posebit annotations.", path=data.gallery.root)
    return np.asarray(data.gallery.posebits[data.rows], dtype=np.int8)


def run_posebit(
    args: argparse.Namespace, data: TrainData | None = None, image: tuple[Any, Any] | None = None
) -> None:
    """Train and save the posebit net (or a seed ensemble of them) against the image net's train
    embeddings."""
    from posebrowser.nets.checkpoint import ModelCard, save_model
    from posebrowser.training.posebit_trainer import alignment_score

    data = data or load_train_split(args.gallery, args.tiny, not args.quiet, args.max_train_images)
    bits = _require_posebits(data)
    net_image, preprocessing = image or _load_image_net(args)
    targets = _train_embeddings(args, data, net_image, preprocessing)
    members = getattr(args, "posebit_members", 1)
    epochs = args.posebit_epochs if args.posebit_epochs is not None else (1 if args.tiny else 21)
    net_config = _posebit_net_config(bits, net_image)
    trained = [
        _train_posebit_member(args, bits, targets, net_image, net_config, epochs, member)
        for member in range(members)
    ]
    first = trained[0]
    net, name = first.net, "posebit_mlp"
    if members > 1:
        net, name = _posebit_ensemble(net_config, [member.net for member in trained]), "posebit_ensemble"
        net_config = {**net_config, "members": members}
    losses = first.losses
    card = ModelCard(
        net=name,
        config=net_config,
        kind="posebit",
        embedding_dim=128,
        posebit_version=posebit_version(data.gallery),
        posebit_names=list(data.gallery.posebit_names),
        training_data_hash=data.gallery.content_hash,
        metrics={
            "train_loss": losses,
            "member_final_train_loss": [member.losses[-1] for member in trained if member.losses],
            "train_alignment": round(alignment_score(net, bits, targets), 4),
        },
        notes=f"loss={args.posebit_loss} epochs={epochs} seeds={args.seed}..{args.seed + members - 1} "
        f"members={members} head_from_image_net={first.head_from_image_net}; unknown bits are fed as 0.5",
    )
    save_model(Path(args.out) / "posebit_net", net.cpu().eval(), card)
    _report(args, "posebit_net", losses)


@dataclass
class _PosebitMember:
    """One trained posebit net with its loss per epoch and whether its head came from the image net (the
    thesis' fc6/fc7)."""

    net: Any
    losses: list[float]
    head_from_image_net: bool


def _train_posebit_member(
    args: argparse.Namespace,
    bits: NDArray[np.int8],
    targets: NDArray[np.float32],
    net_image: Any,
    net_config: dict[str, Any],
    epochs: int,
    member: int,
) -> _PosebitMember:
    """One posebit net, seed ``args.seed + member``; member 0 checkpoints into ``<out>/training``, the
    others into ``<out>/training/posebit-member-<i>`` (each resumable)."""
    from posebrowser.nets.registry import build_net
    from posebrowser.training.loop import seed_everything
    from posebrowser.training.posebit_trainer import (
        PosebitTrainConfig,
        init_from_image_head,
        train_posebit_net,
    )

    seed_everything(args.seed + member)  # the initial weights too, not only the training, follow the seed
    net = build_net("posebit_mlp", **net_config)
    initialised = init_from_image_head(net, net_image)
    config = PosebitTrainConfig(
        loss=args.posebit_loss, epochs=epochs, device=args.device, seed=args.seed + member
    )
    work_dir = Path(args.out) / "training"
    if member:
        work_dir = work_dir / f"posebit-member-{member}"
    result = train_posebit_net(
        net, bits, targets, config, work_dir, resume=args.resume, show_bar=not args.quiet
    )
    return _PosebitMember(net.cpu().eval(), result.history.train, initialised)


def _posebit_net_config(bits: NDArray[np.int8], net_image: Any) -> dict[str, Any]:
    """The posebit MLP's shape: the shipped one, or the thesis image net's fc6/fc7 shape (its head is
    copied in and frozen)."""
    import torch

    net_config: dict[str, Any] = {"num_bits": bits.shape[1], **POSEBIT_NET_CONFIG}
    fc6 = getattr(net_image, "fc6", None)
    if isinstance(fc6, torch.nn.Linear):  # thesis image net: posebit fc2/fc3 = image fc6/fc7, frozen
        net_config.update(hidden=fc6.in_features, hidden2=fc6.out_features, dropout=0.5)
    return net_config


def _posebit_ensemble(net_config: dict[str, Any], members: list[Any]) -> Any:
    """The members' weights packed into one ``posebit_ensemble`` module."""
    from posebrowser.nets.registry import build_net

    ensemble = build_net("posebit_ensemble", members=len(members), **net_config)
    for index, member in enumerate(members):
        ensemble.get_submodule(f"members.{index}").load_state_dict(member.state_dict())
    return ensemble


def run_masks(
    args: argparse.Namespace, data: TrainData | None = None, image: tuple[Any, Any] | None = None
) -> None:
    """Train every eligible single-bit mask on the image net's train embeddings; write masks.*."""
    from posebrowser.training.mask_trainer import MaskTrainConfig, save_masks, train_masks

    margin = getattr(args, "mask_margin", None)
    if margin is not None and not margin > 0:  # checked before any image is decoded
        raise DataError(f"--mask-margin must be above 0 (got {margin}).")
    data = data or load_train_split(args.gallery, args.tiny, not args.quiet, args.max_train_images)
    bits = _require_posebits(data)
    net_image, preprocessing = image or _load_image_net(args)
    embeddings = _train_embeddings(args, data, net_image, preprocessing)
    config = MaskTrainConfig(
        seed=args.seed,
        min_count=8 if args.tiny else 55,
        n_pos=8 if args.tiny else 55,
        n_neg=8 if args.tiny else 56,
    )
    if margin is not None:
        config.margin = margin
    result = train_masks(embeddings, bits, tuple(data.gallery.posebit_names), config)
    save_masks(
        Path(args.out) / "masks",
        result,
        config,
        posebit_version=posebit_version(data.gallery),
        training_data_hash=data.gallery.content_hash,
    )
    _report(args, "masks", [float(np.mean([s.final_loss for s in result.stats]))] if result.stats else [])


def run_all(args: argparse.Namespace) -> None:
    data = load_train_split(args.gallery, args.tiny, not args.quiet, args.max_train_images)
    image = run_image(args, data)
    run_posebit(args, data, image)
    run_masks(args, data, image)
    if args.mirror_view:
        _run_mirror_view(args, data, image)


def _run_mirror_view(
    args: argparse.Namespace, data: TrainData | None = None, image: tuple[Any, Any] | None = None
) -> None:
    from posebrowser.training.mirror_fit import run_mirror_view

    run_mirror_view(args, data, image)
    _report(args, "image_net (mirror view)", [])


def _run_fusion(args: argparse.Namespace) -> None:
    from posebrowser.training.fusion_fit import run_fusion

    run_fusion(args)
    _report(args, "fused_net (image_net + pose estimator)", [])


def _run_keypoints(args: argparse.Namespace) -> None:
    from posebrowser.training.keypoint_trainer import run_keypoints

    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    if args.tiny:
        args.keypoint_epochs = args.lifter_epochs = 1
    _report(args, "keypoint_reader (keypoint net + lifter)", run_keypoints(args, log))


def _report(args: argparse.Namespace, what: str, losses: list[float]) -> None:
    if args.json:
        print(json.dumps({"model": what, "out": str(args.out), "train_loss": losses}))
    elif not args.quiet:
        tail = f"{losses[-1]:.4f}" if losses else "n/a"
        print(f"{what}: saved to {args.out} (final train loss {tail})", file=sys.stderr)


def _run(args: argparse.Namespace) -> int:
    handlers: dict[str, Callable[[argparse.Namespace], object]] = {
        "image": run_image,
        "posebit": run_posebit,
        "masks": run_masks,
        "mirror-view": _run_mirror_view,
        "fusion": _run_fusion,
        "keypoints": _run_keypoints,
        "all": run_all,
    }
    try:
        if not args.quiet:
            from posebrowser.core.device import resolve_device

            print(f"training device: {resolve_device(args.device).reason}", file=sys.stderr)
        handlers[args.what](args)
    except PosebrowserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _finite_non_negative(text: str) -> float:
    """argparse type of learning rates and loss weights: a finite number ≥ 0 (0 keeps the weights or turns
    the term off; anything else is refused at parse time, before a NaN could reach training)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number of at least 0, not {text!r}")
    return value


def _unit_interval(text: str) -> float:
    """argparse type: a number in [0, 1]."""
    value = _finite_non_negative(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"must lie between 0 and 1, not {text!r}")
    return value


def _fusion_reader(text: str) -> tuple[str, float]:
    """argparse type: ``STEM=WEIGHT``, a joints model's stem in the models folder and its share in [0, 1]."""
    stem, _, weight = text.partition("=")
    if not stem or not weight or "/" in stem:
        raise argparse.ArgumentTypeError(f"expected STEM=WEIGHT (e.g. joints_net=0.2), not {text!r}")
    return stem, _unit_interval(weight)


def _positive_int(text: str) -> int:
    """argparse type: an integer ≥ 1 (refused at parse time, before any training)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``train`` sub-command."""
    parser = subparsers.add_parser("train", help="train the image net, posebit net and masks on a gallery")
    parser.add_argument(
        "what", choices=("image", "posebit", "masks", "mirror-view", "keypoints", "fusion", "all")
    )
    parser.add_argument("--gallery", default=None, help="gallery folder (default: the built-in gallery)")
    parser.add_argument("--out", default="models", help="output folder for models (default: models/)")
    parser.add_argument(
        "--epochs", type=int, default=None, help="image-net epochs (default 8; 1 with --tiny)"
    )
    parser.add_argument(
        "--metric",
        default="3d",
        choices=("2d", "3d", "procrustes", "hamming"),
        help="ground-truth pose distance of the triplets (default 3d: facing-aligned 3-D joints; the thesis "
        "used hamming)",
    )
    parser.add_argument(
        "--miner",
        default="batch-all",
        choices=("thin-slicing", "batch-hard", "batch-all", "distance-weighted"),
    )
    parser.add_argument(
        "--loss",
        default="triplet",
        choices=("triplet", "contrastive", "log-ratio"),
        help="metric loss (default triplet; log-ratio: Kim et al. 2019, graded by the ground-truth distance)",
    )
    parser.add_argument(
        "--near-share",
        type=float,
        default=0.0,
        help="share of each batch's anchor groups drawn from another anchor's nearest 5 %% (harder "
        "negatives; default 0)",
    )
    parser.add_argument(
        "--pos-rank-max",
        type=int,
        default=30,
        help="an item's positives are its N nearest training poses (the thesis' 30; at most 1/8 of the "
        "split)",
    )
    parser.add_argument(
        "--memory-size",
        type=int,
        default=0,
        help="cross-batch memory: rank each anchor also against the last N training images' embeddings "
        "(per mirror state; default 0 = off)",
    )
    parser.add_argument(
        "--memory-weight",
        type=_finite_non_negative,
        default=1.0,
        help="weight of the cross-batch memory loss (default 1)",
    )
    parser.add_argument(
        "--memory-start",
        type=int,
        default=0,
        help="batches of warm-up before the cross-batch memory loss starts (default 0)",
    )
    parser.add_argument(
        "--log-ratio",
        type=_finite_non_negative,
        default=0.0,
        help="weight of the log-ratio loss added to the triplet / contrastive loss (default 0 = off)",
    )
    parser.add_argument(
        "--uniformity",
        type=_finite_non_negative,
        default=0.0,
        help="weight of the uniformity regulariser (default 0)",
    )
    parser.add_argument(
        "--aux-posebits",
        type=_finite_non_negative,
        default=10.0,
        help="weight of the auxiliary posebit-classification loss on the embedding (default 10; 0 = off)",
    )
    parser.add_argument(
        "--neck",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="BatchNorm on the embedding before the L2 norm (compact_resnet; default: the registry's)",
    )
    parser.add_argument(
        "--max-train-images", type=int, default=None, help="use only the first N train images (ablations)"
    )
    parser.add_argument(
        "--val-gallery",
        default=None,
        help="gallery whose val split gives the per-epoch validation loss (default: --gallery)",
    )
    parser.add_argument(
        "--net",
        default="efficientnet_lite0",
        help="image architecture (nets registry name; default efficientnet_lite0)",
    )
    parser.add_argument(
        "--pretrained",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="start efficientnet_lite0 from ImageNet weights (default on)",
    )
    parser.add_argument(
        "--input-size",
        type=int,
        default=None,
        help="side of the square network input in pixels (default: the net's own; efficientnet_lite0 160, "
        "the 128 px renders upsampled; the others 112)",
    )
    parser.add_argument(
        "--init-from",
        default=None,
        help="fine-tune: start from this saved image model (e.g. models/image_net) instead of a new net; "
        "its architecture, config and input size are kept",
    )
    parser.add_argument(
        "--finetune-gallery",
        default=None,
        help="after training on --gallery, fine-tune the image net on this gallery's train split (the "
        "first net kept in <out>/training/base/; posebit net and masks still train on --gallery; the "
        "fine-tune's validation loss comes from --val-gallery, else --gallery, as the first net's)",
    )
    parser.add_argument(
        "--finetune-epochs", type=_positive_int, default=3, help="epochs of the fine-tune (default 3)"
    )
    parser.add_argument(
        "--finetune-lr",
        type=_finite_non_negative,
        default=3e-4,
        help="base lr of the fine-tune (default 3e-4, cosine)",
    )
    parser.add_argument(
        "--frozen-blocks",
        type=int,
        default=3,
        help="efficientnet_lite0: keep the stem and this many early stages frozen (default 3)",
    )
    parser.add_argument(
        "--spatial-channels",
        type=int,
        default=0,
        help="efficientnet_lite0: a spatial head (1×1 conv to this many channels on a 4×4 grid, flattened) "
        "instead of the global pool (default 0 = global pool)",
    )
    parser.add_argument(
        "--aux-joints-3d",
        type=_finite_non_negative,
        default=0.0,
        help="weight of the auxiliary body-frame 3D-joint regression on the embedding (default 0 = off; "
        "the previous recipe used 5)",
    )
    parser.add_argument(
        "--aux-joints-2d",
        type=_finite_non_negative,
        default=2.0,
        help="weight of the auxiliary image-plane pose-shape regression (default 2; 0 = off)",
    )
    parser.add_argument(
        "--aux-trunk-joints-3d",
        type=_finite_non_negative,
        default=0.0,
        help="weight of a 3-D joint regression on the pooled trunk features instead of the embedding "
        "(default 0 = off)",
    )
    parser.add_argument(
        "--grey-share",
        type=_unit_interval,
        default=0.0,
        help="share of training images turned grey (saturation 0) in the colour jitter of the image net "
        "and the keypoint net (default 0; the shipped models were trained with 0.1)",
    )
    parser.add_argument("--optimizer", default="adamw", choices=("adamw", "sgd"))
    parser.add_argument(
        "--lr", type=_finite_non_negative, default=None, help="base lr (default 1e-3 adamw, 1e-2 sgd)"
    )
    parser.add_argument(
        "--schedule",
        default=None,
        choices=("cosine", "step"),
        help="lr schedule (default cosine for adamw, thesis ×0.2 step for sgd)",
    )
    parser.add_argument(
        "--batch-size", type=int, default=64, help="batch size of the non-thin-slicing miners"
    )
    parser.add_argument("--amp", action="store_true", help="bf16 autocast (CPU or CUDA)")
    parser.add_argument(
        "--posebit-loss",
        default="ranking",
        choices=("cosine", "ranking"),
        help="ranking: bidirectional ranking + structure (default); cosine: the thesis' alignment",
    )
    parser.add_argument("--posebit-epochs", type=int, default=None)
    parser.add_argument(
        "--posebit-members",
        type=_positive_int,
        default=4,
        help="posebit nets trained with seeds seed, seed+1, …, shipped as one ensemble (the normalised "
        "mean of their outputs; default 4, chosen on the val halves; 1 = a single net, as the thesis)",
    )
    parser.add_argument(
        "--mask-margin",
        type=float,
        default=None,
        help="triplet margin of the single-bit masks (default: the shipped masks' 0.1; the thesis used 0.2)",
    )
    parser.add_argument(
        "--aux-teacher",
        type=_finite_non_negative,
        default=0.0,
        help="weight of a pull of the embedding towards the joints net's embedding of each image's true "
        "3-D pose (1 − cosine; default 0 = off; a screen, not the shipped recipe)",
    )
    parser.add_argument(
        "--aux-landmarks",
        type=_finite_non_negative,
        default=0.0,
        help="weight of a landmark head: the keypoint reader's decoder on the trunk's stride-8 and "
        "stride-16 maps, L1 in pixels to the exact 2-D landmarks (training only; default 0 = off; a screen, "
        "not the shipped recipe; efficientnet_lite0 only)",
    )
    parser.add_argument(
        "--teacher-model",
        default="models/joints_net",
        help="the joints-net checkpoint that gives --aux-teacher's targets (default models/joints_net)",
    )
    parser.add_argument(
        "--mirror-view",
        action="store_true",
        help="all: give the image net a mirrored second view at the end (flip test-time augmentation; "
        "its map fitted on 2,000 train images; twice the embedding time; the shipped recipe). "
        "'train mirror-view' does this step alone on <out>/image_net",
    )
    parser.add_argument(
        "--fusion-readers",
        type=_fusion_reader,
        nargs="+",
        default=list(DEFAULT_READERS),
        metavar="STEM=WEIGHT",
        help="fusion: the joints models that read the pose estimator's estimate and each one's share in "
        "the fused image model (default "
        + " ".join(f"{stem}={weight}" for stem, weight in DEFAULT_READERS)
        + ", chosen on the validation halves); 'train fusion' fits <out>/fused_net from <out>/image_net "
        "and these models in <out>",
    )
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--noise-gallery",
        default=None,
        help="keypoints: gallery whose train renders give the keypoint net's landmark errors for the lifter "
        "(default: the built-in gallery)",
    )
    parser.add_argument(
        "--keypoint-epochs", type=_positive_int, default=4, help="keypoints: keypoint-net epochs (4)"
    )
    parser.add_argument(
        "--lifter-epochs", type=_positive_int, default=30, help="keypoints: keypoint-lifter epochs (30)"
    )
    parser.add_argument(
        "--keypoint-depth",
        action="store_true",
        help="keypoints: the keypoint net also reads each joint's depth (a depth head trained on the "
        "renders' exact depths) and the lifter lifts landmarks and depths",
    )
    parser.add_argument("--resume", action="store_true", help="continue from <out>/training/*_state.pt")
    parser.add_argument("--tiny", action="store_true", help="tiny preset for tests (few images, 1 epoch)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--json", action="store_true", help="print one JSON line per saved model")
    parser.set_defaults(func=run_train)


def run_train(args: argparse.Namespace) -> int:
    """Entry point of ``posebrowser train``: fills preset defaults, then trains."""
    if args.epochs is None:
        args.epochs = 1 if args.tiny else 8
    if args.lr is None:
        args.lr = 1e-2 if args.optimizer == "sgd" else 1e-3
    if args.schedule is None:
        args.schedule = "step" if args.optimizer == "sgd" else "cosine"
    return _run(args)
