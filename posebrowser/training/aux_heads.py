"""Auxiliary pose-regression heads for image-net training: the exact ground-truth joints as dense targets.

Each head is a ``Linear(D → 2·16 or 3·16)`` on the unit embedding (fixed gain 8, like the posebit head),
trained with a mean-squared error on standardised targets and discarded after training. Reading the joints
*linearly* off the embedding asks the embedding itself (not a hidden layer) to lay poses out by their
joint positions, which is what a nearest-neighbour query uses.

Targets are chosen to be what an image can show, whatever the crop jitter and flip of the augmentation:

* ``joints_3d``: centred on the pelvis and turned about the vertical axis so the hips face +x
  (:func:`posebrowser.pose.similarity.facing_aligned`): the person's body-frame pose, in metres;
* ``joints_2d``: centred on their centroid and scaled to unit RMS size: the pose's image-plane shape,
  which a crop shift or zoom does not change.

A flipped batch uses the mirrored targets (L/R swapped, mirrored coordinates), computed once.

A *trunk head* reads the same 3-D targets off the pooled trunk features that enter the net's ``embedding``
layer instead (gain 1, :class:`FeatureTap`): it asks the trunk to hold the 3-D pose without asking the
embedding to lay poses out linearly by their joints.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor, nn

from posebrowser.pose import skeleton as sk
from posebrowser.pose.similarity import facing_aligned
from posebrowser.training.augment import flip_joints_2d, flip_joints_3d

JointKind = Literal["joints_3d", "joints_2d"]
GAIN = 8.0


def body_frame_targets(joints_3d: NDArray[np.floating]) -> NDArray[np.float32]:
    """(N, 16, 3) Z-up world joints → (N, 48) pelvis-centred, facing-aligned joints (metres)."""
    aligned = facing_aligned(np.asarray(joints_3d, dtype=np.float64))
    centred = aligned - aligned[:, sk.PELVIS : sk.PELVIS + 1]
    return np.asarray(centred.reshape(len(centred), -1), dtype=np.float32)


def image_shape_targets(joints_2d: NDArray[np.floating]) -> NDArray[np.float32]:
    """(N, 16, 2) pixel joints → (N, 32) centroid-centred joints at unit RMS size."""
    points = np.asarray(joints_2d, dtype=np.float64)
    centred = points - points.mean(axis=1, keepdims=True)
    size = np.sqrt(np.mean(np.sum(centred**2, axis=-1), axis=1))
    scaled = centred / np.maximum(size, 1e-6)[:, None, None]
    return np.asarray(scaled.reshape(len(scaled), -1), dtype=np.float32)


def targets_for(kind: JointKind, joints: NDArray[np.floating], flipped: bool) -> NDArray[np.float32]:
    """The regression targets of ``kind`` for unflipped or horizontally flipped images."""
    if kind == "joints_3d":
        return body_frame_targets(flip_joints_3d(joints) if flipped else joints)
    return image_shape_targets(flip_joints_2d(joints, width=0) if flipped else joints)


class AuxJointHead:
    """Linear(D → 16·k) on the embedding (×``gain``), or with ``gain`` 1 on other features such as the
    trunk's (:class:`FeatureTap`); MSE against standardised ``kind`` targets."""

    def __init__(
        self,
        kind: JointKind,
        joints: NDArray[np.floating],
        dim: int,
        device: torch.device,
        gain: float = GAIN,
    ) -> None:
        plain = targets_for(kind, joints, flipped=False)
        mirrored = targets_for(kind, joints, flipped=True)
        both = np.isfinite(plain).all(axis=1) & np.isfinite(mirrored).all(axis=1)
        finite: NDArray[np.bool_] = np.asarray(both, dtype=bool)
        mean = plain[finite].mean(axis=0) if finite.any() else np.zeros(plain.shape[1], np.float32)
        std = plain[finite].std(axis=0) + 1e-3 if finite.any() else np.ones(plain.shape[1], np.float32)
        self.kind = kind
        self.gain = float(gain)
        self.mean, self.std = mean, std  # predictions × std + mean are in the targets' own units
        self.plain = torch.from_numpy(np.where(finite[:, None], (plain - mean) / std, 0.0).astype(np.float32))
        self.mirrored = torch.from_numpy(
            np.where(finite[:, None], (mirrored - mean) / std, 0.0).astype(np.float32)
        )
        self.known = torch.from_numpy(finite)
        self.device = device
        generator_state = torch.random.get_rng_state()
        self.head = nn.Linear(dim, plain.shape[1]).to(device)
        torch.random.set_rng_state(generator_state)  # the net's batches stay as without the head

    def loss(self, embeddings: Tensor, rows: NDArray[np.int64], flipped: bool) -> Tensor:
        batch = batch_targets(self.known, self.plain, self.mirrored, rows, flipped, self.device)
        if batch is None:
            return embeddings.sum() * 0.0
        known, targets = batch
        predicted = self.head(embeddings * self.gain)
        return nn.functional.mse_loss(predicted[known], targets[known])


