"""Screen the keypoint reader's depth head (validation data only; never the test split).

The keypoint reader lifts the keypoint net's 2-D landmarks into the joints net's space; from 2-D alone a
limb pointing at the camera and one pointing away look the same, and the lifter can only guess. With the
**depth head** (``KeypointNet(depth_head=True)``, :mod:`posebrowser.nets.keypoint_reader`) each landmark
also gets its depth relative to the pelvis, ``f · (Z_j − Z_pelvis) / Z_pelvis`` in the landmarks'
normalised image units (exact targets from the renders' cameras:
:func:`posebrowser.training.keypoint_trainer.camera_depths`), and the lifter takes 48 inputs (the 32
landmark features and the 16 depths over the same RMS radius). Trained like the shipped lifter (exact 2-D
projections and depths of the training and fine-tune sets' train splits, the net's fitted residuals ×
0.5, ``--swap`` left/right confusions: the product's lifter trainer) to land on the joints net's row of
each item's true pose, it is fused in the lifter's place:
``normalise((1 − a − b)·cnn + (a·joints + b·lifter)·R)``.

    python tools/depth_reader_screen.py bound [--epochs 15]          # exact 2-D vs exact 2-D + depth
    python tools/depth_reader_screen.py net --net-epochs 4 --save-net build/depth-net.pt
    python tools/depth_reader_screen.py lift --load-net build/depth-net.pt --sets builtin steep cs12
    python tools/depth_reader_screen.py score --reader DIR/keypoint_reader --sets builtin steep cs12

``bound`` trains noise-free lifters on exact inputs and scores them on the exact inputs of the val images:
the most a perfect 2-D / 2.5-D reading could give. ``net`` fine-tunes the shipped keypoint reader's
keypoint net (``models/keypoint_reader``, with a fresh depth head where it has none: the rows in
``models/README.md`` were made from the landmark-only reader shipped before) on the training and fine-tune
sets' train renders (the product's keypoint-net trainer: L1 in pixels on landmarks and depths, its
augmentation, AdamW 1e-3 one-cycle; ``--frozen-stages`` trunk stages after the stem frozen, the
product's 3 by default; ``--grey-share`` as the product's option) and prints its errors on the built-in
val renders. ``lift`` trains
lifters on that net's fitted residuals (``--inputs 32``: the landmarks alone, the control; ``48``: with
depths) and scores the fusion grid.
``score`` scores a saved keypoint reader (e.g. one ``posebrowser train keypoints --keypoint-depth`` made),
its own lifter on its own reading, the same way.
``real`` trains lifters for the shipped keypoint net (``--reader``) on **its own readings** of the
training and fine-tune sets' train renders (read once, kept in ``build/``) instead of, or beside, the
exact inputs with fitted errors: ``--pools exact`` is the product's recipe (the control), ``real`` the
readings alone (no added errors), ``both`` the two pools together (the exact rows with the fitted errors
and the swaps, the readings as read; ``--epochs`` counts passes over both).

    python tools/depth_reader_screen.py real --pools exact real both --sets builtin steep cs12

``--stride4`` gives the net of ``net`` and ``lift`` the stride-4 refinement of its heat maps (a fresh one
on the shipped net; ``KeypointNet(stride4=True)``).

``mix`` scores a saved reader's own lifter four ways: on its reading, and with the landmarks, the depths
or both replaced by the renders' exact ones (which of the two readings costs the figures more).

    python tools/depth_reader_screen.py mix --grid 0.2,0.2 --sets builtin steep cs12
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch
from keypoint_lifter_screen import ROOT, TRAINING_SETS, print_scores, set_rows  # a sibling script

from posebrowser.nets.keypoint_reader import KeypointLifter, KeypointReader, landmark_features
from posebrowser.training.keypoint_trainer import (
    FROZEN_STAGES,
    camera_depths,
    load_rgb,
    normalised,
    read_keypoints,
    train_keypoint_net,
)
from posebrowser.training.keypoint_trainer import train_lifter as fit_lifter

FEATURES = 48


def training_items() -> list[tuple[Any, np.ndarray]]:
    from posebrowser.data.loading import open_gallery

    galleries = [open_gallery(str(ROOT / name)) for name in TRAINING_SETS]
    return [(gallery, gallery.split_indices("train")) for gallery in galleries]


def exact_features(gallery: Any, rows: np.ndarray) -> np.ndarray:
    """``(N, 48)`` features of the rows' exact landmarks and depths."""
    side = gallery.load_image(int(rows[0])).size[0]
    return landmark_features(normalised(gallery.joints_2d[rows], side), camera_depths(gallery, rows, side))


