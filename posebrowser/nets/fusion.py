"""EstimatorFusion: the image CNN's embedding blended with the pose estimator's reading of the same image.

Two readers of one image err differently: the CNN reads the pixels, the bundled pose estimator (BlazePose)
reads joints, which the joints net embeds. The joints net's space is its own, but both nets are trained on
the same 3-D ground-truth metric, so an orthogonal map (``rotation``, fitted by orthogonal Procrustes on
training images, :func:`~posebrowser.nets.mirror_view.fit_rotation`) carries it into the CNN's space, where
the two readings are averaged with the weight ``w`` of the estimator's::

    e = normalise((1 − w) · cnn(x) + w · joints(estimate(x)) · R)      (a person was found)
    e = cnn(x)                                                          (no person found)

The result stays in the CNN's 128-d space, so the posebit net and the masks trained there still apply.
This module holds only the fitted map and the blend; :class:`posebrowser.core.fused_embedder.FusedEmbedder`
runs the two readers. A card's config names the two models (``image_model``, ``joints_model``: stems in
the same models folder) and ``weight``; its tensor is ``rotation`` (D × D).
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

F32 = NDArray[np.float32]

#: The estimator's share chosen on the validation halves (0.2 / 0.25 / 0.3 / 0.35 measured).
DEFAULT_WEIGHT = 0.3


class EstimatorFusion(nn.Module):
    """The fitted map and the weight of the estimator's reading (see the module doc)."""

    def __init__(
        self,
        embedding_dim: int = 128,
        weight: float = DEFAULT_WEIGHT,
        image_model: str = "image_net",
        joints_model: str = "joints_net",
    ) -> None:
        super().__init__()
        if not 0.0 <= float(weight) <= 1.0:
            raise ValueError(f"weight must lie in [0, 1], not {weight}")
        self.weight = float(weight)
        self.image_model, self.joints_model = str(image_model), str(joints_model)
        self.embedding_dim = int(embedding_dim)
        self.register_buffer("rotation", torch.eye(int(embedding_dim)))

    def set_rotation(self, rotation: NDArray[np.floating]) -> None:
        """Install a fitted (D, D) orthogonal map: joints-net rows · rotation lie in the CNN's space."""
        from posebrowser.nets.mirror_view import install_rotation

        install_rotation(self.rotation, rotation)  # type: ignore[arg-type]

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        """``(N, 2, D)``: each image's CNN row and joints-net row → ``(N, D)`` blended unit rows."""
        rotation: torch.Tensor = self.rotation  # type: ignore[assignment]
        mixed = (1.0 - self.weight) * pairs[:, 0] + self.weight * (pairs[:, 1] @ rotation)
        return torch.nn.functional.normalize(mixed, dim=1)

    @torch.no_grad()
    def blend(self, image: F32, joints: F32, person: NDArray[np.bool_]) -> F32:
        """``(N, D)`` unit rows from the CNN's rows, the joints net's rows and whether a person was found.

        A row without a person is the CNN's row unchanged; a NaN CNN row (unreadable image) stays NaN.
        """
        image = np.asarray(image, dtype=np.float32)
        out = image.copy()
        found = np.asarray(person, dtype=bool) & np.isfinite(image).all(axis=1)
        if found.any():
            pairs = np.stack([image[found], np.asarray(joints, dtype=np.float32)[found]], axis=1)
            rotation: torch.Tensor = self.rotation  # type: ignore[assignment]
            out[found] = self(torch.from_numpy(pairs).to(rotation.dtype)).numpy()
        return out
