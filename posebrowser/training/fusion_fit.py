"""``posebrowser train fusion``: fit the fused image model (:class:`~posebrowser.nets.fusion.EstimatorFusion`)
of ``<out>/image_net`` and ``<out>/joints_net``.

The map that carries the joints net's rows into the CNN's space is fitted on :data:`FIT_IMAGES` images of
the gallery's train split (drawn with ``--seed``, as the mirror map's; never val or test images): each is
embedded by the CNN and, where the pose estimator finds a person, by the estimator + joints net, and the
orthogonal map between the paired rows is fitted by orthogonal Procrustes. The weight of the estimator's
reading (``--fusion-weight``, default 0.3) was chosen on the validation halves. Nothing else is trained:
the posebit net and the masks stay in the CNN's space. Saved as ``<out>/fused_net`` (the card names the
two models and carries the fit's figures).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from posebrowser.errors import CheckpointError, DataError

FUSED_STEM = "fused_net"
#: Too few paired rows leave the 128 × 128 map underdetermined.
MIN_PAIRS = 16


def fit_fusion(
    cnn: NDArray[np.floating], joints: NDArray[np.floating], weight: float
) -> tuple[Any, dict[str, float]]:
    """The fusion fitted on paired ``(N, D)`` rows (NaN joints rows = no person, left out of the fit).
    Returns (the :class:`EstimatorFusion`, the fit's figures for the card)."""
    from posebrowser.nets.fusion import EstimatorFusion
    from posebrowser.nets.mirror_view import fit_rotation

    cnn, joints = np.asarray(cnn, np.float64), np.asarray(joints, np.float64)
    paired = np.isfinite(cnn).all(axis=1) & np.isfinite(joints).all(axis=1)
    if paired.sum() < MIN_PAIRS:
        raise DataError(
            f"The fusion needs at least {MIN_PAIRS} training images in which the pose estimator finds a "
            f"person; {int(paired.sum())} of {len(cnn)} have one."
        )
    rotation = fit_rotation(joints[paired], cnn[paired])
    fusion = EstimatorFusion(int(cnn.shape[1]), weight)
    fusion.set_rotation(rotation)
    figures = {
        "fit_images": len(cnn),
        "with_person": int(paired.sum()),
        "mean_cosine_before_map": round(float(np.mean(np.sum(joints[paired] * cnn[paired], axis=1))), 4),
        "mean_cosine_after_map": round(
            float(np.mean(np.sum((joints[paired] @ rotation) * cnn[paired], axis=1))), 4
        ),
    }
    return fusion.eval(), figures


def run_fusion(args: argparse.Namespace) -> None:
    """Fit and save ``<out>/fused_net`` on the train split of ``--gallery`` (see the module doc)."""
    from posebrowser.core.embedder import Embedder
    from posebrowser.core.joints_embedder import JointsEmbedder
    from posebrowser.data.loading import open_gallery
    from posebrowser.nets.checkpoint import ModelCard, read_card, save_model
    from posebrowser.training.mirror_fit import fit_rows

    out = Path(args.out)
    for stem in ("image_net", "joints_net"):
        if not (out / f"{stem}.json").is_file():
            raise CheckpointError(f"The fusion needs {stem} in the models folder; it is not there.", path=out)
    gallery = open_gallery(args.gallery)
    rows = fit_rows(gallery, args)
    cnn = Embedder.from_checkpoint(out / "image_net", args.device).embed_images(gallery, indices=rows)
    joints = JointsEmbedder.from_checkpoint(out / "joints_net", args.device)
    fusion, figures = fit_fusion(cnn, joints.embed_images(gallery, indices=rows), args.fusion_weight)
    image_card = read_card(out / "image_net")
    fit = {**figures, "seed": args.seed, "gallery": gallery.content_hash}
    card = ModelCard(
        net="estimator_fusion",
        config={
            "embedding_dim": fusion.embedding_dim,
            "weight": fusion.weight,
            "image_model": fusion.image_model,
            "joints_model": fusion.joints_model,
        },
        kind="image",
        preprocessing=image_card.preprocessing,
        embedding_dim=fusion.embedding_dim,
        posebit_version=image_card.posebit_version,
        training_data_hash=gallery.content_hash,
        metrics={
            "fit": fit,
            "image_net_sha256": image_card.sha256,
            "joints_net_sha256": read_card(out / "joints_net").sha256,
        },
        notes=f"image_net blended with the pose estimator + joints_net (weight {fusion.weight}); map "
        f"fitted on {figures['with_person']} train images with a person (seed {args.seed})",
    )
    save_model(out / FUSED_STEM, fusion, card)