def exact_pairs(joints_embedder: Any) -> tuple[np.ndarray, np.ndarray]:
    xs, targets = [], []
    for gallery, rows in training_items():
        xs.append(exact_features(gallery, rows))
        targets.append(joints_embedder.embed_joints(gallery.joints_3d[rows]))
    return np.concatenate(xs), np.concatenate(targets)


def train_lifter(x: np.ndarray, target: np.ndarray, noise: tuple[np.ndarray, np.ndarray] | None,
                 args: argparse.Namespace, inputs: int,
                 augmented: np.ndarray | None = None) -> KeypointLifter:
    """A lifter of the first ``inputs`` features (32: landmarks; 48: with depths), trained by the product's
    lifter trainer; ``noise``: the fitted residuals' (mean, covariance), with ``--swap`` confusions (None:
    exact inputs, no noise and no swaps); ``augmented``: the rows that take them (default all)."""
    holder = SimpleNamespace(lifter=KeypointLifter(inputs=inputs))
    settings = argparse.Namespace(seed=args.seed, lifter_epochs=args.epochs)
    began = time.perf_counter()

    def log(message: str) -> None:
        print(f"{message} ({inputs} inputs, {time.perf_counter() - began:.0f} s)", flush=True)

    fit_lifter(holder, x[:, :inputs], target, noise, settings, log, args.swap if noise is not None else 0.0,
               augmented)
    lifter: KeypointLifter = holder.lifter
    return lifter


def score(name: str, features_of: Any, lifter: KeypointLifter, inputs: int, joints_embedder: Any,
          rotation: Any, grid: list[tuple[float, float]]) -> None:
    """Score the fusion grid on a set's val halves with ``lifter`` of ``features_of(gallery, rows)``."""
    from posebrowser.estimate.estimator import PoseEstimator

    def blank(x: torch.Tensor) -> torch.Tensor:
        return torch.zeros(len(x), 128)

    data = set_rows(name, PoseEstimator(), joints_embedder, blank, None, clean=True)
    with torch.inference_mode():
        features = features_of(data["gallery"], data["rows"])[:, :inputs]
        data["lifted"] = lifter(torch.from_numpy(features)).numpy()
    print_scores(name, data, rotation, grid)


def depth_reader(path: Path | None, stride4: bool = False) -> KeypointReader:
    """A reader whose keypoint net is the shipped one with its depth head (a fresh one when the shipped
    reader reads landmarks only), or the net ``path`` holds (a state dict that ``net`` saved); its lifter
    is not used."""
    from posebrowser.nets.checkpoint import load_model

    shipped, _ = load_model(ROOT / "models" / "keypoint_reader", expect_kind="image")
    reader = KeypointReader(depth_head=True, stride4=stride4)
    if path is not None:
        reader.keypoints.load_state_dict(torch.load(path, weights_only=True))
    else:
        missing = reader.keypoints.load_state_dict(shipped.keypoints.state_dict(), strict=False).missing_keys
        assert all(key.startswith(("depth.", "refine.")) for key in missing), missing
    return reader.eval()


