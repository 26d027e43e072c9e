"""Kill-safety: every writer is SIGKILLed at random moments mid-write; afterwards every file it left is
complete and holds a version it wrote, and resumable work (embedding cache, synth generator, training)
finishes with exactly the result of an uninterrupted run.

``TRUST_KILLS`` (default 5) sets the kills per writer (training and synth use fewer: torch start-up and
rendering are slow); ``benchmarks/trust_report.py --full`` kills well over 100 times in all.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import pytest
from trust_kill import kill_writer
from trust_writers import WRITERS, prepare_kill

KILLS = int(os.environ.get("TRUST_KILLS", "5"))
FEWER = {"training_checkpoint": 2, "synth_generator": 3}


@pytest.mark.parametrize("writer", list(WRITERS))
def test_writer_survives_sigkill(writer: str, tmp_path: Path) -> None:
    state, max_delay_s = prepare_kill(writer, tmp_path)
    kills = min(KILLS, FEWER.get(writer, KILLS)) if "TRUST_KILLS" not in os.environ else KILLS
    stats = kill_writer(writer, tmp_path / "work", kills, seed=zlib.crc32(writer.encode()), state=state,
                        max_delay_s=max_delay_s)
    assert stats.corrupt == 0, stats
    assert stats.kills + stats.finished_before_kill == kills
    assert stats.kills >= 1, f"{writer} was never caught mid-work: {stats}"
    if writer in ("embedding_cache", "synth_generator"):
        assert stats.resumed >= 1, f"{writer}: nothing was left to resume after the kills: {stats}"


def test_synth_resumes_after_a_kill_while_merging(tmp_path: Path) -> None:
    """A SIGKILL while ``merge_parts`` writes ``annotations.npz`` or ``manifest.json`` leaves the
    temporary file of ``atomic_write_bytes`` (``.<name>.<random>.tmp``) in the gallery folder; resuming
    must still work (the generator must treat its own temporary files as its own)."""
    from posebrowser.data.loading import open_gallery
    from posebrowser.synth.generate import generate_gallery

    out = tmp_path / "gallery"
    out.mkdir()
    (out / ".annotations.npz.k2j3h4.tmp").write_bytes(b"half an archive")
    generate_gallery(out, 4, seed=1, size=32, workers=1)
    assert len(open_gallery(out, verify=True)) == 4
