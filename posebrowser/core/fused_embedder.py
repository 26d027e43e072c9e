"""The fused image model: the image CNN, the pose estimator and (in the shipped model) the keypoint reader
read each image, and the readings are blended in the CNN's space
(:class:`posebrowser.nets.fusion.EstimatorFusion`).

:class:`FusedEmbedder` has the image embedder's interface (``embed_images``, ``failures``,
``model_sha256``, ``module``, ``device``, ``preprocessing``, ``prepare_batch``), so the engine, the command
line and the evaluation use it like the CNN's :class:`~posebrowser.core.embedder.Embedder`. Its rows live
in the CNN's space (:attr:`embedding_space`): the posebit net and the masks apply. An image in which the
estimator finds nobody keeps the CNN's row; an unreadable image is a NaN row listed in :attr:`failures`,
exactly as with the CNN alone. The estimates go through the per-image estimate cache, so a second pass
over a gallery reads them back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from posebrowser.core.embedder import image_items
from posebrowser.core.joints_embedder import read_with_readers
from posebrowser.errors import CheckpointError, JobCancelledError

if TYPE_CHECKING:
    from posebrowser.core.embedder import Embedder
    from posebrowser.core.joints_embedder import JointsEmbedder
    from posebrowser.nets.fusion import EstimatorFusion

F32 = NDArray[np.float32]
FUSION_NET = "estimator_fusion"
#: Images per step: one CNN batch, then the estimator over the same images.
CHUNK = 64


class FusedEmbedder:
    """CNN embedder + readers (joints embedders: estimator + a joints net each, one estimator, one estimate
    per image; image readers such as the keypoint reader) + the fitted fusion (see the module doc)."""

    def __init__(
        self,
        image: Embedder,
        joints: JointsEmbedder | Sequence[JointsEmbedder | Embedder],
        fusion: EstimatorFusion,
        model_sha256: str,
    ) -> None:
        from posebrowser.core.joints_embedder import JointsEmbedder

        readers = [joints] if not isinstance(joints, Sequence) else list(joints)
        if len(readers) != len(fusion.weights):
            raise ValueError(f"{len(readers)} readers for a fusion of {len(fusion.weights)} readers")
        if not isinstance(readers[0], JointsEmbedder):
            raise ValueError("the first reader of a fusion must be a joints embedder")
        self.image, self.readers, self.fusion = image, readers, fusion
        #: The first joints embedder: its estimator and cache make the one estimate every reader reads, and
        #: where it finds nobody the CNN's row is kept.
        self.joints: JointsEmbedder = readers[0]
        self.model_sha256 = model_sha256
        self.embedding_space = fusion.image_model
        self.failures: list[tuple[int, str]] = []
        self.no_person_rows: list[int] = []
        #: The CNN's own rows of the last :meth:`embed_images` call (NaN where unreadable): the engine keeps
        #: them in the CNN's embedding cache, so they are not computed again.
        self.last_cnn_rows: F32 | None = None

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, device: str = "auto", estimate_cache_dir: str | Path | None = None
    ) -> FusedEmbedder:
        """Load an ``estimator_fusion`` model and the models its card names (stems in its folder; the
        joints embedders share one estimator and estimate cache); :attr:`model_sha256` covers them all and
        the estimator version."""
        from posebrowser.core.embedder import Embedder
        from posebrowser.core.joints_embedder import load_readers
        from posebrowser.nets.checkpoint import load_model
        from posebrowser.nets.fusion import EstimatorFusion

        module, card = load_model(path, expect_kind="image")
        if not isinstance(module, EstimatorFusion):
            raise CheckpointError(f"This is a {card.net} model, not an {FUSION_NET} model.", path=path)
        folder = Path(path).parent
        image = Embedder.from_checkpoint(folder / module.image_model, device)
        readers = load_readers(folder, module.joints_models, device, estimate_cache_dir)
        parts = [card.sha256, image.model_sha256, *(reader.model_sha256 for reader in readers)]
        identity = hashlib.sha256("|".join(parts).encode()).hexdigest()
        return cls(image, readers, module, identity)

    # the CNN's side, for callers that look inside the image model (status bar, untrained baseline)
    @property
    def module(self) -> Any:
        return self.image.module

    @property
    def device(self) -> Any:
        return self.image.device

    @property
    def preprocessing(self) -> Any:
        return self.image.preprocessing

    def prepare_batch(self, *args: Any, **kwargs: Any) -> Any:
        return self.image.prepare_batch(*args, **kwargs)

    def embed_images(
        self,
        sources: Sequence[Any] | Any,
        batch_size: int = CHUNK,
        progress: Callable[[int, int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        indices: Sequence[int] | NDArray[np.integer] | None = None,
        strict: bool = False,
    ) -> F32:
        """Embed images → ``(N, D)`` float32 unit rows (NaN for an unreadable image; ``strict``: raise)."""
        items = image_items(sources, indices)
        self.failures, self.no_person_rows, self.last_cnn_rows = [], [], None
        parts: list[F32] = []
        cnn_parts: list[F32] = []
        for start in range(0, len(items), max(1, batch_size)):
            if cancel is not None and cancel():
                raise JobCancelledError("Embedding was cancelled.")
            chunk = items[start : start + max(1, batch_size)]
            fused, cnn = self._embed_chunk(chunk, start, strict)
            parts.append(fused)
            cnn_parts.append(cnn)
            if progress is not None:
                progress(start + len(chunk), len(items))
        if not parts:
            return np.zeros((0, self.fusion.embedding_dim), dtype=np.float32)
        self.last_cnn_rows = np.concatenate(cnn_parts)
        return np.concatenate(parts)

    def _embed_chunk(self, chunk: list[Any], offset: int, strict: bool) -> tuple[F32, F32]:
        """The chunk's fused rows and its CNN rows."""
        cnn = self.image.embed_images(chunk, batch_size=len(chunk), strict=strict)
        self.failures += [(offset + row, message) for row, message in self.image.failures]
        readable = [row for row in range(len(chunk)) if np.isfinite(cnn[row]).all()]
        readings = [np.full_like(cnn, np.nan) for _ in self.readers]
        if readable:
            read = read_with_readers(self.readers, [chunk[row] for row in readable])
            for reading, rows in zip(readings, read, strict=True):
                reading[readable] = rows
        person: NDArray[np.bool_] = np.asarray(np.isfinite(readings[0]).all(axis=1))
        self.no_person_rows += [offset + row for row in readable if not person[row]]
        return self.fusion.blend(cnn, readings, person), cnn