def train_net(args: argparse.Namespace) -> None:
    """Fine-tune the shipped keypoint net with the depth head by the product's keypoint-net trainer (its
    augmentation, loss, AdamW 1e-3 one-cycle, batch 64), then print its errors on the built-in val renders."""
    import tempfile

    items = training_items()
    images = np.concatenate([load_rgb(gallery, rows) for gallery, rows in items])
    side = images.shape[1]
    landmarks = np.concatenate([normalised(gallery.joints_2d[rows], side) for gallery, rows in items])
    depths = np.concatenate([camera_depths(gallery, rows, side) for gallery, rows in items])
    typical = np.median(np.abs(depths)) * side / 2
    print(f"{len(images)} training renders; exact |depth| median {typical:.2f} px", flush=True)
    reader = depth_reader(None, args.stride4)
    with tempfile.TemporaryDirectory() as scratch:  # the trainer's per-epoch state, not kept
        settings = argparse.Namespace(keypoint_epochs=args.net_epochs, batch_size=64, seed=args.seed,
                                      out=scratch, resume=False, train_device="cpu",
                                      frozen_stages=args.frozen_stages, grey_share=args.grey_share)
        train_keypoint_net(reader, images, landmarks, settings, lambda line: print(line, flush=True), depths)
    torch.save(reader.keypoints.state_dict(), args.save_net)
    val_errors(depth_reader(args.save_net, args.stride4))


def val_errors(reader: KeypointReader) -> None:
    from posebrowser.data.loading import open_gallery

    gallery = open_gallery(None)
    rows = gallery.split_indices("val")
    points, depths = read_keypoints(reader, load_rgb(gallery, rows))
    assert depths is not None
    truth, exact = normalised(gallery.joints_2d[rows], 128), camera_depths(gallery, rows, 128)
    point_error = np.linalg.norm(points - truth, axis=-1) * 64
    depth_error = np.abs(depths - exact) * 64
    print(f"built-in val renders ({len(rows)}): landmarks median {np.median(point_error):.2f} px mean "
          f"{point_error.mean():.2f} px; depth median {np.median(depth_error):.2f} px mean "
          f"{depth_error.mean():.2f} px (exact |depth| median {np.median(np.abs(exact)) * 64:.2f} px; "
          f"sign right {np.mean(np.sign(depths) == np.sign(exact)):.3f})", flush=True)


def score_reader(args: argparse.Namespace, joints_embedder: Any, rotation: Any,
                 grid: list[tuple[float, float]]) -> int:
    """Score a saved keypoint reader, its own lifter on its own reading, in the fusion grid."""
    import ablation  # a sibling script, for the header

    from posebrowser.nets.checkpoint import load_model

    reader, _ = load_model(args.reader, expect_kind="image")

    def read(gallery: Any, rows: np.ndarray) -> np.ndarray:
        return reading_features(reader, gallery, rows)

    print(ablation.screen_header(f"{args.reader}, val halves"))
    for name in args.sets:
        score(name, read, reader.lifter, reader.lifter.first.in_features, joints_embedder, rotation, grid)
    return 0


POOLS = ("exact", "real", "both")
#: ``mix``'s inputs: which of the landmarks and the depths come from the reading, which are exact.
MIXES = (("read", "read"), ("exact", "read"), ("read", "exact"), ("exact", "exact"))


def mixed_reading(raw_reading: Any, landmarks_from: str, depths_from: str) -> Any:
    """``read(gallery, rows)``: features of the rows' landmarks and depths, each taken from the keypoint
    net's reading of the images (``raw_reading(gallery, rows)``: landmarks and depths, ``"read"``) or from
    the renders' exact ones (``"exact"``; then the images are not read)."""

    def read(gallery: Any, rows: np.ndarray) -> np.ndarray:
        side = gallery.load_image(int(rows[0])).size[0]
        both_exact = landmarks_from == depths_from == "exact"
        landmarks, depths = (None, None) if both_exact else raw_reading(gallery, rows)
        if landmarks_from == "exact":
            landmarks = normalised(gallery.joints_2d[rows], side)
        if depths_from == "exact":
            depths = camera_depths(gallery, rows, side)
        return landmark_features(landmarks, depths)

    return read


