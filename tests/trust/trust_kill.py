"""SIGKILL harness: start a writer (``trust_writers.py``) in a subprocess, let it write for a random
moment, kill it with SIGKILL, check the folder, repeat; the last round resumes the work and checks the
result equals an uninterrupted run."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from trust_writers import VERIFIERS

WRITER_SCRIPT = Path(__file__).with_name("trust_writers.py")
REPO = Path(__file__).resolve().parents[2]
#: Longest random pause (s) between "ready" and SIGKILL, per writer (about one to a few writes long).
MAX_DELAY_S: dict[str, float] = {
    "atomic_write_bytes": 0.25, "save_annotations": 0.4, "settings": 0.1, "session": 0.15,
    "embedding_cache": 0.4, "training_checkpoint": 0.4, "synth_generator": 1.5,
}


@dataclass
class KillStats:
    writer: str
    kills: int = 0
    finished_before_kill: int = 0
    corrupt: int = 0
    resumed: int = 0
    temp_files_left: int = 0
    seconds: float = 0.0


def _read_line(process: subprocess.Popen[str], timeout_s: float) -> str:
    """The next stdout line of ``process`` ("" when it closed stdout or ``timeout_s`` passed)."""
    assert process.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    if not selector.select(timeout=timeout_s):
        return ""
    return process.stdout.readline().strip()


def _expect(process: subprocess.Popen[str], prefix: str, timeout_s: float = 180.0) -> str:
    line = _read_line(process, timeout_s)
    if not line.startswith(prefix):
        process.kill()
        _, err = process.communicate()
        raise RuntimeError(f"writer server said {line!r}, expected {prefix!r}: {err[-3000:]}")
    return line


def kill_writer(writer: str, folder: Path, kills: int, seed: int = 0,
                state: dict[str, Any] | None = None, max_delay_s: float | None = None) -> KillStats:
    """Kill ``writer`` ``kills`` times at random moments (uniform in [0, ``max_delay_s``] after it
    started, default :data:`MAX_DELAY_S`); verify after every kill; resume at the end."""
    max_delay_s = MAX_DELAY_S[writer] if max_delay_s is None else max_delay_s
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    stats = KillStats(writer)
    state = {} if state is None else state
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
           "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    started = time.monotonic()
    server = subprocess.Popen([sys.executable, str(WRITER_SCRIPT), writer, str(folder)], env=env, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert server.stdin is not None
    try:
        _expect(server, "server-ready")
        for round_number in range(kills):
            server.stdin.write("go\n")
            server.stdin.flush()
            child = int(_expect(server, "ready").split()[1])
            time.sleep(float(rng.uniform(0.0, max_delay_s)))
            with contextlib.suppress(ProcessLookupError):  # it may have finished its work already
                os.kill(child, signal.SIGKILL)
            status = int(_expect(server, "done").split()[1])
            if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
                stats.kills += 1
            elif os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
                stats.finished_before_kill += 1
            else:
                raise RuntimeError(f"{writer} failed on its own (wait status {status})")
            state["resume"] = round_number == kills - 1
            state["finished"] = os.WIFEXITED(status)
            stats.corrupt += VERIFIERS[writer](folder, state)
    finally:
        server.stdin.close()
        server.wait(timeout=60)
        if server.stderr is not None:
            server.stderr.close()
        if server.stdout is not None:
            server.stdout.close()
    stats.resumed = int(state.get("resumed", 0))
    stats.temp_files_left = sum(1 for p in folder.rglob("*.tmp"))
    stats.seconds = time.monotonic() - started
    return stats
