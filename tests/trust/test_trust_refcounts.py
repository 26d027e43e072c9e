"""The Qt binding must not corrupt Python's reference counts.

PySide6(-Essentials) 6.12.0 on CPython 3.11 drops a reference to ``None`` on every
``QApplication.processEvents()`` and to ``True`` on signal emissions with Python slots; after a few
thousand user actions the count reaches zero and the interpreter aborts ("Fatal Python error:
none_dealloc: deallocating None"), which the GUI soak of ``benchmarks/trust_report.py --full`` hit.
6.11.2 does not (and CPython ≥ 3.12 makes None/True immortal). The probe runs in a subprocess so that
an abort fails this test instead of killing the test run.
"""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication
app = QApplication([])
class Emitter(QObject):
    changed = Signal(object)
emitter = Emitter()
emitter.changed.connect(lambda value: None)
for _ in range(20):
    app.processEvents(); emitter.changed.emit(1)
none, true = sys.getrefcount(None), sys.getrefcount(True)
for _ in range(300):
    app.processEvents()
    emitter.changed.emit(1)
print(sys.getrefcount(None) - none, sys.getrefcount(True) - true)
"""


def test_processing_events_and_signals_keeps_refcounts() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, f"the interpreter aborted: {done.stderr[-1500:]}"
    none_drift, true_drift = (int(v) for v in done.stdout.split())
    assert abs(none_drift) < 30 and abs(true_drift) < 30, (
        f"PySide6 changed refcounts over 300 event loops + emits: None {none_drift}, True {true_drift}; "
        "pin a PySide6-Essentials without the bug (6.11.2 is fine; 6.12.0 on Python 3.11 is not)")
