"""Screen a third reader of the pose estimate: BlazePose's 2-D image landmarks lifted into the joints net's
space (validation data only; never the test split).

The shipped fusion reads BlazePose's metric 3-D joints (the joints net). Its 2-D image landmarks are a
second, more direct reading of the same image: a *keypoint lifter* — an MLP from the 16 landmarks
(pelvis-centred, y up, scaled to unit RMS radius: translation- and scale-free) to 128-d unit rows — is
trained to land where the shipped joints net puts the image's **true** 3-D pose (loss 1 − cos), so its
rows live in the joints net's space and the fused model's fitted joints-net map carries them into the
CNN's space unchanged. Training pairs are the exact 2-D projections and 3-D poses of the train split of
the training and fine-tune sets (no rendering); each batch gets BlazePose-like 2-D errors: a Gaussian
fitted (mean, full covariance) to BlazePose's residuals on the built-in gallery's train renders, times
``--noise``, and with ``--swap`` that share of rows with the left/right confusions BlazePose makes
(legs, arms or the whole body, in the proportions measured on the train renders). ``--orbit`` re-projects
that share of rows through each image's camera orbited about the vertical by a random azimuth (the
target does not change: the 3-D metric is facing-aligned). ``--elevate`` re-projects that share of rows
from the same azimuth and distance but a camera elevation drawn from ``--elevation`` and a roll within
``±--roll`` (steep views, as the camera-shift galleries have). ``--extra-poses N`` adds the train-split
poses of N poses of the synthetic pose sampler (``--extra-seed``, kept in ``build/`` once drawn), each
seen by the camera of a random training pair moved with the body. ``--clean`` scores the lifter on the
ground-truth 2-D landmarks of the val images instead of BlazePose's: the bound a perfect 2-D reading
would give.

Each ``--grid a,b`` setting scores ``normalise((1 − a − b)·cnn + (a·joints + b·lifter)·R)`` on the val
halves of ``tools/ablation.py`` (R: the shipped fusion's joints-net map; rows without a person keep the
CNN's row). ``a = 0.3, b = 0`` is the shipped model.

    python tools/keypoint_lifter_screen.py --noise 0.5 --swap 0.17 --sets builtin steep cs12 \
        --grid 0.3,0 0.2,0.2 0.15,0.25 0.25,0.15 [--save lifter.pt | --load lifter.pt ...]

Needs ``build/train-data``, ``build/finetune-data`` and, for the steep / camera-shift sets, the galleries
and caches listed in :data:`SETS` (``models/README.md`` says how each is made).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from posebrowser.nets.keypoint_reader import KeypointLifter, landmark_features
from posebrowser.training.keypoint_trainer import optimiser_step, with_swaps

ROOT = Path(__file__).resolve().parents[1]
#: name → (gallery, CNN embedding cache, estimate cache); None: the built-in gallery / the user's cache.
SETS = {
    "builtin": (None, ROOT / "models/embeddings", None),
    "steep": (
        ROOT / "build/steep",
        ROOT / "build/steep-cache",
        ROOT / "build/score-Fu-steep/cache/estimates",
    ),
    "cs12": (
        ROOT / "build/camera-shift-12",
        ROOT / "build/cs12-cache",
        ROOT / "build/score-Fu-cs12/cache/estimates",
    ),
}
TRAINING_SETS = ("build/train-data", "build/finetune-data")
BATCH = 256


def camera_centres(rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """``(N, 3)`` world positions of cameras ``X_c = R X_w + t`` (``−Rᵀ t`` each)."""
    return np.asarray(-np.einsum("nji,nj->ni", rotation, translation))


def orbited_landmarks(world: np.ndarray, rotation: np.ndarray, translation: np.ndarray,
                      azimuth: np.ndarray) -> np.ndarray:
    """``(N, 16, 2)`` landmarks of Z-up world joints seen by each camera (``X_c = R X_w + t``) orbited by
    ``azimuth`` radians about the vertical through the pelvis (up to the focal length and principal
    point, which :func:`landmark_features` removes)."""
    from posebrowser.pose.skeleton import PELVIS

    pivot = world[:, PELVIS]
    centre = camera_centres(rotation, translation)
    cos, sin = np.cos(azimuth), np.sin(azimuth)
    spin = np.zeros((len(world), 3, 3))
    spin[:, 0, 0], spin[:, 0, 1], spin[:, 1, 0], spin[:, 1, 1], spin[:, 2, 2] = cos, -sin, sin, cos, 1.0
    moved = np.einsum("nij,nj->ni", spin, centre - pivot) + pivot
    turned = rotation @ np.transpose(spin, (0, 2, 1))
    camera = np.einsum("nij,nkj->nki", turned, world - moved[:, None])
    return np.asarray(camera[..., :2] / np.maximum(camera[..., 2:3], 1e-3))


def elevated_landmarks(world: np.ndarray, rotation: np.ndarray, translation: np.ndarray,
                       elevation: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """``(N, 16, 2)`` landmarks of Z-up world joints seen from each camera's azimuth and distance about the
    pelvis, but at ``elevation`` radians (> 0 looks down) and with ``roll`` radians about the optical axis
    (up to the focal length and principal point, which :func:`landmark_features` removes)."""
    from posebrowser.pose.skeleton import PELVIS
    from posebrowser.synth.camera import look_at

    pivot = world[:, PELVIS]
    offset = camera_centres(rotation, translation) - pivot
    azimuth = np.arctan2(offset[:, 1], offset[:, 0])
    distance = np.linalg.norm(offset, axis=1)
    seen = np.empty((len(world), 16, 2))
    for i in range(len(world)):
        direction = np.array([np.cos(azimuth[i]) * np.cos(elevation[i]),
                              np.sin(azimuth[i]) * np.cos(elevation[i]), np.sin(elevation[i])])
        eye = pivot[i] + distance[i] * direction
        camera = (world[i] - eye) @ look_at(eye, pivot[i]).T
        xy = camera[:, :2] / np.maximum(camera[:, 2:3], 1e-3)
        c, s = np.cos(roll[i]), np.sin(roll[i])
        seen[i] = xy @ np.array([[c, s], [-s, c]])
    return seen


def estimates(estimator: Any, gallery: Any, rows: np.ndarray, cache_dir: Path | None) -> list[Any]:
    from posebrowser.estimate.cache import EstimateCache, default_estimate_cache_dir, estimate_files

    cache = EstimateCache(cache_dir or default_estimate_cache_dir(), estimator.version)
    return [item.outcome for item in estimate_files([gallery.image_path(int(r)) for r in rows], estimator,
                                                    cache)]


def blazepose_landmarks(estimator: Any, gallery: Any, rows: np.ndarray, cache_dir: Path | None
                        ) -> tuple[np.ndarray, np.ndarray]:
    """BlazePose's ``(N, 16, 2)`` landmarks of the rows (NaN where it finds nobody) and where it found one."""
    from posebrowser.estimate.result import PoseEstimate

    outcomes = estimates(estimator, gallery, rows, cache_dir)
    found = np.array([isinstance(outcome, PoseEstimate) for outcome in outcomes])
    landmarks = np.full((len(rows), 16, 2), np.nan, np.float32)
    if found.any():
        landmarks[found] = np.stack([o.joints_2d for o in outcomes if isinstance(o, PoseEstimate)])
    return landmarks, found


