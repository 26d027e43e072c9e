"""fileio: atomic writes, stale temporaries, and .npy/.npz readers that refuse memory bombs and pickles."""

from __future__ import annotations

import io
import os
import stat
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from numpy.lib import format as npy_format

from posebrowser.fileio import (
    atomic_write_bytes,
    is_temporary,
    load_npy_checked,
    load_npz_checked,
    remove_stale_temporaries,
)


def _claiming(shape: tuple[int, ...]) -> bytes:
    buffer = io.BytesIO()
    npy_format.write_array_header_1_0(buffer, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return buffer.getvalue() + b"\0" * 64


def test_npy_round_trip_and_header_claiming_terabytes(tmp_path: Path) -> None:
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.save(tmp_path / "ok.npy", array)
    np.testing.assert_array_equal(load_npy_checked(tmp_path / "ok.npy"), array)
    (tmp_path / "bomb.npy").write_bytes(_claiming((10**12,)))
    with pytest.raises(ValueError, match="claims 4,000,000,000,000 bytes"):
        load_npy_checked(tmp_path / "bomb.npy")
    np.save(tmp_path / "short.npy", array)
    (tmp_path / "short.npy").write_bytes((tmp_path / "short.npy").read_bytes()[:-8])  # truncated
    with pytest.raises(ValueError):
        load_npy_checked(tmp_path / "short.npy")


def test_object_arrays_are_refused_as_pickles(tmp_path: Path) -> None:
    np.save(tmp_path / "objects.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="pickle"):
        load_npy_checked(tmp_path / "objects.npy")


def test_npz_reads_wanted_members_and_refuses_bombs(tmp_path: Path) -> None:
    np.savez_compressed(tmp_path / "a.npz", files=np.array(["a", "b"]), ids=np.arange(2), extra=np.ones(3))
    arrays = load_npz_checked(tmp_path / "a.npz", {"files", "ids"})
    assert set(arrays) == {"files", "ids"} and arrays["files"].tolist() == ["a", "b"]
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w") as archive:
        archive.writestr("files.npy", _claiming((10**12,)))
    with pytest.raises(ValueError, match="claims"):
        load_npz_checked(tmp_path / "bomb.npz")


def test_stale_temporaries_are_removed_but_live_ones_and_real_files_stay(tmp_path: Path) -> None:
    atomic_write_bytes(tmp_path / "data.bin", b"x")
    old = tmp_path / ".data.bin.abc123.tmp"
    young = tmp_path / ".data.bin.def456.tmp"
    old.write_bytes(b"half")
    young.write_bytes(b"half")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert is_temporary(old.name) and not is_temporary("data.bin") and not is_temporary(".hidden")
    assert remove_stale_temporaries(tmp_path, older_than_s=3600) == 1
    assert not old.exists() and young.exists() and (tmp_path / "data.bin").read_bytes() == b"x"
    assert remove_stale_temporaries(tmp_path / "missing") == 0


def test_atomic_write_never_touches_the_process_umask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before: it set the umask to 0 for a moment; folders other threads made then were world-writable."""
    from posebrowser.fileio import atomic_write_bytes, current_umask

    def forbidden(_mask: int) -> int:
        raise AssertionError("os.umask changes the mask of every thread")

    expected = 0o666 & ~current_umask()
    monkeypatch.setattr(os, "umask", forbidden)
    atomic_write_bytes(tmp_path / "a" / "file.bin", b"data")
    assert stat.S_IMODE((tmp_path / "a" / "file.bin").stat().st_mode) == expected
    assert (tmp_path / "a" / "file.bin").read_bytes() == b"data"


def test_concurrent_writers_and_folder_makers_never_make_shared_writable_folders(tmp_path: Path) -> None:
    import threading

    from posebrowser.fileio import atomic_write_bytes

    old = os.umask(0o022)
    try:
        stop = threading.Event()

        def write() -> None:
            for i in range(400):
                atomic_write_bytes(tmp_path / "files" / f"{i % 7}.bin", b"x")
            stop.set()

        writer = threading.Thread(target=write)
        writer.start()
        made = 0
        while not stop.is_set():
            (tmp_path / "dirs" / str(made)).mkdir(parents=True)
            made += 1
        writer.join()
        modes = [stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "dirs").iterdir()]
        assert made > 0 and all(mode & 0o022 == 0 for mode in modes)
    finally:
        os.umask(old)
