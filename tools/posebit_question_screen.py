"""Conditional posebit questions at random, answered by a models folder: precision@10 with a 95 % interval.

A diagnostic for comparing two models folders on many questions instead of one screenshot's question:
questions of one and of two posebits, drawn with a fixed seed among the bits that hold in 15–85 % of the
database split's images, each value at random, kept when at least ``--min-holders`` database images
answer it; each is asked as the app asks it (the conditional query) over that split. Use the val split:
no model choice should be made on test.

    .venv/bin/python tools/posebit_question_screen.py --models models --cache-dir models/embeddings
    .venv/bin/python tools/posebit_question_screen.py --models OTHER --cache-dir OTHER/embeddings
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

Question = tuple[tuple[str, int], ...]


def sample_questions(
    bits: NDArray[np.integer],
    names: Sequence[str],
    trials: int = 150,
    seed: int = 0,
    band: tuple[float, float] = (0.15, 0.85),
    min_holders: int = 20,
) -> list[tuple[Question, Question]]:
    """(two-bit question, its first bit alone) pairs: ``trials`` draws of two distinct bits whose share
    of 1s in ``bits`` (items × bits, −1 unknown) lies inside ``band``, with random values, kept when at
    least ``min_holders`` items hold both."""
    rng = np.random.default_rng(seed)
    shares = (bits == 1).mean(axis=0)
    usable = [column for column, share in enumerate(shares) if band[0] < share < band[1]]
    questions = []
    for _ in range(trials):
        first, second = (int(c) for c in rng.choice(usable, 2, replace=False))
        first_value, second_value = (int(v) for v in rng.integers(0, 2, size=2))
        holders = int(((bits[:, first] == first_value) & (bits[:, second] == second_value)).sum())
        if holders >= min_holders:
            pair = ((names[first], first_value), (names[second], second_value))
            questions.append((tuple(sorted(pair)), ((names[first], first_value),)))
    return questions


def precision_at_10(engine: Any, questions: Sequence[Question], split: str) -> tuple[float, float]:
    """Mean precision@10 in % of the engine's conditional query over ``questions`` on ``split``, and the
    half-width of its 95 % interval (normal, over the questions)."""
    from posebrowser.core.query import PosebitTerm, Query

    scores = np.array(
        [
            np.mean(engine.search(Query((PosebitTerm(question),)), k=10, split=split).correct)
            for question in questions
        ]
    )
    return 100 * float(scores.mean()), 196 * float(scores.std()) / float(np.sqrt(len(scores)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=Path, required=True)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--gallery", type=Path, default=None, help="default: the built-in gallery")
    parser.add_argument("--split", default="val")
    parser.add_argument("--trials", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    from posebrowser.core.engine import RetrievalEngine

    engine = RetrievalEngine.open(args.gallery, args.models, device="cpu", cache_dir=args.cache_dir)
    gallery = engine.gallery
    pairs = sample_questions(
        np.asarray(gallery.posebits)[gallery.split_indices(args.split)],
        list(gallery.posebit_names),
        args.trials,
        args.seed,
    )
    for label, questions in (("two bits", [two for two, _ in pairs]), ("one bit", [one for _, one in pairs])):
        mean, half = precision_at_10(engine, questions, args.split)
        where = f"{args.models}: {label}, {len(questions)} questions on {args.split}"
        print(f"{where}: P@10 {mean:.1f} ± {half:.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
