"""How well an image net's trunk head reads 3-D pose, and how retrieval by that reading compares with the
embedding (a diagnosis on the built-in gallery's family-disjoint val halves; no model choice is made on it).

Needs a training folder of a run with ``--aux-trunk-joints-3d`` (the head is kept only in the training
state, not in the shipped model)::

    python tools/trunk_head_reading.py --models build/J --finetune-gallery build/finetune-data

The head regresses standardised targets; they are mapped back to metres with the mean and spread of the
gallery it was last trained on (the fine-tune set for a ``train all`` run with ``--finetune-gallery``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ablation  # the val halves and their scores


def _predicted_joints(models: Path, gallery: object, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(embeddings, standardised trunk-head predictions) of the gallery rows."""
    import torch

    from posebrowser.core.embedder import Embedder

    state = torch.load(models / "training" / "image_train_state.pt", weights_only=False, map_location="cpu")
    weight = state["model"]["trunk_joints_3d.weight"].numpy()
    bias = state["model"]["trunk_joints_3d.bias"].numpy()
    embedder = Embedder.from_checkpoint(models / "image_net", device="cpu")
    features: list[np.ndarray] = []
    embedder.module.embedding.register_forward_hook(
        lambda _m, inputs, _o: features.append(inputs[0].detach().float().cpu().numpy())
    )
    vectors = embedder.embed_images(gallery, indices=rows)  # type: ignore[arg-type]
    return vectors, np.concatenate(features) @ weight.T + bias


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, required=True, help="folder of a trunk-head training run")
    parser.add_argument(
        "--finetune-gallery", type=Path, required=True, help="the gallery it was last trained on"
    )
    args = parser.parse_args()

    import torch

    from posebrowser.data.loading import open_gallery
    from posebrowser.training.aux_heads import AuxJointHead, body_frame_targets

    trained_on = open_gallery(args.finetune_gallery)
    train_rows = np.asarray(trained_on.split_indices("train"))
    # the head's own standardisation of its training targets, to map its predictions back to metres
    head = AuxJointHead("joints_3d", np.asarray(trained_on.joints_3d)[train_rows], 1, torch.device("cpu"))
    mean, spread = head.mean, head.std

    gallery = open_gallery(None)
    queries, database = ablation._halves(gallery)
    rows = np.concatenate([queries, database])
    vectors, standardised = _predicted_joints(args.models, gallery, rows)
    embedding = np.zeros((len(gallery), vectors.shape[1]), np.float32)
    joints = np.zeros((len(gallery), standardised.shape[1]), np.float32)
    embedding[rows], joints[rows] = vectors, standardised * spread + mean
    truth = body_frame_targets(np.asarray(gallery.joints_3d)[rows])
    error = np.linalg.norm((joints[rows] - truth).reshape(len(rows), -1, 3), axis=2)
    mean_cm, median_cm = 100 * error.mean(), 100 * np.median(error)
    print(f"per-joint error of the trunk head: mean {mean_cm:.1f} cm, median {median_cm:.1f} cm\n")
    print(
        "| val halves | hit@1 2D | 3D | Procrustes | Hamming | top-10 in true 50 "
        "| test-like 2D | 3D | Procrustes |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    scale = np.sqrt((joints[rows] ** 2).sum(axis=1).mean())
    candidates = {"embedding": embedding, "predicted joints (m)": joints}
    for weight in (0.2, 0.4):
        candidates[f"embedding + predicted joints (weight {weight})"] = np.concatenate(
            [np.sqrt(1 - weight) * embedding, np.sqrt(weight) * joints / scale], axis=1
        )
    for name, values in candidates.items():
        scores = ablation._scores(values, queries, database, gallery)
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in scores) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