def batch_targets(
    known: Tensor,
    plain: Tensor,
    mirrored: Tensor,
    rows: NDArray[np.int64],
    flipped: bool,
    device: torch.device,
) -> tuple[Tensor, Tensor] | None:
    """A batch's rows of per-image targets: (which rows have one, the targets — the mirrored ones for a
    flipped batch), on ``device``; None when no row of the batch has a target."""
    index = torch.from_numpy(np.asarray(rows, dtype=np.int64))
    mask = known[index].to(device)
    if not bool(mask.any()):
        return None
    return mask, (mirrored if flipped else plain)[index].to(device)


class FeatureTap:
    """Keeps the input of ``module`` (e.g. the pooled trunk features entering an image net's ``embedding``
    layer) — or with ``output`` its output (e.g. a trunk stage's feature map) — from the last forward pass,
    so a head can read the trunk without the net returning it."""

    def __init__(self, module: nn.Module, output: bool = False) -> None:
        self.features: Tensor | None = None
        self.output = output
        self._handle = module.register_forward_hook(self._keep)

    def _keep(self, _module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
        self.features = output if self.output else inputs[0]

    def take(self) -> Tensor:
        """The features of the last forward pass (raises if there was none since the last take)."""
        if self.features is None:
            raise RuntimeError("no forward pass has run through the tapped module")
        features, self.features = self.features, None
        return features

    def remove(self) -> None:
        self._handle.remove()


def trunk_dim(net: nn.Module) -> int | None:
    """Width of the features entering ``net.embedding`` (a Linear), or None for a net without one."""
    layer = getattr(net, "embedding", None)
    return int(layer.in_features) if isinstance(layer, nn.Linear) else None


#: Full-batch Adam steps and learning rate of :func:`fit_heads_on_frozen` (a linear probe converges well
#: within them on a few thousand 128-d embeddings).
PROBE_STEPS = 300
PROBE_LR = 1e-2

#: A head's loss on (embeddings, rows, flipped), with its weight and its parameters.
HeadTerm = tuple[float, Callable[[Tensor, NDArray[np.int64], bool], Tensor], Sequence[nn.Parameter]]


def fit_heads_on_frozen(embeddings: Tensor, terms: Sequence[HeadTerm], steps: int = PROBE_STEPS) -> float:
    """Fit fresh auxiliary heads to fixed embeddings of every training row; returns the final loss.

    Fine-tuning a trained net with newly initialised heads lets their large first gradients pull the
    embedding towards whatever the heads read off it; probing first and fine-tuning after (LP-FT,
    Kumar et al. 2022) starts the fine-tune from heads that already agree with the embedding.
    """
    rows = np.arange(len(embeddings), dtype=np.int64)
    params = [param for _, _, head_params in terms for param in head_params]
    if not params:
        return 0.0
    optimizer = torch.optim.Adam(params, lr=PROBE_LR)
    fixed = embeddings.detach()
    loss = fixed.sum() * 0.0
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = sum((weight * term(fixed, rows, False) for weight, term, _ in terms), fixed.sum() * 0.0)
        loss.backward()
        optimizer.step()
    return float(loss.detach())