def mix_screen(args: argparse.Namespace, joints_embedder: Any, rotation: Any,
               grid: list[tuple[float, float]]) -> int:
    """Score the saved reader's own lifter with its landmarks and / or its depths replaced by the exact
    ones: which of the two readings costs the figures more."""
    import ablation  # a sibling script, for the header

    from posebrowser.nets.checkpoint import load_model

    reader, _ = load_model(args.reader, expect_kind="image")
    raw_reading = remembered(lambda gallery, rows: read_keypoints(reader, load_rgb(gallery, rows)))
    for landmarks_from, depths_from in MIXES:
        print(ablation.screen_header(f"landmarks {landmarks_from}, depths {depths_from}, val halves"))
        read = mixed_reading(raw_reading, landmarks_from, depths_from)
        for name in args.sets:
            score(name, read, reader.lifter, reader.lifter.first.in_features, joints_embedder, rotation, grid)
    return 0


def reading_features(reader: KeypointReader, gallery: Any, rows: np.ndarray) -> np.ndarray:
    """``(N, 48)`` features of ``reader``'s reading of the rows' images (mirrored view included)."""
    return landmark_features(*read_keypoints(reader, load_rgb(gallery, rows)))


def builtin_train_reading(reader: KeypointReader) -> tuple[np.ndarray, np.ndarray]:
    """``reader``'s features of the built-in gallery's train renders (which no keypoint net trains on) and
    their exact features: the residuals the lifters' fitted errors come from."""
    from posebrowser.data.loading import open_gallery

    gallery = open_gallery(None)
    train = gallery.split_indices("train")
    return reading_features(reader, gallery, train), exact_features(gallery, train)


def remembered(read: Any) -> Any:
    """``read(gallery, rows)`` computed once per (gallery, row count): every set is scored several times."""
    readings: dict[tuple[str, int], Any] = {}

    def once(gallery: Any, rows: np.ndarray) -> Any:
        key = (str(gallery.root), len(rows))
        if key not in readings:
            readings[key] = read(gallery, rows)
        return readings[key]

    return once


def remembered_reading(reader: KeypointReader) -> Any:
    """``read(gallery, rows)``: the features of ``reader``'s reading of the rows, each (gallery, row
    count) read once (every set is scored once per lifter)."""
    return remembered(lambda gallery, rows: reading_features(reader, gallery, rows))


def own_readings(reader: KeypointReader, sha: str) -> np.ndarray:
    """``(N, 48)`` features of ``reader``'s readings of the training items (in :func:`exact_pairs`' order),
    read once per reader and kept in ``build/``."""
    cache = ROOT / "build" / f"own-readings-{sha[:16]}.npy"
    if cache.is_file():
        return np.asarray(np.load(cache))
    began, parts = time.perf_counter(), []
    for gallery, rows in training_items():
        parts.append(reading_features(reader, gallery, rows))
        print(f"read {len(rows)} train renders of {gallery.root.name} ({time.perf_counter() - began:.0f} s)",
              flush=True)
    features = np.concatenate(parts)
    np.save(cache, features)
    return features


def reading_errors(read: np.ndarray, exact: np.ndarray, label: str) -> None:
    """Feature-space errors of a reading (the landmarks' part in RMS-radius units, the depths' part)."""
    points = np.linalg.norm((read - exact)[:, :32].reshape(-1, 16, 2), axis=-1)
    depths = np.abs(read - exact)[:, 32:]
    print(f"{label}: landmark error median {np.median(points):.3f} / mean {points.mean():.3f}, depth error "
          f"median {np.median(depths):.3f} / mean {depths.mean():.3f} (RMS-radius units)", flush=True)


