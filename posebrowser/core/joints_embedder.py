"""The joints image model: an image is embedded by the pose estimator, then the joints net.

:class:`JointsEmbedder` has the image embedder's interface (``embed_images``, ``failures``,
``model_sha256``, ``module``, ``device``), so the engine can use it as its image model
(:func:`posebrowser.core.image_models.image_embedder_from_checkpoint` picks it for a ``joints_mlp``
model card). Each image goes through
:class:`posebrowser.estimate.estimator.PoseEstimator` (results kept in the per-image estimate cache, so a
second pass over a gallery reads them back), its 3-D joints are put in the joints-net frame and embedded.

**An image in which no person is found** has no pose to embed. Two policies:

* ``"exclude"`` (the engine's default): the row is NaN and ``(row, message)`` goes to :attr:`failures`,
  exactly like an unreadable image — the engine leaves it out of the gallery, index and map and names it
  once; ``strict`` raises :class:`DataError` instead (an image query with no person in it).
* ``"neutral"`` (evaluation): the row is the net's embedding of its mean training pose, a zero-information
  row that keeps every query and database item in place so all methods are scored on the same items;
  such rows are listed in :attr:`no_person_rows`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from posebrowser.core.device import DeviceChoice, resolve_device
from posebrowser.core.embedder import _module_fingerprint, image_items
from posebrowser.errors import CheckpointError, DataError, JobCancelledError
from posebrowser.estimate.cache import EstimateCache, default_estimate_cache_dir, estimate_cached
from posebrowser.estimate.result import PoseEstimate
from posebrowser.nets.joints_net import embed_joints

if TYPE_CHECKING:
    from posebrowser.core.embedder import Embedder
    from posebrowser.estimate.estimator import PoseEstimator
    from posebrowser.nets.joints_net import JointsNet

F32 = NDArray[np.float32]
NoPersonPolicy = Literal["exclude", "neutral"]
JOINTS_NET = "joints_mlp"
NO_PERSON_MESSAGE = "the pose estimator found no person in the image, so the joints model cannot embed it"


class JointsEmbedder:
    """Images → pose estimator → joints net → ``(N, 128)`` float32 unit rows (see the module doc)."""

    def __init__(
        self,
        module: JointsNet,
        estimator: PoseEstimator,
        cache: EstimateCache | None = None,
        device: str | DeviceChoice = "cpu",
        model_sha256: str | None = None,
        no_person: NoPersonPolicy = "exclude",
    ) -> None:
        if no_person not in ("exclude", "neutral"):
            raise ValueError(f"no_person must be 'exclude' or 'neutral', not {no_person!r}")
        self.device = device if isinstance(device, DeviceChoice) else resolve_device(device)
        self.module = module.eval().to(self.device.name)
        self.estimator = estimator
        self.cache = cache
        self.no_person: NoPersonPolicy = no_person
        self.model_sha256 = model_sha256 or _module_fingerprint(module)
        self.failures: list[tuple[int, str]] = []
        self.no_person_rows: list[int] = []

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path,
        device: str = "auto",
        cache_dir: str | Path | None = None,
        *,
        estimator: PoseEstimator | None = None,
        cache: EstimateCache | None = None,
    ) -> JointsEmbedder:
        """Load a ``joints_mlp`` model with the bundled estimator and the default estimate cache (or the
        ``estimator`` and ``cache`` given, shared with another embedder); :attr:`model_sha256` covers both
        the weights and the estimator version."""
        from posebrowser.estimate.estimator import PoseEstimator
        from posebrowser.nets.checkpoint import load_model
        from posebrowser.nets.joints_net import JointsNet

        module, card = load_model(path, expect_kind="image")
        if not isinstance(module, JointsNet):
            raise CheckpointError(f"This is a {card.net} model, not a {JOINTS_NET} model.", path=path)
        estimator = estimator or PoseEstimator()
        cache = cache or EstimateCache(cache_dir or default_estimate_cache_dir(), estimator.version)
        # what the embeddings depend on: the net's weights and the estimator (bundle, mapping, threshold)
        identity = hashlib.sha256(f"{card.sha256}|{estimator.version}".encode()).hexdigest()
        return cls(module, estimator, cache, device, identity)

    def estimated_joints(self, item: Any) -> NDArray[np.float32] | None:
        """``(16, 3)`` estimated joints of one image (path, bytes, PIL image or array), None without a
        person. Unreadable files raise :class:`DataError` (``CorruptFileError``)."""
        outcome, _ = estimate_cached(self.estimator, item, self.cache)
        return outcome.joints_3d if isinstance(outcome, PoseEstimate) else None

    def embed_joints(self, joints: NDArray[np.floating]) -> F32:
        """``(N, 16, 3)`` Z-up joints (any frame) → ``(N, D)`` float32 unit rows."""
        return embed_joints(self.module, joints, self.device.name)

    def neutral_row(self) -> F32:
        """``(D,)`` the zero-information row (the net's mean training pose, embedded)."""
        import torch

        with torch.inference_mode():
            row = torch.nn.functional.normalize(self.module.neutral_embedding().float(), dim=1)
        return np.asarray(row.cpu().numpy()[0], dtype=np.float32)

    def embed_images(
        self,
        sources: Sequence[Any] | Any,
        batch_size: int = 256,
        progress: Callable[[int, int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        indices: Sequence[int] | NDArray[np.integer] | None = None,
        strict: bool = False,
    ) -> F32:
        """Embed images → ``(N, D)`` float32 (the image embedder's contract; no-person rows per policy).

        An unreadable image is a NaN row listed in :attr:`failures` (``strict``: :class:`DataError`).
        """
        items = image_items(sources, indices)
        self.failures, self.no_person_rows = [], []
        dim = int(self.neutral_row().shape[0])
        out = np.full((len(items), dim), np.nan, dtype=np.float32)
        for start in range(0, len(items), batch_size):
            if cancel is not None and cancel():
                raise JobCancelledError("Embedding was cancelled.")
            chunk = range(start, min(len(items), start + batch_size))
            found_rows, joints = _stacked(self._estimate_chunk(items, chunk, strict))
            if len(found_rows):
                out[found_rows] = self.embed_joints(joints)
            if progress is not None:
                progress(chunk.stop, len(items))
        if self.no_person == "neutral" and self.no_person_rows:
            out[self.no_person_rows] = self.neutral_row()
        return out

    def _estimate_chunk(
        self, items: Sequence[Any], chunk: range, strict: bool
    ) -> dict[int, NDArray[np.float32]]:
        """Estimated joints by row of the rows in ``chunk`` that have a person; records the others."""
        found: dict[int, NDArray[np.float32]] = {}
        for row in chunk:
            try:
                joints = self.estimated_joints(items[row])
            except DataError as error:
                if strict:
                    raise
                self.failures.append((row, str(error)))
                continue
            if joints is not None:
                found[row] = joints
                continue
            if strict:
                raise DataError(
                    f"{NO_PERSON_MESSAGE[0].upper()}{NO_PERSON_MESSAGE[1:]}.",
                    path=items[row] if isinstance(items[row], str | Path) else None,
                )
            self.no_person_rows.append(row)
            if self.no_person == "exclude":
                self.failures.append((row, NO_PERSON_MESSAGE))
        return found


#: The image models a fusion may read besides joints nets: they read the image itself, not the estimate.
IMAGE_READER_NETS = ("keypoint_reader",)


def load_readers(
    folder: str | Path, stems: Sequence[str], device: str = "auto", cache_dir: str | Path | None = None
) -> list[JointsEmbedder | Embedder]:
    """The reader models ``stems`` of ``folder``: joints models share one estimator and one estimate cache
    (the first one's, which must be a joints model: its estimate says whether a person was found), as
    several readers of the same estimate; an image reader (:data:`IMAGE_READER_NETS`, e.g. the keypoint
    reader) reads the image itself."""
    from posebrowser.core.embedder import Embedder
    from posebrowser.nets.checkpoint import read_card

    first = JointsEmbedder.from_checkpoint(Path(folder) / stems[0], device, cache_dir)
    readers: list[JointsEmbedder | Embedder] = [first]
    for stem in stems[1:]:
        path = Path(folder) / stem
        if read_card(path).net in IMAGE_READER_NETS:
            readers.append(Embedder.from_checkpoint(path, device))
        else:
            readers.append(JointsEmbedder.from_checkpoint(path, device, estimator=first.estimator,
                                                          cache=first.cache))
    return readers


def read_with_readers(
    readers: Sequence[JointsEmbedder | Embedder], items: Sequence[Any], batch_size: int = 256
) -> list[F32]:
    """Each reader's ``(N, D)`` rows of ``items``: the joints readers' from **one** estimate per image (the
    first reader's estimator and cache; NaN rows where nobody is found or the estimator cannot read the
    image), an image reader's from the image, read only where that estimate found a person (elsewhere the
    fusion keeps the CNN's row, so the reading would be thrown away: NaN rows there, and where the image
    cannot be read)."""
    first = readers[0]
    if not isinstance(first, JointsEmbedder):
        raise CheckpointError(
            "The first reader of a fusion must be a joints model (its estimate finds the person)."
        )
    first.failures, first.no_person_rows = [], []  # the first reader's record of this call, as embed_images'
    dim = int(first.neutral_row().shape[0])
    readings = [np.full((len(items), dim), np.nan, dtype=np.float32) for _ in readers]
    joints_readers = [(reading, reader) for reading, reader in zip(readings, readers, strict=True)
                      if isinstance(reader, JointsEmbedder)]
    for start in range(0, len(items), batch_size):
        chunk = range(start, min(len(items), start + batch_size))
        rows, joints = _stacked(first._estimate_chunk(items, chunk, strict=False))
        if len(rows):
            for reading, reader in joints_readers:
                reading[rows] = reader.embed_joints(joints)
    with_person = np.flatnonzero(np.isfinite(readings[0]).all(axis=1))
    for reading, image_reader in zip(readings, readers, strict=True):
        if not isinstance(image_reader, JointsEmbedder) and len(with_person):
            reading[with_person] = image_reader.embed_images([items[int(row)] for row in with_person])
    return readings


def _stacked(found: dict[int, NDArray[np.float32]]) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """The rows of ``found`` (ascending) and their joints stacked ``(M, 16, 3)`` (``(0,)`` when empty)."""
    rows = np.fromiter(sorted(found), dtype=np.int64)
    return rows, (np.stack([found[int(r)] for r in rows]) if found else np.zeros(0, np.float32))

