"""Prepare the next training batches on a background thread while the current one trains.

Sampling, augmentation (PIL and numpy, which release the GIL for their inner loops) and the uint8 →
float tensor conversion run on one producer thread, ``depth`` batches ahead of the optimiser step. The
producer consumes the batch iterator in order, so every random draw happens in exactly the order of a
serial loop: results are bit-identical to running without prefetching, and a resumable checkpoint taken
after the iterator is exhausted sees the same random-generator state.

Measured with ``benchmarks/bench_training.py`` on 2 CPU cores, where torch's two threads already keep both
cores busy: before the augmentation was fused it gained nothing (65–74 % of the bare step with it, 72 %
without); with the fused recipe the serial loop was ahead in 8 of 12 runs, behind in 2 (serial minus
two-ahead, in the ratio to the bare step: −0.05 to +0.09, mean +0.03; in the last run ahead in 8 of 9
rounds). So :func:`auto_depth` prefetches on a GPU, where batch preparation on the CPU overlaps the GPU's
step, and on a CPU only when a core is left free of torch's threads (not measured: no such machine here).
What closed the gap on the CPU is doing less work per batch (``training/batch_inputs.py``).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def auto_depth(on_gpu: bool, torch_threads: int, cores: int | None = None) -> int:
    """Batches to prepare ahead: 2 on a GPU, or when a CPU core is left free of torch's threads; else 0."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return 2 if on_gpu or cores > torch_threads else 0


def prefetched(
    items: Iterator[Any], prepare: Callable[[Any], T], depth: int = 2
) -> Generator[T, None, None]:
    """Yield ``prepare(item)`` for each item, computed ``depth`` items ahead on a daemon thread.

    An exception in the producer is re-raised in the consumer at the item where it happened. When the
    consumer stops early (break, cancel, error), the producer is told to stop and is joined."""
    if depth <= 0:
        yield from (prepare(item) for item in items)
        return
    ready: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set() or not _put_until_stopped(ready, prepare(item), stop):
                    return
        except BaseException as error:  # handed to the consumer, which re-raises it
            _put_until_stopped(ready, _Failure(error), stop)
            return
        _put_until_stopped(ready, _DONE, stop)

    worker = threading.Thread(target=produce, name="posebrowser-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            value = ready.get()
            if value is _DONE:
                return
            if isinstance(value, _Failure):
                raise value.error
            yield value
    finally:
        stop.set()
        worker.join()


def _put_until_stopped(ready: queue.Queue[Any], value: Any, stop: threading.Event) -> bool:
    """Put ``value`` once there is room; False when the consumer stopped first."""
    while not stop.is_set():
        try:
            ready.put(value, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False
