"""EstimatorFusion: the image CNN's embedding blended with the pose estimator's reading of the same image.

Two readers of one image err differently: the CNN reads the pixels, the bundled pose estimator (BlazePose)
reads joints, which the joints net embeds. The joints net's space is its own, but both nets are trained on
the same 3-D ground-truth metric, so an orthogonal map (``rotation``, fitted by orthogonal Procrustes on
training images, :func:`~posebrowser.nets.mirror_view.fit_rotation`) carries it into the CNN's space, where
the readings are averaged with the weight ``w`` of the estimator's::

    e = normalise((1 − w) · cnn(x) + w · joints(estimate(x)) · R)      (a person was found)
    e = cnn(x)                                                          (no person found)

The same estimate may be read by more than one joints net — e.g. one in the facing frame, which keeps
the body's lean, and one in the torso frame, which cannot see the lean the estimator gets wrong when the
camera looks down (:func:`posebrowser.nets.joints_net.joints_frame`) — each with its own map and weight::

    e = normalise((1 − Σ wᵢ) · cnn(x) + Σ wᵢ · jointsᵢ(estimate(x)) · Rᵢ)

A reader may also read the image itself: the shipped model's second reader is the keypoint reader
(:mod:`posebrowser.nets.keypoint_reader`: 2-D landmarks lifted into the joints net's space, so it takes
the joints net's map), ``normalise(0.6 · cnn + (0.2 · joints + 0.2 · keypoints) · R)``. Where the
estimator finds nobody, the CNN's row is kept.

The result stays in the CNN's 128-d space, so the posebit net and the masks trained there still apply.
This module holds only the fitted maps and the blend; :class:`posebrowser.core.fused_embedder.FusedEmbedder`
runs the readers. A card's config names the models (``image_model``, ``joints_model`` and
``more_joints_models``: stems in the same models folder) and the weights (``weight``, ``more_weights``);
its tensors are ``rotation`` (D × D) and, with more readers, ``more_rotations`` (R × D × D).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

F32 = NDArray[np.float32]

#: The estimator's share chosen on the validation halves (0.2 / 0.25 / 0.3 / 0.35 measured).
DEFAULT_WEIGHT = 0.3


class EstimatorFusion(nn.Module):
    """The fitted maps and the weights of the estimator's readings (see the module doc)."""

    def __init__(
        self,
        embedding_dim: int = 128,
        weight: float = DEFAULT_WEIGHT,
        image_model: str = "image_net",
        joints_model: str = "joints_net",
        more_joints_models: Sequence[str] = (),
        more_weights: Sequence[float] = (),
    ) -> None:
        super().__init__()
        weights = (float(weight), *(float(w) for w in more_weights))
        if len(more_joints_models) != len(more_weights):
            raise ValueError("more_joints_models and more_weights must have the same length")
        if any(not 0.0 <= w <= 1.0 for w in weights) or sum(weights) > 1.0 + 1e-9:
            raise ValueError(f"each weight must lie in [0, 1] and their sum at most 1, not {weights}")
        #: The estimator readers' weights, the first reader's first.
        self.weights = weights
        self.image_model = str(image_model)
        #: Every joints model's stem, the first reader's first.
        self.joints_models = (str(joints_model), *(str(m) for m in more_joints_models))
        self.embedding_dim = int(embedding_dim)
        self.register_buffer("rotation", torch.eye(int(embedding_dim)))
        if len(weights) > 1:
            eye = torch.eye(int(embedding_dim)).expand(len(weights) - 1, -1, -1).clone()
            self.register_buffer("more_rotations", eye)

    @property
    def weight(self) -> float:
        """The first reader's weight (the card's ``weight``)."""
        return self.weights[0]

    @property
    def joints_model(self) -> str:
        """The first reader's joints model (the card's ``joints_model``)."""
        return self.joints_models[0]

    def rotations(self) -> list[torch.Tensor]:
        """Each reader's (D, D) map, the first reader's first."""
        first: torch.Tensor = self.rotation  # type: ignore[assignment]
        if len(self.weights) == 1:
            return [first]
        more: torch.Tensor = self.more_rotations  # type: ignore[assignment]
        return [first, *more.unbind(0)]

    def set_rotation(self, rotation: NDArray[np.floating], reader: int = 0) -> None:
        """Install a fitted (D, D) orthogonal map of ``reader``: its rows · rotation lie in the CNN's
        space."""
        from posebrowser.nets.mirror_view import install_rotation

        if not 0 <= reader < len(self.weights):
            raise ValueError(f"reader {reader} does not exist; this fusion has {len(self.weights)}")
        install_rotation(self.rotations()[reader], rotation)

    def forward(self, rows: torch.Tensor) -> torch.Tensor:
        """``(N, 1 + R, D)``: each image's CNN row and its R joints-net rows → ``(N, D)`` blended unit
        rows."""
        mixed = (1.0 - sum(self.weights)) * rows[:, 0]
        for reader, (weight, rotation) in enumerate(zip(self.weights, self.rotations(), strict=True)):
            mixed = mixed + weight * (rows[:, 1 + reader] @ rotation)
        return torch.nn.functional.normalize(mixed, dim=1)

    @torch.no_grad()
    def blend(self, image: F32, joints: F32 | Sequence[F32], person: NDArray[np.bool_]) -> F32:
        """``(N, D)`` unit rows from the CNN's rows, each joints net's rows (one array, or one per reader)
        and whether a person was found.

        A row without a person — or whose estimate a reader cannot read (a NaN row: a torso frame needs a
        spine) — is the CNN's row unchanged; a NaN CNN row (unreadable image) stays NaN.
        """
        image = np.asarray(image, dtype=np.float32)
        readers = [joints] if isinstance(joints, np.ndarray) else list(joints)
        if len(readers) != len(self.weights):
            raise ValueError(f"{len(readers)} joints readings for a fusion of {len(self.weights)} readers")
        out = image.copy()
        found = np.asarray(person, dtype=bool) & np.isfinite(image).all(axis=1)
        for reading in readers:
            found &= np.isfinite(np.asarray(reading)).all(axis=1)
        if found.any():
            found_rows = [np.asarray(reading, dtype=np.float32)[found] for reading in readers]
            rows = np.stack([image[found], *found_rows], axis=1)
            rotation: torch.Tensor = self.rotation  # type: ignore[assignment]
            out[found] = self(torch.from_numpy(rows).to(rotation.dtype)).numpy()
        return out