def net_landmarks(reader: Any, gallery: Any, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A keypoint reader's landmarks of the rows (it reads every image; normalised coordinates, which the
    scale-free landmark features do not see)."""
    from posebrowser.training.keypoint_trainer import load_rgb, read_landmarks

    return read_landmarks(reader, load_rgb(gallery, rows)), np.ones(len(rows), bool)


def landmark_noise(read: Any) -> tuple[np.ndarray, np.ndarray]:
    """(mean, covariance) of the landmark reader's feature residuals on the built-in train renders."""
    from posebrowser.data.loading import open_gallery

    gallery = open_gallery(None)
    rows = gallery.split_indices("train")
    landmarks, found = read(gallery, rows, None)
    residual = landmark_features(landmarks[found]) - landmark_features(gallery.joints_2d[rows[found]])
    print(f"landmark noise from {found.sum()} built-in train renders with a reading", flush=True)
    return residual.mean(0), np.cov(residual, rowvar=False)


def training_pairs(joints_embedder: Any) -> dict[str, np.ndarray]:
    from posebrowser.data.loading import open_gallery

    keys = ("x", "target", "world", "rotation", "translation")
    parts: dict[str, list[np.ndarray]] = {key: [] for key in keys}
    for name in TRAINING_SETS:
        gallery = open_gallery(str(ROOT / name))
        rows = gallery.split_indices("train")
        parts["x"].append(landmark_features(gallery.joints_2d[rows]))
        parts["target"].append(joints_embedder.embed_joints(gallery.joints_3d[rows]))
        parts["world"].append(gallery.joints_3d[rows])
        parts["rotation"].append(gallery.camera_rotation[rows])
        parts["translation"].append(gallery.camera_translation[rows])
    return {key: np.concatenate(value) for key, value in parts.items()}


