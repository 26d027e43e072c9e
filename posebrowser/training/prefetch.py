"""Prepare the next training batches on a background thread while the current one trains.

Sampling, augmentation (PIL and numpy, which release the GIL for their inner loops) and the uint8 →
float tensor conversion run on one producer thread, ``depth`` batches ahead of the optimiser step. The
producer consumes the batch iterator in order, so every random draw happens in exactly the order of a
serial loop: results are bit-identical to running without prefetching, and a resumable checkpoint taken
after the iterator is exhausted sees the same random-generator state.

Measured with ``benchmarks/bench_training.py`` (the shipped recipe, before the augmentation was fused): on
2 CPU cores it gained nothing measurable (65–74 % of the bare step with it, 72 % without), because torch
already keeps both cores busy; it is meant for a GPU, where batch preparation on the CPU overlaps the GPU's
step. What closed the gap on the CPU is doing less work per batch (``training/batch_inputs.py``).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import Any, TypeVar

T = TypeVar("T")
_DONE = object()


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


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
