"""``posebrowser train mirror-view`` (also the last step of ``train all --mirror-view``): give the trained
image net its mirrored second view (:class:`~posebrowser.nets.mirror_view.MirrorViewNet`).

The map that rotates the mirrored view back is fitted on :data:`FIT_IMAGES` images of the training
gallery's train split, drawn with ``--seed`` — never on val or test images. The posebit net and the masks
stay as trained against the plain view: on the validation halves the averaged view kept their questions'
precision (mask / conditional P@10 75.9 → 76.7 / 76.3 → 77.5 with J), so they are not retrained. The
net saved as ``<out>/image_net`` then embeds both views in every caller; the card's config gains
``"mirror_view": true`` and its metrics the fit's figures.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from posebrowser.training.train_split import TrainData

#: Training images the mirror map is fitted on (128 dimensions; measured with 2,000 on the val halves).
FIT_IMAGES = 2000


def fit_positions(train_count: int, seed: int) -> NDArray[np.int64]:
    """Sorted positions in the train split of the images the map is fitted on (the same for a given split
    and seed, in ``train all`` and in ``train mirror-view``)."""
    rng = np.random.default_rng(seed)
    chosen = rng.choice(train_count, size=min(FIT_IMAGES, train_count), replace=False)
    return np.sort(chosen).astype(np.int64)


def fit_mirror_view(
    net: Any,
    preprocessing: Any,
    images: NDArray[np.uint8],
    device: str,
    plain: NDArray[np.float32] | None = None,
) -> tuple[Any, dict[str, float]]:
    """The plain net (unwrapped if it already has a mirrored view) wrapped with a mirror map fitted on
    ``images`` (N, H, W, 3) uint8; ``plain`` are their plain-view embeddings when already computed.
    Returns (the wrapped net in eval mode on the CPU, the fit's figures for the card)."""
    from posebrowser.core.embedder import Embedder
    from posebrowser.nets.mirror_view import MirrorViewNet, fit_rotation, unwrap

    inner = unwrap(net)
    embedder = Embedder(inner, preprocessing, device, precision="fp32")
    batches = list(images)
    if plain is None:
        plain = embedder.embed_images(batches, strict=True)
    mirrored = embedder.embed_images(batches, strict=True, mirror=True)
    rotation = fit_rotation(plain, mirrored)
    dim = int(plain.shape[1])
    wrapped = MirrorViewNet(inner.cpu(), dim)
    wrapped.set_rotation(rotation)
    figures = {
        "fit_images": len(batches),
        "mean_cosine_plain_mirrored": round(float(np.mean(np.sum(plain * mirrored, axis=1))), 4),
        "mean_cosine_after_map": round(float(np.mean(np.sum(plain * (mirrored @ rotation.T), axis=1))), 4),
    }
    return wrapped.eval(), figures


def _fit_images(args: argparse.Namespace, data: TrainData | None) -> tuple[Any, NDArray[np.uint8], Any]:
    """(gallery, the fit images, their plain embeddings if ``data`` holds them)."""
    from posebrowser.data.loading import open_gallery
    from posebrowser.training.train_split import decode_rows

    if data is not None:
        positions = fit_positions(len(data.rows), args.seed)
        plain = None if data.embeddings is None else data.embeddings[positions]
        return data.gallery, data.images[positions], plain
    gallery = open_gallery(args.gallery)
    return gallery, decode_rows(gallery, fit_rows(gallery, args), None, not args.quiet, "mirror-fit"), None


def fit_rows(gallery: Any, args: argparse.Namespace) -> NDArray[np.int64]:
    """Gallery rows of the images a map is fitted on: :func:`fit_positions` of the train split, that split
    cut to ``--max-train-images`` (or the ``--tiny`` preset's size) as training cuts it."""
    from posebrowser.training.train_split import train_rows

    rows = train_rows(gallery, args.tiny, args.max_train_images)
    return rows[fit_positions(len(rows), args.seed)]


def run_mirror_view(
    args: argparse.Namespace, data: TrainData | None = None, image: tuple[Any, Any] | None = None
) -> None:
    """Fit the mirror map of ``<out>/image_net`` on the train split of ``--gallery`` and save the net with
    its mirrored view in place (a net that already has one is refitted from its plain net)."""
    from posebrowser.nets.checkpoint import load_model, read_card, save_model
    from posebrowser.nets.mirror_view import CONFIG_KEY
    from posebrowser.nets.preprocessing import Preprocessing

    stem = Path(args.out) / "image_net"
    if image is not None:  # train all: the net it just saved, already in memory
        (net, preprocessing), card = image, read_card(stem)
    else:
        net, card = load_model(stem, expect_kind="image")
        preprocessing = Preprocessing.from_dict(card.preprocessing)
    gallery, images, plain = _fit_images(args, data)
    wrapped, figures = fit_mirror_view(net, preprocessing, images, args.device, plain)
    fit = {**figures, "seed": args.seed, "gallery": gallery.content_hash}
    note = f" {CONFIG_KEY}: fitted on {fit['fit_images']} train images (seed {args.seed})"
    card = replace(
        card,
        config={**card.config, CONFIG_KEY: True},
        metrics={**card.metrics, CONFIG_KEY: fit},
        notes=card.notes.split(f" {CONFIG_KEY}:")[0] + note,
        sha256="",
        created="",
    )
    save_model(stem, wrapped, card)
