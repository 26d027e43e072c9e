"""On-disk embedding cache: resumable, kill-safe, keyed by (model, gallery content, posebit version).

Layout of one cache directory::

    manifest.json        key, count, dim, chunk_rows (written atomically)
    chunk_00000.npy ...  rows [i·chunk_rows, (i+1)·chunk_rows) as float32, each written atomically
    embeddings.npy       all rows, written once every chunk exists (then the chunks are removed)

Every file is written to a temporary name, fsynced and renamed, so a kill (even SIGKILL) at any moment
leaves only complete files: reopening keeps the finished chunks and computes the rest. A manifest for
another model, gallery or vocabulary is detected; the cache is rebuilt (or :class:`CacheError` is raised
when the cache is read-only) — never silently wrong embeddings.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from posebrowser.errors import CacheError, JobCancelledError
from posebrowser.fileio import atomic_write_bytes, remove_stale_temporaries

F32 = NDArray[np.float32]
CACHE_FORMAT = "posebrowser-embedding-cache"
CACHE_VERSION = 1
MERGED_NAME = "embeddings.npy"


@dataclass(frozen=True)
class CacheKey:
    """What embeddings depend on: model weights, gallery content, posebit vocabulary version."""

    model_sha256: str
    gallery_hash: str
    posebit_version: str = ""

    def folder_name(self) -> str:
        text = f"{self.model_sha256}|{self.gallery_hash}|{self.posebit_version}"
        return hashlib.sha256(text.encode()).hexdigest()[:20]


def _npy_bytes(array: NDArray[np.float32]) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
    return buffer.getvalue()


class EmbeddingCache:
    """A (count, dim) float32 embedding matrix stored in chunks under ``root / key.folder_name()``."""

    def __init__(
        self,
        root: str | Path,
        key: CacheKey,
        count: int,
        dim: int = 128,
        chunk_rows: int = 4096,
        read_only: bool = False,
    ) -> None:
        self.key = key
        self.directory = Path(root) / key.folder_name()
        self.count, self.dim, self.read_only = int(count), int(dim), read_only
        self.chunk_rows = int(chunk_rows)
        self._open_manifest()
        if not read_only:  # chunks half-written by a killed run (an hour old: no live writer owns them)
            remove_stale_temporaries(self.directory, older_than_s=3600)

    # ---------------------------------------------------------------- manifest
    def _manifest(self) -> dict[str, object]:
        return {
            "format": CACHE_FORMAT,
            "version": CACHE_VERSION,
            **asdict(self.key),
            "count": self.count,
            "dim": self.dim,
            "chunk_rows": self.chunk_rows,
        }

    @property
    def manifest_path(self) -> Path:
        return self.directory / "manifest.json"

    def _open_manifest(self) -> None:
        wanted = self._manifest()
        found: dict[str, object] | None = None
        if self.manifest_path.exists():
            try:
                found = json.loads(self.manifest_path.read_text())
            except (OSError, ValueError):
                found = None
            if (
                isinstance(found, dict)
                and found.get("chunk_rows")
                and {k: v for k, v in found.items() if k != "chunk_rows"}
                == {k: v for k, v in wanted.items() if k != "chunk_rows"}
            ):
                self.chunk_rows = int(found["chunk_rows"])  # type: ignore[call-overload]
                return
        if self.read_only:
            if found is None and not self.manifest_path.exists():
                raise CacheError("There is no embedding cache here.", path=self.directory)
            raise CacheError(
                "The embedding cache was made for another model, gallery or posebit vocabulary "
                "and cannot be rebuilt because it is read-only.",
                path=self.manifest_path,
            )
        self.clear()
        atomic_write_bytes(self.manifest_path, json.dumps(wanted, indent=2).encode())

    def clear(self) -> None:
        """Delete every chunk and the merged file (the manifest is rewritten by the caller)."""
        if self.read_only:
            raise CacheError("The embedding cache is read-only.", path=self.directory)
        if self.directory.exists():
            for path in self.directory.glob("*.npy"):
                path.unlink(missing_ok=True)
            remove_stale_temporaries(self.directory)

    # ------------------------------------------------------------------ chunks
    @property
    def chunk_count(self) -> int:
        return (self.count + self.chunk_rows - 1) // self.chunk_rows

    def chunk_range(self, chunk: int) -> tuple[int, int]:
        """Rows [start, stop) of ``chunk``."""
        start = chunk * self.chunk_rows
        return start, min(self.count, start + self.chunk_rows)

    def chunk_path(self, chunk: int) -> Path:
        return self.directory / f"chunk_{chunk:05d}.npy"

    @property
    def is_complete(self) -> bool:
        return (self.directory / MERGED_NAME).exists()

    def missing_chunks(self) -> list[int]:
        """Chunks not yet written (all of them are done once the merged file exists)."""
        if self.is_complete:
            return []
        return [c for c in range(self.chunk_count) if not self.chunk_path(c).exists()]

    def write_chunk(self, chunk: int, rows: NDArray[np.floating]) -> None:
        """Store one chunk atomically; ``rows`` must be (stop − start, dim)."""
        start, stop = self.chunk_range(chunk)
        array = np.asarray(rows, dtype=np.float32)
        if array.shape != (stop - start, self.dim):
            raise CacheError(f"Chunk {chunk} should be {(stop - start, self.dim)}, got {array.shape}.")
        atomic_write_bytes(self.chunk_path(chunk), _npy_bytes(array))

    def _read(self, path: Path, shape: tuple[int, int]) -> F32 | None:
        try:
            array = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError):
            return None
        if array.shape != shape or array.dtype != np.float32:
            return None
        return array  # type: ignore[no-any-return]

    def merge(self) -> None:
        """Write ``embeddings.npy`` from all chunks (atomically), then remove the chunks."""
        parts: list[F32] = []
        for chunk in range(self.chunk_count):
            start, stop = self.chunk_range(chunk)
            part = self._read(self.chunk_path(chunk), (stop - start, self.dim))
            if part is None:
                raise CacheError(
                    f"Chunk {chunk} of the embedding cache is missing or damaged.", path=self.directory
                )
            parts.append(part)
        merged = np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)
        atomic_write_bytes(self.directory / MERGED_NAME, _npy_bytes(merged))
        for chunk in range(self.chunk_count):
            self.chunk_path(chunk).unlink(missing_ok=True)

    def load(self) -> F32:
        """The complete (count, dim) float32 matrix, memory-mapped read-only; CacheError when incomplete."""
        array = self._read(self.directory / MERGED_NAME, (self.count, self.dim))
        if array is None:
            raise CacheError("The embedding cache is incomplete or damaged.", path=self.directory)
        return array

    def fill(
        self,
        compute: Callable[[int, int], NDArray[np.floating]],
        progress: Callable[[int, int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        chunks: list[int] | None = None,
        merge: bool = True,
    ) -> F32 | None:
        """Compute missing chunks with ``compute(start, stop) -> (stop-start, dim)``, then merge and load.

        ``chunks`` restricts the work to those chunk numbers (a distributed shard); with ``merge=False``
        nothing is merged and None is returned. Damaged chunks are recomputed. Progress counts rows.
        """
        merged = self.directory / MERGED_NAME
        if self.is_complete and self._read(merged, (self.count, self.dim)) is not None:
            return self.load() if merge else None
        if self.read_only:
            raise CacheError("The embedding cache is incomplete and read-only.", path=self.directory)
        merged.unlink(missing_ok=True)  # a damaged merged file: recompute what the chunks no longer hold
        todo = set(range(self.chunk_count) if chunks is None else chunks)
        for chunk in sorted(todo):
            start, stop = self.chunk_range(chunk)
            if (
                self.chunk_path(chunk).exists()
                and self._read(self.chunk_path(chunk), (stop - start, self.dim)) is None
            ):
                self.chunk_path(chunk).unlink()
        missing = [c for c in self.missing_chunks() if c in todo]
        total = sum(self.chunk_range(c)[1] - self.chunk_range(c)[0] for c in todo)
        done = total - sum(self.chunk_range(c)[1] - self.chunk_range(c)[0] for c in missing)
        if progress is not None:
            progress(done, total)
        for chunk in missing:
            if cancel is not None and cancel():
                raise JobCancelledError("Embedding was cancelled; finished parts are kept for next time.")
            start, stop = self.chunk_range(chunk)
            self.write_chunk(chunk, compute(start, stop))
            done += stop - start
            if progress is not None:
                progress(done, total)
        if not merge:
            return None
        self.merge()
        return self.load()


class SideCache:
    """A second embedding cache filled beside another, chunk by chunk, with rows the same computation made
    on the way: the fused image model's CNN rows are the CNN's own embeddings, so they fill the very cache
    that ``--image-model image_net`` and the evaluation's "CNN alone" row read, instead of being computed
    again. Best effort: a chunk that does not line up with the side cache's chunks, or a folder that cannot
    be written, is skipped; a side cache left missing chunks (a fill resumed after an interruption) stays
    unmerged, and whoever needs its rows computes them as before."""

    def __init__(self, root: str | Path, key: CacheKey, count: int, dim: int, chunk_rows: int) -> None:
        self._where = (Path(root), key, int(count), int(dim), int(chunk_rows))
        #: Opened (its folder and manifest made) only when the first chunk arrives, so a gallery whose
        #: embeddings are already cached leaves nothing behind; None until then and after a failure.
        self.cache: EmbeddingCache | None = None
        self._usable = True

    def _opened(self) -> EmbeddingCache | None:
        if self.cache is None and self._usable:
            try:
                self.cache = EmbeddingCache(*self._where)
            except (OSError, CacheError):
                self._usable = False
        return self.cache

    def _give_up(self) -> None:
        self.cache, self._usable = None, False

    def store(self, start: int, stop: int, rows: NDArray[np.floating] | None) -> None:
        """Keep ``rows`` (those of gallery rows [start, stop)) when they are exactly one missing chunk."""
        _, _, count, _, chunk_rows = self._where
        whole_chunk = start % chunk_rows == 0 and stop == min(count, start + chunk_rows)
        if rows is None or len(rows) != stop - start or not whole_chunk:
            return
        cache = self._opened()
        if cache is None or cache.is_complete:
            return
        chunk = start // cache.chunk_rows
        if cache.chunk_range(chunk) != (start, stop):  # a manifest made with other chunks
            return
        try:
            cache.write_chunk(chunk, rows)
        except (OSError, CacheError):
            self._give_up()

    def finish(self) -> None:
        """Merge the side cache when every chunk is there."""
        cache = self.cache
        if cache is None or cache.is_complete or cache.missing_chunks():
            return
        try:
            cache.merge()
        except (OSError, CacheError):
            self._give_up()


def complete_rows(root: str | Path, key: CacheKey, count: int, dim: int = 128) -> F32 | None:
    """The embeddings of ``key`` when a complete cache of them is under ``root``, else None (read only)."""
    try:
        cache = EmbeddingCache(root, key, count, dim, read_only=True)
        return cache.load() if cache.is_complete else None
    except (CacheError, OSError):
        return None
