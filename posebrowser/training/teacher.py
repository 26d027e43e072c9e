"""A teacher embedding as a dense training target: the joints net fed the exact ground-truth 3-D joints.

The joints net (``models/joints_net``) maps a body-frame 3-D pose into a 128-d unit space laid out by the
3-D pose distance: fed ground-truth joints it retrieves the built-in test split at 3-D hit@1 85 %, where
the image net reaches ~32 %. ``--aux-teacher W`` asks the image net's embedding of each training image to
lie on the teacher's embedding of that image's true pose (``W · mean(1 − cos)``), next to the triplets:
an absolute target for every image instead of the batch's relative ones. A flipped batch uses the
teacher's embedding of the mirrored pose. Training only; the teacher is not part of the trained net.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor

from posebrowser.training.augment import flip_joints_3d
from posebrowser.training.aux_heads import batch_targets


class TeacherTargets:
    """Per training image, the teacher's unit embeddings of its pose and of the mirrored pose."""

    def __init__(
        self, plain: NDArray[np.float32], mirrored: NDArray[np.float32], device: torch.device
    ) -> None:
        known: NDArray[np.bool_] = np.asarray(
            np.isfinite(plain).all(axis=1) & np.isfinite(mirrored).all(axis=1), dtype=bool
        )
        self.known = torch.from_numpy(known)
        self.plain = torch.from_numpy(np.where(known[:, None], plain, 0.0).astype(np.float32))
        self.mirrored = torch.from_numpy(np.where(known[:, None], mirrored, 0.0).astype(np.float32))
        self.device = device

    @classmethod
    def from_joints(
        cls, joints_3d: NDArray[np.floating], teacher: str | Path, device: torch.device
    ) -> TeacherTargets:
        """The joints-net checkpoint ``teacher`` fed ``joints_3d`` (N, 16, 3) and their mirror images
        (rows with missing joints get no target)."""
        from posebrowser.errors import CheckpointError
        from posebrowser.nets.checkpoint import load_model
        from posebrowser.nets.joints_net import JointsNet, embed_joints

        module, card = load_model(teacher, expect_kind="image")
        if not isinstance(module, JointsNet):
            raise CheckpointError(f"The teacher must be a joints net, not a {card.net} model.", path=teacher)
        joints = np.asarray(joints_3d, dtype=np.float32)
        finite = np.isfinite(joints).all(axis=(1, 2))
        plain = np.full((len(joints), card.embedding_dim), np.nan, np.float32)
        mirrored = np.full_like(plain, np.nan)
        if finite.any():
            plain[finite] = embed_joints(module, joints[finite])
            mirrored[finite] = embed_joints(module, flip_joints_3d(joints[finite]))
        return cls(plain, mirrored, device)

    def loss(self, embeddings: Tensor, rows: NDArray[np.int64], flipped: bool) -> Tensor:
        """Mean (1 − cosine) between the batch's unit embeddings and their targets (known rows only)."""
        batch = batch_targets(self.known, self.plain, self.mirrored, rows, flipped, self.device)
        if batch is None:
            return embeddings.sum() * 0.0
        known, targets = batch
        cosine = torch.nn.functional.cosine_similarity(embeddings[known], targets[known], dim=1)
        return (1.0 - cosine).mean()
