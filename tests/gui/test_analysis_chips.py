"""The result chips use the engine's rules: the asked conditions are ``Query.asked_conditions`` (a
subtracted posebit term is not asked) and agreement is ``core.masks.posebit_agreement``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from fake_engine import make_engine  # tests/gui/conftest.py puts it on sys.path

from posebrowser.core.query import PosebitTerm, Query
from posebrowser.gui import analysis


def test_chips_show_only_the_asked_conditions_of_the_engine(tmp_path: Path) -> None:
    """Before: the GUI merged every posebit term, so a subtracted term got agree/clash chips that the
    correctness frame (the engine's asked conditions) ignored."""
    engine = make_engine(tmp_path, count=60)
    first, second = engine.vocabulary.names[:2]
    query = Query((PosebitTerm(((first, 1),)), PosebitTerm(((second, 1),), weight=-0.5)))
    result = engine.search(query, k=20)
    state = analysis.results_state(engine, query, result)
    assert state.chip_names == (first,) == tuple(name for name, _ in result.asked)
    column = engine.gallery.posebits[result.indices, 0]
    np.testing.assert_array_equal(state.chip_agree[:, 0], np.where(column < 0, -1, column == 1))
    np.testing.assert_array_equal(state.correct, np.all(state.chip_agree == 1, axis=1))
