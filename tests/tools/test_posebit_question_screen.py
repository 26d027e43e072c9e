"""tools/posebit_question_screen.py: which questions it draws and how it scores them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
from script_loader import load_script


def _bits() -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(3)
    bits = (rng.random((400, 6)) < [0.5, 0.3, 0.05, 0.95, 0.6, 0.5]).astype(np.int8)
    bits[:10, 0] = -1  # unknown values count for neither value
    return bits, [f"bit {column}" for column in range(6)]


def test_questions_use_only_bits_inside_the_band_with_enough_holders() -> None:
    tool = load_script("tools/posebit_question_screen.py")
    bits, names = _bits()
    pairs = tool.sample_questions(bits, names, trials=200, seed=1, min_holders=40)
    assert len(pairs) > 20
    for two, one in pairs:
        assert len(two) == 2 and len(one) == 1 and one[0] in two
        columns = [names.index(name) for name, _ in two]
        assert not {2, 3} & set(columns) and columns[0] != columns[1]  # 5 % and 95 %: outside the band
        holders = np.ones(len(bits), bool)
        for name, value in two:
            holders &= bits[:, names.index(name)] == value
        assert holders.sum() >= 40
    assert pairs == tool.sample_questions(bits, names, trials=200, seed=1, min_holders=40)  # seeded


def test_precision_is_the_mean_of_each_questions_top_ten() -> None:
    tool = load_script("tools/posebit_question_screen.py")
    answers = {(("a", 1),): [True] * 10, (("b", 0),): [True] * 5 + [False] * 5}
    asked: list[tuple[Any, str]] = []

    class Engine:
        def search(self, query: Any, k: int, split: str) -> SimpleNamespace:
            assert k == 10
            term = query.terms[0]
            asked.append((term.conditions, split))
            return SimpleNamespace(correct=np.asarray(answers[term.conditions]))

    mean, half = tool.precision_at_10(Engine(), list(answers), "val")
    assert mean == 75.0 and abs(half - 196 * 0.25 / np.sqrt(2)) < 1e-9
    assert asked == [((("a", 1),), "val"), ((("b", 0),), "val")]