def sampled_train_poses(count: int, seed: int) -> np.ndarray:
    """The train-split poses among ``count`` poses of the synthetic pose sampler with ``seed`` (no
    rendering; kept in ``build/`` once drawn, a few ms a pose)."""
    from posebrowser.synth.poses import sample_poses

    cache = ROOT / "build" / f"lifter-poses-{seed}-{count}.npz"
    if cache.is_file():
        return np.asarray(np.load(cache)["joints_3d"])
    batch = sample_poses(count, seed)
    joints = batch.joints_3d[batch.split == 0]
    np.savez_compressed(cache, joints_3d=joints)
    return joints


def with_extra_poses(pairs: dict[str, np.ndarray], joints_embedder: Any, count: int, seed: int,
                     rng: np.random.Generator) -> dict[str, np.ndarray]:
    """``pairs`` plus the train-split poses of ``count`` sampled poses, each seen by the camera of a random
    training pair moved with the body (same rotation, same offset from the pelvis)."""
    from posebrowser.pose.skeleton import PELVIS

    world = sampled_train_poses(count, seed).astype(np.float64)
    donor = rng.integers(len(pairs["x"]), size=len(world))
    rotation = pairs["rotation"][donor].astype(np.float64)
    translation = pairs["translation"][donor].astype(np.float64)
    moved = camera_centres(rotation, translation) - pairs["world"][donor, PELVIS] + world[:, PELVIS]
    translation = -np.einsum("nij,nj->ni", rotation, moved)
    camera = np.einsum("nij,nkj->nki", rotation, world) + translation[:, None]
    seen = camera[..., :2] / np.maximum(camera[..., 2:3], 1e-3)
    extra = {"x": landmark_features(seen), "target": joints_embedder.embed_joints(world.astype(np.float32)),
             "world": world, "rotation": rotation, "translation": translation}
    print(f"{len(world)} extra train-split poses (sampler seed {seed})", flush=True)
    return {key: np.concatenate([pairs[key], extra[key].astype(pairs[key].dtype)]) for key in pairs}


