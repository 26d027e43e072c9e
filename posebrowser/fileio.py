"""Crash-safe file writing shared by every writer (galleries, caches, checkpoints, sessions, settings)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Collection
from pathlib import Path
from typing import BinaryIO

import numpy as np

DEFAULT_UMASK = 0o022


def current_umask() -> int:
    """The process umask, read without changing it (``os.umask`` can only be read by setting it, which
    races with every other thread creating files). Linux reports it in ``/proc/self/status``; elsewhere
    the usual 022 is assumed."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return DEFAULT_UMASK


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a kill leaves either the old file or the new one. The file gets
    the mode a plain ``open()`` would give it (``0666 & ~umask``), set explicitly on the temporary file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp creates 0600
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- reading untrusted .npy / .npz files -------------------------------------------------------------
# ``np.load`` trusts the shape in a .npy header and allocates it before reading: a 100-byte file that
# claims (10**12,) elements asks for terabytes. These readers compare the declared size with the bytes
# actually present first. Problems raise ValueError (the message says "pickle" for object arrays), as
# ``np.load`` does, so callers keep one error mapping.

MAX_DEFLATE_RATIO = 1100  # zlib cannot expand more than ~1032×; a member claiming more is lying


def _read_checked_npy(handle: BinaryIO, available: int, what: str) -> np.ndarray:
    from numpy.lib import format as npy_format

    start = handle.tell()
    version = npy_format.read_magic(handle)
    if version == (1, 0):
        shape, _fortran, dtype = npy_format.read_array_header_1_0(handle)
    elif version in ((2, 0), (3, 0)):
        shape, _fortran, dtype = npy_format.read_array_header_2_0(handle)
    else:  # pragma: no cover - read_magic only returns known versions
        raise ValueError(f"{what}: unsupported .npy version {version}")
    if dtype.hasobject:
        raise ValueError(f"{what}: object arrays cannot be loaded when allow_pickle=False")
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    present = available - (handle.tell() - start)
    if declared > present:
        raise ValueError(f"{what} claims {declared:,} bytes of data but holds only {max(present, 0):,}")
    handle.seek(start)
    return np.asarray(npy_format.read_array(handle, allow_pickle=False))


def load_npy_checked(path: Path) -> np.ndarray:
    """One array from a .npy file, refusing pickles and headers that claim more data than the file has."""
    path = Path(path)
    with open(path, "rb") as handle:
        return _read_checked_npy(handle, path.stat().st_size, path.name)


def load_npz_checked(path: Path, wanted: Collection[str] | None = None) -> dict[str, np.ndarray]:
    """The arrays of a .npz archive (only ``wanted`` names when given), each checked like
    :func:`load_npy_checked`; zip members that claim an impossible expansion are refused."""
    import zipfile

    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            name = info.filename.removesuffix(".npy")
            if wanted is not None and name not in wanted:
                continue
            ratio = 1 if info.compress_type == zipfile.ZIP_STORED else MAX_DEFLATE_RATIO
            if info.file_size > max(info.compress_size * ratio, 1 << 16):
                raise ValueError(
                    f"{info.filename} claims {info.file_size:,} bytes from {info.compress_size:,}"
                )
            with archive.open(info) as member:
                arrays[name] = _read_checked_npy(member, info.file_size, info.filename)  # type: ignore[arg-type]
    return arrays


def is_temporary(name: str) -> bool:
    """Whether ``name`` is a temporary file of :func:`atomic_write_bytes` (``.<target>.<random>.tmp``)."""
    return name.startswith(".") and name.endswith(".tmp") and name.count(".") >= 3


def remove_stale_temporaries(folder: Path, older_than_s: float = 0.0) -> int:
    """Delete temporaries that a killed writer left in ``folder`` (not recursive); returns how many.

    Only files at least ``older_than_s`` seconds old go, so a concurrent writer's live file survives.
    """
    import time

    folder = Path(folder)
    if not folder.is_dir():
        return 0
    removed = 0
    now = time.time()
    for entry in folder.iterdir():
        try:
            if is_temporary(entry.name) and entry.is_file() and now - entry.stat().st_mtime >= older_than_s:
                entry.unlink()
                removed += 1
        except OSError:  # vanished or not ours to delete: leave it
            continue
    return removed
