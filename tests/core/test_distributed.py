"""Two CPU processes (Gloo, file:// rendezvous) embed disjoint shards; rank 0 merges the cache."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from posebrowser.core.distributed import shard_chunks

SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    import torch
    import torch.multiprocessing as mp

    def worker(rank, root, rendezvous):
        from posebrowser.core.cache import CacheKey
        from posebrowser.core.distributed import embed_sharded, init_distributed
        torch.manual_seed(0)  # the same tiny "model" on every rank
        net = torch.nn.Linear(8, 4)
        inputs = torch.arange(50 * 8, dtype=torch.float32).reshape(50, 8) / 400
        def compute(start, stop):
            open(f"{root}/rank{rank}_{start}", "w").close()
            with torch.inference_mode():
                return torch.nn.functional.normalize(net(inputs[start:stop]), dim=1).numpy()
        ctx = init_distributed("cpu", rendezvous, rank, 2)
        out = embed_sharded(root, CacheKey("tiny", "gallery", "v"), 50, 4, compute, ctx, chunk_rows=8)
        if rank == 0:
            with torch.inference_mode():
                expected = torch.nn.functional.normalize(net(inputs), dim=1).numpy()
            np.save(f"{root}/expected.npy", expected)
            np.save(f"{root}/merged.npy", out)

    if __name__ == "__main__":
        mp.spawn(worker, args=(sys.argv[1], sys.argv[2]), nprocs=2, join=True)
""")


def test_shards_are_contiguous_and_cover_everything() -> None:
    shards = [shard_chunks(7, rank, 3) for rank in range(3)]
    assert shards == [[0, 1, 2], [3, 4], [5, 6]]
    assert shard_chunks(1, 1, 2) == []


@pytest.mark.slow  # two gloo processes: ~100 s on the 2-core reference machine under load
def test_two_process_gloo_embedding(tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path), f"file://{tmp_path}/rendezvous"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    np.testing.assert_allclose(
        np.load(tmp_path / "merged.npy"), np.load(tmp_path / "expected.npy"), atol=1e-6
    )
    marks = sorted(p.name for p in tmp_path.glob("rank*_*"))
    by_rank = {r: sorted(int(m.split("_")[1]) for m in marks if m.startswith(f"rank{r}")) for r in (0, 1)}
    assert by_rank == {0: [0, 8, 16, 24], 1: [32, 40, 48]}  # 7 chunks of 8 rows, split 4 / 3
