"""A posebit query's "true k nearest" frames: green when a result holds as many asked posebits as the
k-th best searched item — "every asked posebit" for a few bits, and a reachable bar for a photo's many
estimated bits (no item holds 80 bits at once, so every frame was red)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from annotated_engine import annotated_engine

from posebrowser.core.query import PosebitTerm, Query
from posebrowser.data.gallery_format import SPLITS
from posebrowser.gui.main_window import MainWindow


@pytest.fixture
def window(make_window: Callable[..., MainWindow], tmp_path: Path) -> MainWindow:
    return make_window(annotated_engine(tmp_path / "images", count=160))


def _held(gallery: Any, rows: np.ndarray, conditions: list[tuple[str, int]]) -> np.ndarray:
    names = list(gallery.posebit_names)
    return np.array([sum(int(gallery.posebits[r, names.index(n)] == v) for n, v in conditions) for r in rows])


def test_many_bits_green_from_the_kth_best_searched_item(window: MainWindow) -> None:
    gallery = window.session.engine.gallery
    names = list(gallery.posebit_names)
    conditions = [(name, int(gallery.posebits[5, j] != 1)) for j, name in enumerate(names[:12])]
    window.session.set_split("test")
    window.session.set_result_count(10)
    window.session.request_query(Query((PosebitTerm(tuple(conditions)),)))
    state = window.results_view.model.state
    assert state is not None and state.correct is not None
    searched = np.flatnonzero(np.asarray(gallery.split) == SPLITS.index("test"))
    pool_held = np.sort(_held(gallery, searched, conditions))[::-1]
    needed = max(1, int(pool_held[min(len(state.indices), len(searched)) - 1]))
    assert state.bits_needed == needed
    assert np.array_equal(state.correct, _held(gallery, state.indices, conditions) >= needed)
    assert needed < len(conditions)  # no searched item holds all 12 here
    assert f"holds at least {needed} of the 12 asked posebits" in state.correct_meaning


def test_a_single_bit_most_items_hold_keeps_every_asked_posebit(window: MainWindow) -> None:
    gallery = window.session.engine.gallery
    column = int(np.argmax(np.abs((gallery.posebits == 1).mean(axis=0) - 0.5) < 0.2))
    name = gallery.posebit_names[column]
    window.session.set_result_count(10)
    window.session.request_query(Query((PosebitTerm(((name, 1),)),)))
    state = window.results_view.model.state
    assert state is not None and state.bits_needed == 1
    assert state.correct_meaning == "satisfies every asked posebit"
    assert np.array_equal(state.correct, gallery.posebits[state.indices, column] == 1)
