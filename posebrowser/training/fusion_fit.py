"""``posebrowser train fusion``: fit the fused image model (:class:`~posebrowser.nets.fusion.EstimatorFusion`)
of ``<out>/image_net`` and the readers ``--fusion-readers`` names (default: ``joints_net`` alone; the
shipped recipe adds the keypoint reader, ``joints_net=0.2 keypoint_reader=0.2``; a torso-frame
``joints_torso_net`` as a second reader was screened and not shipped).

The map that carries each joints net's rows into the CNN's space is fitted on the images of the gallery's
train split that the mirror map uses (drawn with ``--seed``; never val or test images): each is embedded
by the CNN and, where the pose estimator finds a person, by the estimator + each joints net (one estimate
per image), and the orthogonal map between the paired rows is fitted by orthogonal Procrustes, one map
per joints net; the keypoint reader, trained to land in the joints net's space, takes the joints net's
map. The weights of the readings (``--fusion-readers STEM=WEIGHT …``) were chosen on the
validation halves. Nothing else is trained: the posebit net and the masks stay in the CNN's space. Saved
as ``<out>/fused_net`` (the card names the models and carries the fit's figures).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from posebrowser.errors import CheckpointError, DataError

FUSED_STEM = "fused_net"
#: Too few paired rows leave the 128 × 128 map underdetermined.
MIN_PAIRS = 16


def fit_fusion(
    cnn: NDArray[np.floating],
    joints: NDArray[np.floating] | Sequence[NDArray[np.floating]],
    weight: float | Sequence[float],
    joints_models: Sequence[str] = ("joints_net",),
    shared_maps: Mapping[int, int] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """The fusion fitted on paired ``(N, D)`` rows: the CNN's and each reader's (one array or one per
    reader; NaN rows = no person, left out of the fit), one weight per reader. ``shared_maps`` gives a
    reader (by index) the map of another whose space its rows live in (the keypoint reader is trained to
    land in the joints net's space), instead of a map of its own.
    Returns (the :class:`EstimatorFusion`, the fit's figures for the card)."""
    from posebrowser.nets.fusion import EstimatorFusion

    readings = [joints] if isinstance(joints, np.ndarray) else list(joints)
    weights = [float(weight)] if isinstance(weight, int | float) else [float(w) for w in weight]
    if not len(readings) == len(weights) == len(joints_models):
        raise ValueError("one joints reading, weight and model name per reader")
    cnn_rows: NDArray[np.float64] = np.asarray(cnn, np.float64)
    fusion = EstimatorFusion(
        int(cnn_rows.shape[1]),
        weights[0],
        joints_model=joints_models[0],
        more_joints_models=tuple(joints_models[1:]),
        more_weights=tuple(weights[1:]),
    )
    figures: dict[str, Any] = {"fit_images": len(cnn_rows)}
    shared = dict(shared_maps or {})
    rotations: dict[int, Any] = {}
    for reader in sorted(range(len(readings)), key=lambda r: r in shared):  # own maps first
        if reader in shared:
            rotation, fit = _shared_map(cnn_rows, np.asarray(readings[reader], np.float64),
                                        rotations[shared[reader]], joints_models[shared[reader]])
        else:
            rotation, fit = _fit_reader(cnn_rows, np.asarray(readings[reader], np.float64))
        rotations[reader] = rotation
        fusion.set_rotation(rotation, reader)
        figures.update(fit if reader == 0 else {f"{joints_models[reader]}": fit})
    return fusion.eval(), figures


def _shared_map(
    cnn: NDArray[np.float64], rows: NDArray[np.float64], rotation: Any, owner: str
) -> tuple[Any, dict[str, Any]]:
    """A reader that takes ``owner``'s map, and its figures."""
    paired = _paired(cnn, rows)
    after = _mean_cosine(rows[paired] @ rotation, cnn[paired]) if paired.any() else np.nan
    return rotation, {"map_of": owner, "with_rows": int(paired.sum()),
                      "mean_cosine_after_map": round(float(after), 4)}


def _paired(cnn: NDArray[np.float64], rows: NDArray[np.float64]) -> NDArray[np.bool_]:
    """The images both the CNN and the reader have a row for (NaN rows: no person or unreadable)."""
    return np.asarray(np.isfinite(cnn).all(axis=1) & np.isfinite(rows).all(axis=1))


def _mean_cosine(rows: NDArray[np.float64], cnn: NDArray[np.float64]) -> float:
    """Mean cosine between paired unit rows."""
    return float(np.mean(np.sum(rows * cnn, axis=1)))


def _fit_reader(cnn: NDArray[np.float64], joints: NDArray[np.float64]) -> tuple[Any, dict[str, Any]]:
    """One reader's orthogonal map onto the CNN's rows and its figures."""
    from posebrowser.nets.mirror_view import fit_rotation

    paired = _paired(cnn, joints)
    if paired.sum() < MIN_PAIRS:
        raise DataError(
            f"The fusion needs at least {MIN_PAIRS} training images in which the pose estimator finds a "
            f"person; {int(paired.sum())} of {len(cnn)} have one."
        )
    rotation = fit_rotation(joints[paired], cnn[paired])
    return rotation, {
        "with_person": int(paired.sum()),
        "mean_cosine_before_map": round(_mean_cosine(joints[paired], cnn[paired]), 4),
        "mean_cosine_after_map": round(_mean_cosine(joints[paired] @ rotation, cnn[paired]), 4),
    }


def run_fusion(args: argparse.Namespace) -> None:
    """Fit and save ``<out>/fused_net`` on the train split of ``--gallery`` (see the module doc)."""
    from posebrowser.core.embedder import Embedder, image_items
    from posebrowser.core.joints_embedder import load_readers, read_with_readers
    from posebrowser.data.loading import open_gallery
    from posebrowser.nets.checkpoint import ModelCard, read_card, save_model
    from posebrowser.training.mirror_fit import fit_rows

    out = Path(args.out)
    stems, weights = zip(*args.fusion_readers, strict=True)
    if sum(weights) > 1.0 + 1e-9 or len(set(stems)) != len(stems):
        raise DataError(
            f"--fusion-readers needs each joints model once and weights that sum to at most 1, not "
            f"{' '.join(f'{stem}={weight}' for stem, weight in args.fusion_readers)}."
        )
    for stem in ("image_net", *stems):
        if not (out / f"{stem}.json").is_file():
            raise CheckpointError(f"The fusion needs {stem} in the models folder; it is not there.", path=out)
    gallery = open_gallery(args.gallery)
    rows = fit_rows(gallery, args)
    cnn = Embedder.from_checkpoint(out / "image_net", args.device).embed_images(gallery, indices=rows)
    readings = read_with_readers(load_readers(out, stems, args.device), image_items(gallery, rows))
    fusion, figures = fit_fusion(cnn, readings, weights, stems, _shared_maps(out, stems))
    image_card = read_card(out / "image_net")
    fit = {**figures, "seed": args.seed, "gallery": gallery.content_hash}
    card = ModelCard(
        net="estimator_fusion",
        config=_card_config(fusion),
        kind="image",
        preprocessing=image_card.preprocessing,
        embedding_dim=fusion.embedding_dim,
        posebit_version=image_card.posebit_version,
        training_data_hash=gallery.content_hash,
        metrics={
            "fit": fit,
            "image_net_sha256": image_card.sha256,
            **{f"{stem}_sha256": read_card(out / stem).sha256 for stem in stems},
        },
        notes="image_net blended with the pose estimator + "
        + ", ".join(f"{stem} (weight {weight})" for stem, weight in args.fusion_readers)
        + f"; maps fitted on {figures['with_person']} train images with a person (seed {args.seed})",
    )
    save_model(out / FUSED_STEM, fusion, card)


def _shared_maps(out: Path, stems: Sequence[str]) -> dict[int, int]:
    """Readers whose rows are trained to live in another reader's space (a keypoint reader's
    ``joints_model``) → that reader's index."""
    from posebrowser.nets.checkpoint import read_card

    shared: dict[int, int] = {}
    for reader, stem in enumerate(stems):
        owner = read_card(out / stem).config.get("joints_model")
        if isinstance(owner, str) and owner in stems and owner != stem:
            shared[reader] = list(stems).index(owner)
    return shared


def _card_config(fusion: Any) -> dict[str, Any]:
    """The card's config: the single-reader keys as before, the further readers only when there are any."""
    config = {
        "embedding_dim": fusion.embedding_dim,
        "weight": fusion.weight,
        "image_model": fusion.image_model,
        "joints_model": fusion.joints_model,
    }
    if len(fusion.weights) > 1:
        config["more_joints_models"] = list(fusion.joints_models[1:])
        config["more_weights"] = list(fusion.weights[1:])
    return config
