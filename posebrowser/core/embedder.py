"""Turn images (and posebytes) into embeddings with a checkpoint's net and preprocessing together.

Images are decoded and prepared (resize/crop → uint8) in a thread pool, one batch per task, while the
main thread runs the network on the previous batch (PIL releases the GIL while decoding and resizing),
so decoding overlaps inference. Inference runs in ``torch.inference_mode`` with channels_last memory
format and optional lower precision (bf16 on CPU, fp16 on CUDA, via autocast).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from numpy.typing import NDArray

from posebrowser.core.device import DeviceChoice, cpu_cores, resolve_device
from posebrowser.errors import CheckpointError, CorruptFileError, DataError, JobCancelledError

if TYPE_CHECKING:
    import torch

    from posebrowser.nets.preprocessing import Preprocessing

F32 = NDArray[np.float32]
Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


class GalleryLike(Protocol):
    """What the embedder needs from ``data.gallery.Gallery``."""

    def __len__(self) -> int: ...

    def image_path(self, index: int) -> Path: ...


def image_items(
    sources: Sequence[Any] | GalleryLike, indices: Sequence[int] | NDArray[np.integer] | None = None
) -> list[Any]:
    """What an image embedder embeds: a gallery's image paths (its ``indices``, default every row), or the
    given paths / PIL images / arrays as a list."""
    if hasattr(sources, "image_path"):
        gallery: Any = sources
        rows = range(len(gallery)) if indices is None else [int(i) for i in indices]
        return [gallery.image_path(i) for i in rows]
    return list(sources)


def _module_fingerprint(module: Any) -> str:
    digest = hashlib.sha256()
    for key, tensor in sorted(module.state_dict().items()):
        digest.update(key.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def autocast_dtype(precision: str, device: str) -> torch.dtype | None:
    import torch

    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    if precision == "auto":
        return torch.float16 if device == "cuda" else None
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


class Embedder:
    """An image net + its :class:`Preprocessing`: images → (N, D) float32 L2-normalised embeddings."""

    def __init__(
        self,
        module: torch.nn.Module,
        preprocessing: Preprocessing,
        device: str | DeviceChoice = "cpu",
        precision: str = "auto",
        model_sha256: str | None = None,
        decode_workers: int | None = None,
    ) -> None:
        self.device = device if isinstance(device, DeviceChoice) else resolve_device(device)
        self.preprocessing = preprocessing
        self.precision = precision
        self.autocast = autocast_dtype(precision, self.device.name)
        self.module = module.eval().to(self.device.name)
        if self.device.name == "cuda" or self._is_convolutional():
            self.module = self.module.to(memory_format=__import__("torch").channels_last)
        self.model_sha256 = model_sha256 or _module_fingerprint(module)
        # half the cores decode (PIL releases the GIL) while torch computes on all of them
        self.decode_workers = decode_workers or max(1, min(4, cpu_cores() // 2))
        self.failures: list[tuple[int, str]] = []

    def _is_convolutional(self) -> bool:
        import torch

        return any(isinstance(m, torch.nn.Conv2d) for m in self.module.modules())

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str = "auto", precision: str = "auto") -> Embedder:
        """Load ``<path>.safetensors`` + ``.json`` (image net) with the preprocessing from its model card."""
        from posebrowser.nets.checkpoint import load_model
        from posebrowser.nets.preprocessing import Preprocessing

        module, card = load_model(path, expect_kind="image")
        if not card.preprocessing:
            raise CheckpointError("The model card does not describe the image preprocessing.", path=path)
        return cls(module, Preprocessing.from_dict(card.preprocessing), device, precision, card.sha256)

    # ------------------------------------------------------------------ batches
    def normalise_nhwc(self, batch: NDArray[np.uint8]) -> F32:
        """(N, S, S, 3) uint8 RGB → (N, S, S, 3) float32 normalised, in the net's channel order.

        Same arithmetic as ``Preprocessing.normalise`` but kept in NHWC order, which *is* the channels_last
        memory layout: the tensor is handed to the net without the two transposing copies.
        """
        p = self.preprocessing
        std = np.asarray(p.std, dtype=np.float32)
        values = (
            batch.astype(np.float32) * (np.float32(p.value_scale) / std)
            - np.asarray(p.mean, np.float32) / std
        )
        if p.channel_order == "BGR":
            values = values[..., ::-1]
        return np.ascontiguousarray(values)

    def embed_arrays(self, batch: NDArray[np.uint8]) -> F32:
        """Prepared images (N, S, S, 3) uint8 RGB → (N, D) float32 L2-normalised."""
        return self.embed_inputs(self.normalise_nhwc(batch))

    def embed_inputs(self, nhwc: NDArray[np.float32]) -> F32:
        """Normalised input (N, S, S, 3) float32 (see :meth:`normalise_nhwc`) → (N, D) float32 unit rows."""
        import torch

        inputs = torch.from_numpy(nhwc).permute(0, 3, 1, 2).to(self.device.name)  # channels_last view
        with torch.inference_mode():
            if self.autocast is not None:
                with torch.autocast(self.device.name, dtype=self.autocast):
                    out = self.module(inputs)
            else:
                out = self.module(inputs)
            out = torch.nn.functional.normalize(out.float(), dim=1)
        return np.asarray(out.cpu().numpy(), dtype=np.float32)

    def _decode_size(self) -> int:
        source = self.preprocessing.crop_source_size or self.preprocessing.input_size
        return 2 * source  # headroom so the centre square crop is not upscaled (JPEG draft decodes at 1/2^k)

    def prepare_batch(
        self, items: Sequence[Any], first: int, mirror: bool = False
    ) -> tuple[NDArray[np.float32], list[tuple[int, str]]]:
        """Decode + prepare (+ mirror left to right) + normalise one batch → (network input, NHWC float32;
        failures as ``(first + row, message)``). :meth:`embed_images` runs it in worker threads."""
        from posebrowser.data.images import decode_image

        size = self.preprocessing.input_size
        batch = np.zeros((len(items), size, size, 3), dtype=np.uint8)
        failures: list[tuple[int, str]] = []
        for row, item in enumerate(items):
            try:
                image = decode_image(item, self._decode_size()) if isinstance(item, str | Path) else item
                batch[row] = self.preprocessing.prepare(image)
            except (CorruptFileError, DataError) as exc:
                failures.append((first + row, str(exc)))
        return self.normalise_nhwc(batch[:, :, ::-1] if mirror else batch), failures

    def _batches(
        self, items: Sequence[Any], batch_size: int, mirror: bool = False
    ) -> Iterator[tuple[int, Future[Any]]]:
        with ThreadPoolExecutor(self.decode_workers, thread_name_prefix="decode") as pool:
            pending: list[tuple[int, Future[Any]]] = []
            starts = iter(range(0, len(items), batch_size))
            for _ in range(self.decode_workers + 1):  # keep the pool and the net busy at once
                start = next(starts, None)
                if start is not None:
                    chunk = items[start : start + batch_size]
                    pending.append((start, pool.submit(self.prepare_batch, chunk, start, mirror)))
            while pending:
                start, future = pending.pop(0)
                nxt = next(starts, None)
                if nxt is not None:
                    chunk = items[nxt : nxt + batch_size]
                    pending.append((nxt, pool.submit(self.prepare_batch, chunk, nxt, mirror)))
                try:
                    yield start, future
                except GeneratorExit:
                    for _, other in pending:
                        other.cancel()
                    raise

    def embed_images(
        self,
        sources: Sequence[Any] | GalleryLike,
        batch_size: int = 64,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
        indices: Sequence[int] | NDArray[np.integer] | None = None,
        strict: bool = False,
        mirror: bool = False,
    ) -> F32:
        """Embed images → (N, D) float32, L2-normalised rows.

        ``mirror``: embed each prepared image mirrored left to right (the second view of flip test-time
        augmentation: training mirrors whole batches with their labels, so distances between mirrored views
        estimate the same pose distances as the plain ones).

        ``sources``: a sequence of paths / PIL images / uint8 (H, W, 3) arrays, or a gallery (with
        ``indices``, default all rows). An unreadable image raises :class:`CorruptFileError` when ``strict``;
        otherwise its row is all NaN (never a vector a search could return) and ``(row, message)`` is
        appended to :attr:`failures`.
        """
        items = image_items(sources, indices)
        total = len(items)
        out: F32 | None = None
        self.failures = []
        done = 0
        for start, future in self._batches(items, batch_size, mirror):
            if cancel is not None and cancel():
                raise JobCancelledError("Embedding was cancelled.")
            batch, failures = future.result()
            if failures and strict:
                raise CorruptFileError(failures[0][1])
            vectors = self.embed_inputs(batch)
            if out is None:
                out = np.zeros((total, vectors.shape[1]), dtype=np.float32)
            out[start : start + len(batch)] = vectors
            for row, message in failures:
                out[row] = np.nan
                self.failures.append((row, message))
            done += len(batch)
            if progress is not None:
                progress(done, total)
        return out if out is not None else np.zeros((0, 128), dtype=np.float32)


class PosebitEmbedder:
    """The posebit (language) net: posebytes (N, B) → (N, D) float32 L2-normalised."""

    def __init__(
        self,
        module: torch.nn.Module,
        device: str | DeviceChoice = "cpu",
        posebit_names: Sequence[str] | None = None,
        model_sha256: str | None = None,
    ) -> None:
        self.device = device if isinstance(device, DeviceChoice) else resolve_device(device)
        self.module = module.eval().to(self.device.name)
        self.posebit_names = tuple(posebit_names) if posebit_names is not None else None
        self.model_sha256 = model_sha256 or _module_fingerprint(module)

    @classmethod
    def from_checkpoint(
        cls, path: str | Path, device: str = "auto", expect_posebit_version: str | None = None
    ) -> PosebitEmbedder:
        """Load a posebit net checkpoint (VocabularyMismatchError for another posebit vocabulary version)."""
        from posebrowser.nets.checkpoint import load_model

        module, card = load_model(path, expect_kind="posebit", expect_posebit_version=expect_posebit_version)
        return cls(module, device, card.posebit_names, card.sha256)

    def embed(self, posebytes: NDArray[np.floating] | NDArray[np.integer]) -> F32:
        """(N, B) posebytes (1/0, soft values in [0, 1]; unknown -1 counts as 0) → (N, D) float32 unit."""
        import torch

        x = np.clip(np.atleast_2d(np.asarray(posebytes, dtype=np.float32)), 0.0, 1.0)
        with torch.inference_mode():
            out = self.module(torch.from_numpy(x).to(self.device.name))
            out = torch.nn.functional.normalize(out.float(), dim=1)
        return np.asarray(out.cpu().numpy(), dtype=np.float32)
