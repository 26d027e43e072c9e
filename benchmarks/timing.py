"""Shared timing helper of the benchmarks (run as scripts: ``benchmarks/`` is on ``sys.path``)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_ms(fn: Callable[[int], object], repeats: int) -> float:
    """Median wall time of ``fn(i)`` over ``repeats`` calls, in ms, after one warm-up call ``fn(0)``."""
    fn(0)
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)
