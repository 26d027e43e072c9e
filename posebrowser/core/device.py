"""Compute-device choice and thread-pool configuration.

Thread oversubscription pitfall (measured on a 2-core machine): faiss (OpenMP), torch
(its own OpenMP/intra-op pool) and numpy's BLAS each start one thread per core by default. When all
three pools are alive in one process they compete for the same cores and spin-wait on each other:
a single 10k-item faiss query went from 0.1 ms to 12 ms (**100× slower**). We therefore set every pool
once, deliberately, at start-up: faiss gets 1 thread (an interactive query on one thread is fastest;
two threads made a 1M query 2× slower), torch gets the cores for embedding (large batched work that
scales), BLAS gets one thread (see :func:`configure_threads` for the measurement).

Order matters: faiss-cpu ships an OpenMP build of OpenBLAS, so setting the BLAS thread count (threadpoolctl)
also sets faiss' OpenMP thread count; faiss is therefore configured last. OpenMP thread counts are also
per calling thread, so :class:`~posebrowser.core.index.RetrievalIndex` re-applies its query thread count in
the thread that searches (a GUI worker thread starts with the default of all cores).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

from posebrowser.errors import DeviceError

DeviceName = Literal["auto", "cuda", "cpu"]

_threads_configured: dict[str, int] = {}


@dataclass(frozen=True)
class DeviceChoice:
    """The device actually used: ``name`` ("cpu" or "cuda"), a readable ``reason`` for the status bar,
    and ``fell_back`` = True when another device was asked for but could not be used."""

    name: str
    reason: str
    fell_back: bool = False


def _cuda_unavailable_reason() -> str | None:
    import torch

    if torch.version.cuda is None:
        return "torch built without CUDA"
    if not torch.cuda.is_available():
        return "no CUDA device found"
    return None


def resolve_device(requested: str = "auto") -> DeviceChoice:
    """Map "auto" | "cuda" | "cpu" to the device to use; never raises for a missing GPU (falls back).

    Raises :class:`DeviceError` only for a name that is not a device at all.
    """
    name = requested.strip().lower()
    if name not in ("auto", "cuda", "cpu"):
        raise DeviceError(f"Unknown device '{requested}'; choose auto, cuda or cpu.")
    if name == "cpu":
        return DeviceChoice("cpu", "CPU (as requested)")
    problem = _cuda_unavailable_reason()
    if problem is None:
        import torch

        gpu = torch.cuda.get_device_name(0)
        return DeviceChoice("cuda", f"CUDA: {gpu}")
    if name == "cuda":
        return DeviceChoice("cpu", f"CUDA requested but not available ({problem}); using CPU", fell_back=True)
    return DeviceChoice("cpu", f"CPU ({problem})")


def cpu_cores() -> int:
    """Cores this process may run on (respects affinity / cgroup CPU sets)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def set_blas_env_threads(threads: int) -> None:
    """Set BLAS/OpenMP thread env variables; only effective before numpy/torch are imported."""
    for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))


def configure_threads(torch_threads: int | None = None, blas_threads: int | None = None) -> dict[str, int]:
    """Set the faiss, torch and BLAS thread pools once (idempotent; later calls return the first result).

    faiss: 1 thread (interactive queries). torch: ``torch_threads`` (default: all cores).
    BLAS: ``blas_threads`` (default 1) through threadpoolctl when installed, else env variables. numpy's
    work here (PCA Gram matrix, masked-search GEMV) is small or memory-bound: on a busy 2-core machine a
    100k PCA took 50–100 ms with one BLAS thread and 0.2–4.8 s with two (threads spin-waiting for a core).
    Returns the applied counts, e.g. ``{"faiss": 1, "torch": 2, "blas": 2}``.
    """
    if _threads_configured:
        return dict(_threads_configured)
    cores = cpu_cores()
    torch_n = torch_threads if torch_threads is not None else cores
    blas_n = blas_threads if blas_threads is not None else 1
    import faiss
    import torch

    if torch.get_num_threads() != torch_n:
        torch.set_num_threads(torch_n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=blas_n, user_api="blas")
    except ImportError:
        set_blas_env_threads(blas_n)
    # faiss last: faiss-cpu's OpenBLAS is the OpenMP build, so limiting BLAS threads above calls
    # omp_set_num_threads on faiss' libgomp too (measured: a 100k query went from 5 ms to 50 ms).
    faiss.omp_set_num_threads(1)
    _threads_configured.update({"faiss": 1, "torch": torch_n, "blas": blas_n})
    return dict(_threads_configured)