def own_readings_screen(args: argparse.Namespace, x: np.ndarray, target: np.ndarray, joints_embedder: Any,
                        rotation: Any, grid: list[tuple[float, float]]) -> int:
    """``real``: lifters trained on the keypoint net's own readings of the train renders (see the module
    doc), each scored in the fusion grid with the shipped keypoint net's reading of the val images."""
    import ablation  # a sibling script, for the header

    from posebrowser.nets.checkpoint import load_model

    reader, card = load_model(args.reader, expect_kind="image")
    real = own_readings(reader, card.sha256)
    reading_errors(real, x, "own readings of the train renders")
    reading, exact = builtin_train_reading(reader)
    reading_errors(reading, exact, "readings of the built-in gallery's train renders (never trained on)")
    residual = reading - exact
    noise = (residual.mean(0), np.cov(residual, rowvar=False))
    read = remembered_reading(reader)
    pools = {
        "exact": (x, target, None),
        "real": (real, target, np.zeros(len(real), bool)),
        "both": (np.concatenate([x, real]), np.concatenate([target, target]),
                 np.concatenate([np.ones(len(x), bool), np.zeros(len(real), bool)])),
    }
    for pool in args.pools:
        features, targets, augmented = pools[pool]
        lifter = train_lifter(features, targets, noise, args, FEATURES, augmented)
        print(ablation.screen_header(f"lifter trained on the {pool} pool ({len(features)} rows), val halves"))
        for name in args.sets:
            score(name, read, lifter, FEATURES, joints_embedder, rotation, grid)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("bound", "net", "lift", "score", "real", "mix"))
    parser.add_argument("--reader", type=Path, default=ROOT / "models" / "keypoint_reader",
                        help="score: a saved keypoint reader (with or without the depth head) and its lifter")
    parser.add_argument("--epochs", type=int, default=30, help="lifter epochs")
    parser.add_argument("--net-epochs", type=int, default=4)
    parser.add_argument("--frozen-stages", type=int, default=FROZEN_STAGES,
                        help="net: trunk stages after the stem kept frozen (the product's 3: stages 0-2)")
    parser.add_argument("--grey-share", type=float, default=0.0,
                        help="net: share of training images turned grey (the shipped recipe's 0.1)")
    parser.add_argument("--stride4", action="store_true",
                        help="net / lift: the keypoint net with the stride-4 refinement of its heat maps")
    parser.add_argument("--swap", type=float, default=0.17)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-net", type=Path, default=ROOT / "build" / "depth-net.pt")
    parser.add_argument("--load-net", type=Path, default=None)
    parser.add_argument("--sets", nargs="+", default=["builtin"])
    parser.add_argument("--inputs", nargs="+", type=int, default=[32, FEATURES],
                        help="lifters to train: 32 (landmarks only) and / or 48 (with depths)")
    parser.add_argument("--grid", nargs="+", default=["0.2,0.2", "0.15,0.3"])
    parser.add_argument("--pools", nargs="+", choices=POOLS, default=list(POOLS),
                        help="real: the lifters' training rows (exact: the product's recipe)")
    args = parser.parse_args()
    torch.set_num_threads(2)
    if args.mode == "net":
        train_net(args)
        return 0
    import ablation  # a sibling script, for the header

    from posebrowser.core.fused_embedder import FusedEmbedder
    from posebrowser.core.joints_embedder import JointsEmbedder

    joints_embedder = JointsEmbedder.from_checkpoint(ROOT / "models" / "joints_net", "cpu")
    fused = FusedEmbedder.from_checkpoint(ROOT / "models" / "fused_net", "cpu")
    rotation = fused.fusion.rotations()[0].numpy()
    grid = [(float(a), float(b)) for a, b in (text.split(",") for text in args.grid)]
    if args.mode == "score":
        return score_reader(args, joints_embedder, rotation, grid)
    if args.mode == "mix":
        return mix_screen(args, joints_embedder, rotation, grid)
    x, target = exact_pairs(joints_embedder)
    if args.mode == "bound":
        for inputs in args.inputs:
            lifter = train_lifter(x, target, None, args, inputs)
            print(ablation.screen_header(f"exact {'2-D' if inputs == 32 else '2-D + depth'}, val halves"))
            for name in args.sets:
                score(name, exact_features, lifter, inputs, joints_embedder, rotation, grid)
        return 0
    if args.mode == "real":
        return own_readings_screen(args, x, target, joints_embedder, rotation, grid)
    reader = depth_reader(args.load_net, args.stride4)
    reading, exact = builtin_train_reading(reader)
    residual = reading - exact
    read = remembered_reading(reader)
    for inputs in args.inputs:
        part = residual[:, :inputs]
        lifter = train_lifter(x, target, (part.mean(0), np.cov(part, rowvar=False)), args, inputs)
        print(ablation.screen_header(f"lifter of {inputs} inputs on the net's reading, val halves"))
        for name in args.sets:
            score(name, read, lifter, inputs, joints_embedder, rotation, grid)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