def train(args: argparse.Namespace, joints_embedder: Any, read: Any) -> KeypointLifter:
    mean, covariance = landmark_noise(read)
    pairs = training_pairs(joints_embedder)
    if args.extra_poses:
        pairs = with_extra_poses(pairs, joints_embedder, args.extra_poses, args.extra_seed,
                                 np.random.default_rng(args.seed))
    x, target = torch.from_numpy(pairs["x"]), torch.from_numpy(pairs["target"])
    world, rotation, translation = (pairs[key].astype(np.float64)
                                    for key in ("world", "rotation", "translation"))
    print(f"{len(x)} training pairs", flush=True)
    factor = torch.linalg.cholesky(torch.from_numpy(covariance).float() + 1e-6 * torch.eye(32))
    offset = torch.from_numpy(mean).float()
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    net = KeypointLifter(hidden=args.hidden, dropout=args.dropout)
    optimiser = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)
    steps_per_epoch = len(x) // BATCH
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, 1e-3, total_steps=args.epochs * steps_per_epoch)
    began = time.perf_counter()
    for epoch in range(args.epochs):
        order, total = torch.randperm(len(x)), 0.0
        net.train()
        for start in range(0, steps_per_epoch * BATCH, BATCH):
            batch = order[start : start + BATCH]
            inputs = x[batch].clone()
            orbit = rng.random(len(batch)) < args.orbit
            if orbit.any():
                picked = batch.numpy()[orbit]
                azimuth = rng.uniform(-np.pi, np.pi, len(picked))
                seen = orbited_landmarks(world[picked], rotation[picked], translation[picked], azimuth)
                inputs[torch.from_numpy(orbit)] = torch.from_numpy(landmark_features(seen))
            elevate = np.zeros(len(batch), bool)
            if args.elevate > 0:
                elevate = rng.random(len(batch)) < args.elevate
            if elevate.any():  # drawn only when asked, so runs without it repeat the draws of earlier runs
                picked = batch.numpy()[elevate]
                elevation = np.radians(rng.uniform(*args.elevation, len(picked)))
                roll = np.radians(rng.uniform(-args.roll, args.roll, len(picked)))
                seen = elevated_landmarks(world[picked], rotation[picked], translation[picked],
                                          elevation, roll)
                inputs[torch.from_numpy(elevate)] = torch.from_numpy(landmark_features(seen))
            if args.swap > 0:
                inputs = with_swaps(inputs, rng, args.swap)
            inputs = inputs + args.noise * (offset + torch.randn(len(batch), 32) @ factor.T)
            total += optimiser_step((1 - (net(inputs) * target[batch]).sum(1)).mean(), optimiser, schedule)
        print(f"epoch {epoch}: loss {total / steps_per_epoch:.4f} ({time.perf_counter() - began:.0f} s)",
              flush=True)
    return net.eval()


def set_rows(name: str, estimator: Any, joints_embedder: Any, lifter: Any, read: Any, clean: bool
             ) -> dict[str, Any]:
    """The val halves of a set and each reader's rows (NaN where BlazePose / the landmark reader finds
    nobody)."""
    import ablation  # a sibling script: run as `python tools/...`, its folder is on sys.path

    from posebrowser.core.engine import RetrievalEngine
    from posebrowser.estimate.result import PoseEstimate

    gallery_dir, cache_dir, estimate_cache = SETS[name]
    engine = RetrievalEngine.open(gallery_dir, ROOT / "models", "cpu", cache_dir, image_model="image_net")
    gallery = engine.gallery
    queries, database = ablation._halves(gallery)
    rows = np.concatenate([queries, database])
    outcomes = estimates(estimator, gallery, rows, estimate_cache)
    person = np.array([isinstance(outcome, PoseEstimate) for outcome in outcomes])
    joints = np.full((len(rows), 128), np.nan, np.float32)
    lifted = joints.copy()
    found = [outcome for outcome in outcomes if isinstance(outcome, PoseEstimate)]
    joints[person] = joints_embedder.embed_joints(np.stack([outcome.joints_3d for outcome in found]))
    landmarks, readable = (gallery.joints_2d[rows], np.ones(len(rows), bool)) if clean else read(
        gallery, rows, estimate_cache)
    with torch.inference_mode():
        lifted[readable] = lifter(torch.from_numpy(landmark_features(landmarks[readable]))).numpy()
    cnn = np.asarray(engine.embeddings, np.float32)[rows]
    return {"gallery": gallery, "queries": queries, "database": database, "rows": rows, "person": person,
            "cnn": cnn, "joints": joints, "lifted": lifted}


