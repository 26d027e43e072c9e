"""Build the joints image model: measure the pose estimator's noise, choose the noise scale on val, train.

    python tools/joints_model.py noise  [--gallery DIR] [--out models/estimator_noise.json]
    python tools/joints_model.py sweep  [--scales 0 0.5 1 1.5] [--epochs 20] [--extra-poses 12000]
    python tools/joints_model.py train  --scale S [--out models/joints_net]

With ``--frame torso`` each step works in the torso frame instead of the facing one
(:func:`posebrowser.nets.joints_net.joints_frame`): the noise model goes to
``models/estimator_noise_torso.json`` and the net to ``models/joints_torso_net`` (a second reader for
``posebrowser train fusion --fusion-readers joints_net=0.2 joints_torso_net=0.15``; screened, not shipped).

``noise`` runs BlazePose on the gallery's **train** renders (through the estimate cache, so a second run
reads them back), compares its 3-D joints with the ground truth in the joints-net frame and writes the
Gaussian residual model (:mod:`posebrowser.estimate.noise`) with how it was measured; it also prints the
same figures on val and test for the record. ``sweep`` trains one joints net per noise scale on clean
ground-truth poses (the gallery's train split plus ``--extra-poses`` poses of the synthetic pose sampler,
seed 1 — the image net's training-set seed — keeping only train-split motion families, no rendering) and
scores each on the gallery's val split alone: one family-disjoint half of val queries the other, both
embedded from the *estimated* joints (hit@1 / hit@10, window 51). ``train`` trains the chosen scale and
writes ``<out>.safetensors`` + model card. The test split is never looked at here.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
METRICS = ("2d", "3d", "procrustes")


def _gallery(path: Path | None) -> Any:
    from posebrowser.data.loading import open_gallery

    return open_gallery(str(path) if path else None)


def estimated_split(gallery: Any, split: str) -> tuple[np.ndarray, list[Any], str]:
    """(rows of ``split``, their estimate outcomes, estimator version), through the estimate cache."""
    from posebrowser.estimate.cache import EstimateCache, default_estimate_cache_dir, estimate_files
    from posebrowser.estimate.estimator import PoseEstimator

    rows = np.asarray(gallery.split_indices(split), dtype=np.int64)
    with PoseEstimator() as estimator:
        cache = EstimateCache(default_estimate_cache_dir(), estimator.version)
        began = time.perf_counter()
        files = estimate_files([gallery.image_path(int(r)) for r in rows], estimator, cache)
        cached = sum(item.cached for item in files)
        print(
            f"{split}: {len(rows)} images estimated in {time.perf_counter() - began:.0f} s "
            f"({cached} read back from the cache)",
            file=sys.stderr,
        )
        return rows, [item.outcome for item in files], estimator.version


def found_pairs(gallery: Any, rows: np.ndarray, outcomes: list[Any]) -> tuple[np.ndarray, ...]:
    """(estimated joints, true joints, low-confidence flags) of the rows where a person was found."""
    from posebrowser.estimate.estimator import MIN_JOINT_CONFIDENCE
    from posebrowser.estimate.result import PoseEstimate

    keep = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, PoseEstimate)]
    estimated = np.stack([outcomes[i].joints_3d for i in keep])
    low = np.stack([outcomes[i].confidence < MIN_JOINT_CONFIDENCE for i in keep])
    return estimated, np.asarray(gallery.joints_3d[rows[keep]]), low


def run_noise(args: argparse.Namespace) -> int:
    from posebrowser.estimate.noise import fit_noise, residuals

    gallery = _gallery(args.gallery)
    for split in ("train", "val", "test"):
        rows, outcomes, version = estimated_split(gallery, split)
        estimated, truth, low = found_pairs(gallery, rows, outcomes)
        error = np.linalg.norm(residuals(estimated, truth, args.frame).reshape(-1, 16, 3), axis=-1)
        print(
            f"{split}: person found in {len(estimated)}/{len(rows)} "
            f"({100 * len(estimated) / len(rows):.1f} %), mean per-joint error {100 * error.mean():.1f} cm "
            f"(median pose {100 * np.median(error.mean(1)):.1f} cm)"
        )
        if split != "train":
            continue
        noise = fit_noise(
            estimated,
            truth,
            frame=args.frame,
            images=len(rows),
            low_confidence=low,
            measured={
                "gallery": str(gallery.manifest.get("name", ""))
                if isinstance(gallery.manifest, dict)
                else "",
                "gallery_content_hash": getattr(gallery, "content_hash", None),
                "split": "train",
                "estimator": version,
                "mean_per_joint_error_m": round(float(error.mean()), 5),
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "how": f"python tools/joints_model.py noise --frame {args.frame}: BlazePose on each train "
                "render; residual = estimated − true 3-D joints, both in the joints-net frame; mean and "
                "covariance over the images with a person",
            },
        )
        noise.save(args.out)
        print(
            f"wrote {args.out}: no-person rate {100 * noise.no_person_rate:.1f} %, per-joint RMS "
            f"{np.round(100 * noise.per_joint_rms, 1).tolist()} cm",
            file=sys.stderr,
        )
    return 0


def training_poses(gallery: Any, extra: int, seed: int, cache: Path | None) -> np.ndarray:
    """The gallery's train-split ground truth plus the train-split poses of ``extra`` sampled poses."""
    from posebrowser.synth.poses import sample_poses

    own = np.asarray(gallery.joints_3d[gallery.split_indices("train")])
    if extra <= 0:
        return own
    if cache is not None and cache.is_file():
        stored = np.load(cache)
        joints, split = stored["joints_3d"][:extra], stored["split"][:extra]
    else:
        began = time.perf_counter()
        batch = sample_poses(extra, seed)
        joints, split = batch.joints_3d, batch.split
        print(f"sampled {extra} poses in {time.perf_counter() - began:.0f} s", file=sys.stderr)
        if cache is not None:
            np.savez_compressed(cache, joints_3d=joints, split=split)
    return np.concatenate([own, joints[split == 0]])


