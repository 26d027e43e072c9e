"""GUI soak: a seeded monkey performs random user actions on the real MainWindow (offscreen, real
worker threads, the GUI tests' fake engine); no exception escapes, every error shown is typed, and
resident memory stays flat. ``TRUST_SOAK_ACTIONS`` (default 600) sets the number of actions;
``benchmarks/trust_report.py --full`` runs 6,000."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gui"))
from soak_files import soak_files
from trust_soak import run_soak

ACTIONS = int(os.environ.get("TRUST_SOAK_ACTIONS", "600"))
#: Allowed resident-memory growth after the warm-up in this short run: it catches runaway leaks only.
#: Memory climbs by ~400 MiB during the first ~1,000 actions (allocator arenas of the worker and
#: thumbnail threads, the 128 MiB QPixmapCache) and is flat after that; the full run of
#: ``benchmarks/trust_report.py --full`` measures growth after a 1,000-action warm-up.
MAX_GROWTH_MIB = 600.0


def checked_engine(folder: Path) -> Any:
    """The GUI tests' fake engine with pose annotations, refusing out-of-range image terms with QueryError
    as the real RetrievalEngine does (the fake would raise IndexError)."""
    from annotated_engine import annotated_engine  # joints, splits: the inspector and evaluation work

    from posebrowser.core.query import ImageTerm
    from posebrowser.errors import QueryError

    engine = annotated_engine(folder, count=300)
    engine.project_delay_s = 0.002
    search = engine.search

    def checked_search(
        query: Any, k: int = 50, split: str | None = None, contrast: float | None = None
    ) -> Any:
        for term in query.terms:
            if isinstance(term, ImageTerm) and term.gallery_index is not None and \
                    not 0 <= term.gallery_index < len(engine.gallery):
                raise QueryError(f"There is no gallery image {term.gallery_index}.")
        return search(query, k, split, contrast)

    engine.search = checked_search
    return engine


@pytest.mark.gui
def test_random_user_actions_never_crash(qtbot: Any, tmp_path: Path) -> None:
    from posebrowser.app import build
    from posebrowser.gui.settings_store import SettingsStore

    engine = checked_engine(tmp_path / "images")
    window, session, _ = build(lambda ctx, path: engine, SettingsStore(tmp_path / "settings.ini"))
    window.photo.cache_root = tmp_path / "estimates"  # dropped photos never write the user's cache
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    session.load()
    qtbot.waitUntil(lambda: session.engine is not None, timeout=10000)
    files = soak_files(tmp_path / "files", sorted((tmp_path / "images").glob("*.png"))[:2])
    (tmp_path / "files" / "saved").mkdir()
    try:
        stats = run_soak(window, ACTIONS, seed=2018, files=files, save_folder=tmp_path / "files" / "saved",
                         warm_up_actions=200)
    finally:
        session.workers.shutdown()
    print(f"soak: {stats.actions} actions, memory trace (MiB) {stats.memory_trace_mib}, "
          f"growth per kind {stats.growth_per_kind}, big steps {stats.big_steps}")
    assert stats.actions == ACTIONS
    assert not stats.escaped, stats.escaped[:5]
    assert not stats.untyped_errors, stats.untyped_errors[:5]
    assert stats.memory_growth_mib < MAX_GROWTH_MIB, stats