def print_scores(
    name: str, data: dict[str, Any], rotation: np.ndarray, grid: list[tuple[float, float]]
) -> None:
    import ablation

    from posebrowser.nets.fusion import EstimatorFusion

    def row(label: str, vectors: np.ndarray) -> None:
        table = np.zeros((len(data["gallery"]), vectors.shape[1]), np.float32)
        table[data["rows"]] = vectors
        scores = ablation._scores(table, data["queries"], data["database"], data["gallery"])
        print(ablation.screen_row(f"{name}: {label}", scores), flush=True)

    person = data["person"][:, None]
    row("joints net alone", np.where(person, data["joints"], data["cnn"]))
    row("keypoint lifter alone", np.where(person, data["lifted"], data["cnn"]))
    for joints_weight, lifter_weight in grid:
        fusion = EstimatorFusion(128, joints_weight, joints_model="joints_net",
                                 more_joints_models=("keypoint_lifter",), more_weights=(lifter_weight,))
        fusion.set_rotation(rotation, 0)
        fusion.set_rotation(rotation, 1)
        blended = fusion.blend(data["cnn"], [data["joints"], data["lifted"]], data["person"])
        row(f"fused {joints_weight:g} / {lifter_weight:g}", blended)
        alone = ~data["person"] & np.isfinite(data["lifted"]).all(1)
        if alone.any() and lifter_weight > 0:
            lifted = data["lifted"][alone] @ rotation
            mixed = (1 - lifter_weight) * data["cnn"][alone] + lifter_weight * lifted
            blended[alone] = mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
            row(f"fused {joints_weight:g} / {lifter_weight:g}, lifter also without a person", blended)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--dropout", type=float, default=0.2)
    parser.add_argument("--noise", type=float, default=1.0, help="scale of the fitted landmark noise")
    parser.add_argument("--swap", type=float, default=0.0, help="share of rows given a left/right confusion")
    parser.add_argument("--orbit", type=float, default=0.0, help="share of rows seen from a new azimuth")
    parser.add_argument("--elevate", type=float, default=0.0,
                        help="share of rows seen from a new camera elevation (and roll), same azimuth")
    parser.add_argument("--elevation", type=float, nargs=2, default=(30.0, 75.0), help="its range, degrees")
    parser.add_argument("--roll", type=float, default=20.0, help="its roll range ±, degrees")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--extra-poses", type=int, default=0,
                        help="also train on the train-split poses of this many sampled poses")
    parser.add_argument("--extra-seed", type=int, default=101, help="the pose sampler's seed for them")
    parser.add_argument("--sets", nargs="+", choices=tuple(SETS), default=["builtin"])
    parser.add_argument("--grid", nargs="+", default=["0.3,0", "0.2,0.2"], help="joints,lifter weights")
    parser.add_argument("--clean", action="store_true", help="lift the ground-truth landmarks (a bound)")
    parser.add_argument("--keypoint-net", type=Path, default=None,
                        help="read the landmarks with this keypoint reader (e.g. models/keypoint_reader; "
                             "its own lifter is not used) instead of BlazePose")
    parser.add_argument("--save", type=Path, default=None)
    parser.add_argument("--load", type=Path, nargs="+", default=None, help="lifters to average")
    args = parser.parse_args()

    from posebrowser.core.fused_embedder import FusedEmbedder
    from posebrowser.core.joints_embedder import JointsEmbedder
    from posebrowser.estimate.estimator import PoseEstimator

    joints_embedder = JointsEmbedder.from_checkpoint(ROOT / "models" / "joints_net", "cpu")
    fused = FusedEmbedder.from_checkpoint(ROOT / "models" / "fused_net", "cpu")
    rotation = fused.fusion.rotations()[0].numpy()
    estimator = PoseEstimator()
    if args.keypoint_net:
        from posebrowser.nets.checkpoint import load_model

        net, _ = load_model(args.keypoint_net, expect_kind="image")

        def read(gallery: Any, rows: np.ndarray, _cache: Path | None) -> tuple[np.ndarray, np.ndarray]:
            return net_landmarks(net, gallery, rows)
    else:
        def read(gallery: Any, rows: np.ndarray, cache: Path | None) -> tuple[np.ndarray, np.ndarray]:
            return blazepose_landmarks(estimator, gallery, rows, cache)
    if args.load:
        lifters = []
        for path in args.load:
            one = KeypointLifter(hidden=args.hidden, dropout=args.dropout)
            one.load_state_dict(torch.load(path, weights_only=True))
            lifters.append(one.eval())

        def lifter(x: torch.Tensor) -> torch.Tensor:
            return F.normalize(torch.stack([one(x) for one in lifters]).sum(0), dim=1)
    else:
        lifter = train(args, joints_embedder, read)
        if args.save:
            torch.save(lifter.state_dict(), args.save)
    grid = [(float(a), float(b)) for a, b in (text.split(",") for text in args.grid)]
    import ablation  # a sibling script: run as `python tools/...`, its folder is on sys.path

    print(ablation.screen_header("val halves"))
    for name in args.sets:
        data = set_rows(name, estimator, joints_embedder, lifter, read, args.clean)
        print_scores(name, data, rotation, grid)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
