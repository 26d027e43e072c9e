"""Sharded gallery embedding with torch.distributed (``torchrun --nproc_per_node N posebrowser embed``).

Every rank embeds one contiguous shard of the cache's chunks into the shared cache folder (each chunk file
is written atomically, so a killed rank loses at most its current chunk); after a barrier rank 0 merges the
chunks into ``embeddings.npy``. Backend: NCCL when the device is CUDA, else Gloo. Across machines the
cache folder must be on a shared file system. Re-running resumes: finished chunks are skipped.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from posebrowser.core.cache import CacheKey, EmbeddingCache

F32 = NDArray[np.float32]


@dataclass(frozen=True)
class DistributedContext:
    """This process' ``rank`` among ``world_size`` processes."""

    rank: int
    world_size: int


def is_distributed_launch() -> bool:
    """True when started by torchrun (or another launcher setting WORLD_SIZE > 1)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init_distributed(
    device: str = "cpu",
    init_method: str | None = None,
    rank: int | None = None,
    world_size: int | None = None,
) -> DistributedContext:
    """Join the process group (env:// from torchrun unless ``init_method``/``rank``/``world_size`` given)."""
    import torch.distributed as dist

    if not dist.is_initialized():
        backend = "nccl" if device == "cuda" else "gloo"
        kwargs: dict[str, object] = {}
        if init_method is not None:
            kwargs = {"init_method": init_method, "rank": rank, "world_size": world_size}
        dist.init_process_group(backend, **kwargs)  # type: ignore[arg-type]
    return DistributedContext(dist.get_rank(), dist.get_world_size())


def shard_chunks(chunk_count: int, rank: int, world_size: int) -> list[int]:
    """The contiguous block of chunk numbers rank ``rank`` embeds (sizes differ by at most one)."""
    base, extra = divmod(chunk_count, world_size)
    start = rank * base + min(rank, extra)
    return list(range(start, start + base + (1 if rank < extra else 0)))


def embed_sharded(
    root: str,
    key: CacheKey,
    count: int,
    dim: int,
    compute: Callable[[int, int], NDArray[np.floating]],
    context: DistributedContext,
    chunk_rows: int = 4096,
    progress: Callable[[int, int], None] | None = None,
) -> F32 | None:
    """Embed this rank's shard; rank 0 merges and returns the (count, dim) matrix, other ranks None."""
    import torch.distributed as dist

    if context.rank == 0:  # rank 0 creates (or validates / rebuilds) the manifest before anyone writes
        EmbeddingCache(root, key, count, dim, chunk_rows)
    dist.barrier()
    cache = EmbeddingCache(root, key, count, dim, chunk_rows)
    mine = shard_chunks(cache.chunk_count, context.rank, context.world_size)
    if not cache.is_complete:
        cache.fill(compute, progress=progress, chunks=mine, merge=False)
    dist.barrier()
    result: F32 | None = None
    if context.rank == 0:
        if not cache.is_complete:
            cache.merge()
        result = cache.load()
    dist.barrier()
    return result