def val_halves(gallery: Any) -> tuple[np.ndarray, np.ndarray]:
    """The family-disjoint val halves of ``tools/ablation.py`` (one queries the other)."""
    spec = importlib.util.spec_from_file_location("ablation", REPO / "tools" / "ablation.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    first, second = module._halves(gallery)
    return np.asarray(first), np.asarray(second)


def val_scores(gallery: Any, net: Any, estimated: dict[int, np.ndarray]) -> dict[str, float]:
    """hit@1 / hit@10 per metric, one val half querying the other, from estimated joints (no person:
    the net's mean-pose row), and the same from the true joints (the upper bound)."""
    import torch

    from posebrowser.evaluation.metrics import retrieval_scores
    from posebrowser.pose.similarity import pairwise_distances
    from posebrowser.training.joints_trainer import embed_joints

    queries, database = val_halves(gallery)
    rows = np.concatenate([queries, database])
    with torch.no_grad():
        neutral = torch.nn.functional.normalize(net.neutral_embedding(), dim=1).numpy()[0]
    found = [int(r) for r in rows if int(r) in estimated]
    vectors = np.tile(neutral, (len(gallery), 1)).astype(np.float32)
    vectors[found] = embed_joints(net, np.stack([estimated[r] for r in found]))
    oracle = np.zeros_like(vectors)
    oracle[rows] = embed_joints(net, gallery.joints_3d[rows])
    scores: dict[str, float] = {}
    for metric in METRICS:
        truth = pairwise_distances(metric, gallery, queries, database)
        for label, table in (("est", vectors), ("gt", oracle)):
            result = retrieval_scores(table[queries], table[database], truth, (1, 10), 50, True)
            scores[f"{label} {metric} @1"] = round(100 * float(result.hit[0]), 1)
            scores[f"{label} {metric} @10"] = round(100 * float(result.hit[1]), 1)
    return scores


def _train(args: argparse.Namespace, gallery: Any, poses: np.ndarray, scale: float) -> tuple[Any, Any, Any]:
    from posebrowser.estimate.noise import EstimatorNoise
    from posebrowser.training.joints_trainer import JointsTrainConfig, train_joints_net

    config = JointsTrainConfig(
        epochs=args.epochs, noise_scale=scale, hidden=args.hidden, seed=args.seed, frame=args.frame
    )
    noise = EstimatorNoise.load(args.noise) if scale > 0 else None
    net, result = train_joints_net(poses, noise, config)
    print(
        f"scale {scale}: {result.steps} steps in {result.seconds:.0f} s; all-triplet loss "
        f"{result.initial_loss:.3f} → {result.history.val[-1]:.3f}",
        file=sys.stderr,
    )
    return net, result, config


def _val_estimates(gallery: Any) -> dict[int, np.ndarray]:
    from posebrowser.estimate.result import PoseEstimate

    rows, outcomes, _ = estimated_split(gallery, "val")
    return {int(r): o.joints_3d for r, o in zip(rows, outcomes, strict=True) if isinstance(o, PoseEstimate)}


def run_sweep(args: argparse.Namespace) -> int:
    gallery = _gallery(args.gallery)
    poses = training_poses(gallery, args.extra_poses, 1, args.poses_cache)
    print(f"{len(poses)} training poses", file=sys.stderr)
    estimated = _val_estimates(gallery)
    results = {}
    for scale in args.scales:
        net, _, _ = _train(args, gallery, poses, scale)
        results[str(scale)] = val_scores(gallery, net, estimated)
        print(json.dumps({"scale": scale, **results[str(scale)]}), flush=True)
    return 0


def run_train(args: argparse.Namespace) -> int:
    from posebrowser.nets.checkpoint import ModelCard, save_model

    gallery = _gallery(args.gallery)
    poses = training_poses(gallery, args.extra_poses, 1, args.poses_cache)
    net, result, config = _train(args, gallery, poses, args.scale)
    scores = val_scores(gallery, net, _val_estimates(gallery))
    card = ModelCard(
        net="joints_mlp",
        config=config.net_config(),
        kind="image",
        metrics={
            "val_halves_hit": scores,
            "train_loss": result.history.to_dict(),
            "initial_all_triplet_loss": result.initial_loss,
        },
        notes=(
            f"pose estimator (BlazePose, bundled) → joints net; trained on {len(poses)} clean ground-truth "
            f"poses (built-in gallery train split + synthetic pose sampler seed 1, train families) with "
            f"estimator noise from {args.noise.name} × {args.scale}; {json.dumps(config.to_dict())}; "
            f"{result.steps} steps, {result.seconds:.0f} s on CPU"
        ),
    )
    save_model(args.out, net.cpu(), card)
    print(json.dumps(scores, indent=1))
    print(f"wrote {args.out}.safetensors / .json", file=sys.stderr)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=("noise", "sweep", "train"))
    parser.add_argument("--gallery", type=Path, default=None)
    parser.add_argument("--frame", choices=("facing", "torso"), default="facing")
    parser.add_argument(
        "--noise", type=Path, default=None, help="default: models/estimator_noise[_torso].json"
    )
    parser.add_argument("--scales", type=float, nargs="+", default=[0.0, 0.5, 1.0, 1.5])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--extra-poses", type=int, default=12000)
    parser.add_argument("--poses-cache", type=Path, default=None, help="npz of sampled poses (written once)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    suffix = "" if args.frame == "facing" else f"_{args.frame}"
    args.noise = args.noise or REPO / "models" / f"estimator_noise{suffix}.json"
    if args.command == "noise":
        args.out = args.out or args.noise
        return run_noise(args)
    if args.command == "sweep":
        return run_sweep(args)
    args.out = args.out or REPO / "models" / ("joints_net" if args.frame == "facing" else "joints_torso_net")
    return run_train(args)


if __name__ == "__main__":
    raise SystemExit(main())
