"""Classify what happens when posebrowser reads one input: fine, typed error, crash, hang or leak.

Shared by the trust tests and ``benchmarks/trust_report.py``. An *input* is a callable that reads one
hand-made or generated file; its outcome is

* ``"ok"``      — it returned (the input was usable),
* ``"refused"`` — it raised a :class:`~posebrowser.errors.PosebrowserError` (typed, user-readable),
* ``"crash"``   — it raised anything else (a bug: users would see a traceback),
* ``"hang"``    — it ran longer than the time limit (SIGALRM interrupts it),
* ``"leak"``    — it left more open file descriptors behind than it found.
"""

from __future__ import annotations

import os
import signal
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from posebrowser.errors import PosebrowserError

OUTCOMES = ("ok", "refused", "crash", "hang", "leak")


class InputHangError(Exception):
    """Raised inside the reader by SIGALRM when an input takes longer than the limit."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise :class:`InputHangError` in the main thread when the block runs longer than ``seconds``."""

    def on_alarm(signum: int, frame: Any) -> None:
        raise InputHangError(f"no answer within {seconds:.1f} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def open_descriptors() -> int:
    """Number of file descriptors this process holds (Linux ``/proc/self/fd``)."""
    return len(os.listdir("/proc/self/fd"))


@dataclass
class Tally:
    """Counts of outcomes per input category, plus the first few failures with their tracebacks."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    def add(self, category: str, outcome: str, detail: str = "") -> None:
        self.counts[(category, outcome)] += 1
        if outcome in ("crash", "hang", "leak") and len(self.failures) < 20:
            self.failures.append(f"[{category}/{outcome}] {detail}")

    def total(self, outcome: str | None = None) -> int:
        return sum(n for (_, o), n in self.counts.items() if outcome is None or o == outcome)

    def merge(self, other: Tally) -> None:
        self.counts.update(other.counts)
        self.failures.extend(other.failures[: max(0, 20 - len(self.failures))])


def classify(read: Callable[[], Any], *, limit_s: float = 10.0) -> tuple[str, str]:
    """Run ``read()`` once and return (outcome, detail) — see the module docstring."""
    before = open_descriptors()
    try:
        with time_limit(limit_s):
            read()
        outcome, detail = "ok", ""
    except InputHangError as error:
        return "hang", str(error)
    except PosebrowserError as error:
        outcome, detail = "refused", str(error)
        if not str(error).strip():
            return "crash", f"{type(error).__name__} with an empty message"
    except Exception as error:  # the point of the exercise: anything untyped is a crash
        return "crash", "".join(traceback.format_exception(error)[-6:])
    if open_descriptors() > before:
        return "leak", f"{open_descriptors() - before} file descriptor(s) left open"
    return outcome, detail


def record(tally: Tally, category: str, name: str, read: Callable[[], Any], *, limit_s: float = 10.0) -> str:
    """Classify ``read`` and add it to ``tally`` under ``category``; returns the outcome."""
    outcome, detail = classify(read, limit_s=limit_s)
    tally.add(category, outcome, f"{name}: {detail}")
    return outcome
