"""Composition root: entry-point routing, fast window, exception hooks, and the real engine."""

from __future__ import annotations

import sys
import threading
import time
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from posebrowser import __main__ as entry
from posebrowser.app import RealEngineFactory, build, install_exception_hooks
from posebrowser.data.gallery_format import SPLITS
from posebrowser.errors import CorruptFileError
from posebrowser.gui.notifications import Notifier
from posebrowser.gui.settings_store import SettingsStore

REPO = Path(__file__).resolve().parents[2]


def test_entry_point_routes_commands_to_the_cli_and_options_to_the_gui(monkeypatch: Any) -> None:
    seen: list[tuple[str, list[str]]] = []
    fake_cli = types.ModuleType("posebrowser.cli")
    fake_cli.main = lambda argv=None: seen.append(("cli", list(argv))) or 3  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "posebrowser.cli", fake_cli)
    monkeypatch.setattr("posebrowser.app.main", lambda argv=None: seen.append(("gui", list(argv))) or 0)
    assert entry.main(["query", "--json"]) == 3
    assert entry.main(["--device", "cpu"]) == 0
    assert entry.main([]) == 0
    assert seen == [("cli", ["query", "--json"]), ("gui", ["--device", "cpu"]), ("gui", [])]


def test_window_is_shown_before_the_engine_opens(qtbot: Any, tmp_path: Path) -> None:
    started = time.perf_counter()
    window, session, _ = build(RealEngineFactory(None, "cpu", None), SettingsStore(tmp_path / "s.ini"))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert time.perf_counter() - started < 5.0
    assert session.engine is None, "the engine opens after the window is shown"
    window.close()


def test_gui_start_up_does_not_import_heavy_libraries() -> None:
    import subprocess

    code = (
        "import sys, posebrowser.app; "
        "print(sorted(m for m in ('torch', 'faiss', 'openTSNE', 'scipy') if m in sys.modules))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert output.stdout.strip() == "[]"


def test_uncaught_exceptions_reach_the_notifier(qtbot: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    notifier = Notifier()
    relay = install_exception_hooks(notifier)
    sys.excepthook(CorruptFileError, CorruptFileError("truncated", path="x.jpg"), None)
    assert notifier.history[-1][1] == "x.jpg: truncated"
    worker = threading.Thread(target=lambda: 1 / 0)
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: "ZeroDivisionError" in notifier.history[-1][1], timeout=2000)
    relay.deleteLater()


@pytest.mark.skipif(
    not (REPO / "resources" / "gallery").is_dir()
    or not (REPO / "models" / "image_net.safetensors").is_file(),
    reason="the built-in gallery or the shipped models are missing",
)
def test_real_engine_click_to_results(qtbot: Any, tmp_path: Path) -> None:
    window, session, notifier = build(
        RealEngineFactory(None, "cpu", None), SettingsStore(tmp_path / "s.ini")
    )
    qtbot.addWidget(window)
    window.show()
    session.load()
    qtbot.waitUntil(
        lambda: session.engine is not None or any(level.value == "error" for level, _ in notifier.history),
        timeout=240_000,
    )
    assert session.engine is not None, notifier.history
    engine = session.engine
    assert session.settings.split == "test", "the database by default: no training images in results"
    first = int(np.flatnonzero(engine.gallery.split == SPLITS.index("test"))[0])
    shown = int((engine.gallery.split == SPLITS.index("test")).sum())
    qtbot.waitUntil(lambda: window.gallery_view.model.rowCount() == shown, timeout=10_000)
    session.request_image_query(first)
    qtbot.waitUntil(lambda: session.results is not None, timeout=30_000)
    assert int(session.results.indices[0]) == first
    assert np.all(engine.gallery.split[session.results.indices] == SPLITS.index("test"))
    if not (REPO / "models" / "posebit_net.safetensors").is_file():
        session.set_partial_method("mask")  # conditional completion needs the posebit network
    name = session.engine.vocabulary.names[0]
    window.posebit_panel.set_bit(name, 1)
    qtbot.waitUntil(
        lambda: (
            session.query is not None
            and len(session.query.terms) == 1
            and session.results is not None
            and session.results.chip_names == (name,)
        ),
        timeout=30_000,
    )
    qtbot.waitUntil(lambda: session.projection is not None, timeout=60_000)
    window.close()


def test_window_over_the_real_engine_class(make_window: Any, tmp_path: Path, qtbot: Any) -> None:
    """The real RetrievalEngine (faiss index, core projection) over in-memory embeddings."""
    from fake_engine import make_engine

    from posebrowser.core.engine import RetrievalEngine

    fake = make_engine(tmp_path / "real", count=300)
    engine = RetrievalEngine.from_arrays(fake.gallery, fake.embeddings, vocabulary=fake.vocabulary)
    window = make_window(engine, synchronous=False)
    session = window.session
    qtbot.waitUntil(lambda: session.projection is not None, timeout=20_000)
    assert session.projection.coords.shape == (300, 2)
    name = fake.vocabulary.names[0]
    window.posebit_panel.set_bit(name, 1)
    expected = int((fake.gallery.posebits[:, 0] == 1).sum())
    qtbot.waitUntil(
        lambda: window.posebit_panel.count_label.text().startswith(f"{expected:,} "), timeout=5000
    )
    session.request_image_query(11)
    qtbot.waitUntil(
        lambda: session.results is not None and session.projection.query_point is not None, timeout=10_000
    )
    assert int(session.results.indices[0]) == 11
    np.testing.assert_allclose(session.projection.query_point, session.projection.coords[11], atol=1e-4)
    assert "index" in window.engine_status.label.text()


def test_the_app_offers_only_what_this_machine_has(window: Any, monkeypatch: Any) -> None:
    """Before: UMAP was listed without umap-learn installed, and CUDA without a GPU."""
    import importlib.util

    import torch

    from posebrowser.gui.state import available_projection_methods
    from posebrowser.gui.status_widgets import available_devices

    combo_methods = window.projection_view.method
    methods = [combo_methods.itemData(i) for i in range(combo_methods.count())]
    assert ("umap" in methods) == (importlib.util.find_spec("umap") is not None)
    combo = window.engine_status.device if hasattr(window, "engine_status") else None
    devices = [value for value, _ in available_devices()]
    assert ("cuda" in devices) == torch.cuda.is_available()
    if combo is not None:
        assert [combo.itemData(i) for i in range(combo.count())] == devices
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "umap" else object())
    assert [m for m, _ in available_projection_methods()] == ["pca", "tsne"]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert [value for value, _ in available_devices()] == ["auto", "cpu"]


def test_the_shortcut_list_names_every_shortcut(window: Any) -> None:
    """Before: a monospace-less list with ragged columns, without the panel's Ctrl+T."""
    rows = dict((what, keys) for keys, what in window.shortcut_rows())
    assert rows.get("Show only the posebits set to 'is' or 'not'") == "Ctrl+T"
    assert "F1" in rows.values() and all(keys and what for what, keys in rows.items())


def test_f1_opens_the_shortcut_card_without_blocking(window: Any, qtbot: Any) -> None:
    """Before: F1 ran a modal QMessageBox.exec(), which blocked the GUI soak offscreen until its timeout."""
    window.show_shortcuts()  # returns at once (a modal exec() would never return here)
    box = window.shortcuts_box
    qtbot.waitUntil(box.isVisible, timeout=2000)
    assert not box.isModal() and "Ctrl+T" in box.text()
    box.close()
