"""EmbeddingCache: reuse, key mismatch, corruption, and survival of a SIGKILL mid-write."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from posebrowser.core.cache import CacheKey, EmbeddingCache, SideCache, complete_rows
from posebrowser.errors import CacheError, JobCancelledError

KEY = CacheKey("model-a", "gallery-1", "v1")


def rows(start: int, stop: int) -> np.ndarray:
    """Deterministic fake embeddings: row i is filled with i."""
    return np.repeat(np.arange(start, stop, dtype=np.float32)[:, None], 4, axis=1)


def test_fill_reuse_and_progress(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []

    def compute(start: int, stop: int) -> np.ndarray:
        calls.append((start, stop))
        return rows(start, stop)

    seen: list[tuple[int, int]] = []
    data = EmbeddingCache(tmp_path, KEY, 10, dim=4, chunk_rows=3).fill(
        compute, lambda d, t: seen.append((d, t))
    )
    assert data is not None
    np.testing.assert_array_equal(data, rows(0, 10))
    assert calls == [(0, 3), (3, 6), (6, 9), (9, 10)] and seen[-1] == (10, 10)
    again = EmbeddingCache(tmp_path, KEY, 10, dim=4, chunk_rows=3).fill(compute)
    assert again is not None and len(calls) == 4
    np.testing.assert_array_equal(again, rows(0, 10))


def test_other_model_is_rebuilt_or_refused(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, KEY, 5, dim=4)
    cache.fill(rows)
    # same folder but a different manifest (e.g. copied from another model): rebuilt, never reused
    (cache.directory / "manifest.json").write_text('{"format": "posebrowser-embedding-cache", "count": 7}')
    with pytest.raises(CacheError):
        EmbeddingCache(tmp_path, KEY, 5, dim=4, read_only=True)
    rebuilt = EmbeddingCache(tmp_path, KEY, 5, dim=4)
    assert rebuilt.missing_chunks() == [0]
    other = EmbeddingCache(tmp_path, CacheKey("model-b", "gallery-1", "v1"), 5, dim=4)
    assert other.directory != cache.directory


def test_damaged_chunk_is_recomputed_and_cancel_keeps_work(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path, KEY, 9, dim=4, chunk_rows=3)
    with pytest.raises(JobCancelledError):
        cache.fill(rows, progress=None, cancel=lambda: len(list(cache.directory.glob("chunk_*"))) >= 2)
    assert cache.missing_chunks() == [2]
    cache.chunk_path(1).write_bytes(b"\x93NUMPY garbage")
    data = cache.fill(rows)
    assert data is not None
    np.testing.assert_array_equal(data, rows(0, 9))
    (cache.directory / "embeddings.npy").write_bytes(b"damaged")
    with pytest.raises(CacheError):
        EmbeddingCache(tmp_path, KEY, 9, dim=4, chunk_rows=3, read_only=True).fill(rows)
    again = EmbeddingCache(tmp_path, KEY, 9, dim=4, chunk_rows=3).fill(rows)
    assert again is not None
    np.testing.assert_array_equal(again, rows(0, 9))


WRITER = textwrap.dedent("""
    import sys, time
    import numpy as np
    from posebrowser.core.cache import CacheKey, EmbeddingCache, SideCache, complete_rows
    def compute(start, stop):
        if start >= 6:
            print("ready", flush=True)
            time.sleep(60)
        return np.repeat(np.arange(start, stop, dtype=np.float32)[:, None], 4, axis=1)
    EmbeddingCache(sys.argv[1], CacheKey("model-a", "gallery-1", "v1"), 12, dim=4, chunk_rows=3).fill(compute)
""")


def test_sigkill_mid_write_leaves_a_usable_cache(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    time.sleep(0.05)
    cache = EmbeddingCache(tmp_path, KEY, 12, dim=4, chunk_rows=3)
    assert cache.missing_chunks() == [2, 3]  # the finished chunks survived
    computed: list[int] = []

    def compute(start: int, stop: int) -> np.ndarray:
        computed.append(start)
        return rows(start, stop)

    data = cache.fill(compute)
    assert computed == [6, 9]
    assert data is not None
    np.testing.assert_array_equal(data, rows(0, 12))


SIDE = CacheKey("model-b", "gallery-1", "v1")


def test_a_side_cache_filled_beside_a_fill_holds_the_rows_it_was_given(tmp_path: Path) -> None:
    side = SideCache(tmp_path, SIDE, 10, 4, 3)

    def compute(start: int, stop: int) -> np.ndarray:
        side.store(start, stop, rows(start, stop) * 2)  # what the computation made on the way
        return rows(start, stop)

    side.store(0, 1, rows(0, 1))  # a probe that is not a chunk: not kept
    assert complete_rows(tmp_path, SIDE, 10, 4) is None
    EmbeddingCache(tmp_path, KEY, 10, dim=4, chunk_rows=3).fill(compute)
    side.finish()
    np.testing.assert_array_equal(complete_rows(tmp_path, SIDE, 10, 4), rows(0, 10) * 2)
    assert complete_rows(tmp_path, SIDE, 11, 4) is None  # another gallery size: not these rows


def test_a_side_cache_missing_a_chunk_stays_unmerged_and_an_unwritable_one_is_skipped(tmp_path: Path) -> None:
    side = SideCache(tmp_path, SIDE, 10, 4, 3)
    for start, stop in [(0, 3), (6, 9), (9, 10)]:  # chunk (3, 6) was made by an earlier, killed run
        side.store(start, stop, rows(start, stop))
    side.finish()
    assert complete_rows(tmp_path, SIDE, 10, 4) is None
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    unwritable = SideCache(blocker, SIDE, 10, 4, 3)
    unwritable.store(0, 3, rows(0, 3))
    unwritable.finish()
    assert unwritable.cache is None
