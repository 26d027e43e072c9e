"""Which embedder an image model in the models folder needs: the CNN alone, the pose estimator + joints
net, or the two fused — and whose embedding space its rows live in."""

from __future__ import annotations

from pathlib import Path

from posebrowser.core.embedder import Embedder
from posebrowser.core.fused_embedder import FUSION_NET, FusedEmbedder
from posebrowser.core.joints_embedder import JOINTS_NET, JointsEmbedder


def image_embedder_from_checkpoint(
    path: str | Path, device: str = "auto", estimate_cache_dir: str | Path | None = None
) -> Embedder | JointsEmbedder | FusedEmbedder:
    """The embedder of an image model: the CNN :class:`Embedder`, :class:`JointsEmbedder` for a
    ``joints_mlp`` card (estimator + joints net) or :class:`FusedEmbedder` for an ``estimator_fusion``
    card (both, blended); their estimates go to ``estimate_cache_dir`` (the engine's, so a photo folder
    annotated while opening is not estimated a second time)."""
    from posebrowser.nets.checkpoint import read_card

    net = read_card(path).net
    if net == JOINTS_NET:
        return JointsEmbedder.from_checkpoint(path, device, estimate_cache_dir)
    if net == FUSION_NET:
        return FusedEmbedder.from_checkpoint(path, device, estimate_cache_dir)
    return Embedder.from_checkpoint(path, device)


def embedding_space(embedder: object, image_model: str) -> str:
    """The models-folder name of the image model whose space ``embedder``'s rows live in (the fused model
    lives in its CNN's; any other model in its own), which decides whether the posebit net applies."""
    return str(getattr(embedder, "embedding_space", image_model))
