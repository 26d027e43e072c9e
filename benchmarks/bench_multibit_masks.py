"""Multi-bit posebit questions on the built-in gallery: a mask fitted on the fly vs the posebyte queries.

    .venv/bin/python benchmarks/bench_multibit_masks.py [--questions 40] [--bits 2 3] [--seed 0] [--json F]

For random questions of 2 or 3 conditions ("left knee is bent AND right wrist is above the neck"),
each taken from a val-split pose so that it is a pose that occurs, with 20+ holders in the test split:

* **fitted mask** — a mask for exactly those conditions, fitted on the train split's embeddings
  (``engine.fit_mask``), ranking the test split by ‖m ⊙ e‖ (origin query); the fit time is reported;
* **conditional posebyte** — the other bits completed by the Gaussian model, through the posebit net, with
  the app's asked-bit contrast; **… thesis (no contrast)** — the completed posebyte alone;
* **full posebyte** — the asked bits set, all others 0, through the posebit net;
* **mean query** — the posebit net on the full ground-truth posebyte of each val pose that satisfies the
  conditions (the thesis' baseline), averaged over those poses;
* **chance** — the share of test items that satisfy the conditions.

Prints precision@10 and precision@50 averaged over the questions (same questions for every method).
Uses the shipped models (``--models``) and the built-in gallery (``--gallery``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "2")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from posebrowser.core.engine import RetrievalEngine  # noqa: E402
from posebrowser.core.masks import satisfies  # noqa: E402
from posebrowser.core.query import PosebitTerm  # noqa: E402
from posebrowser.data.gallery_format import SPLITS  # noqa: E402

KS = (10, 50)
MIN_HOLDERS = 20


def precision(ranking: np.ndarray, positive: np.ndarray, k: int) -> float:
    return float(positive[ranking[:k]].mean())


def pick_questions(engine: Any, count: int, sizes: list[int], seed: int) -> list[dict[str, int]]:
    """Condition sets read off val poses, with MIN_HOLDERS+ holders (at most half) in the test split."""
    rng = np.random.default_rng(seed)
    gallery = engine.gallery
    bits = np.asarray(gallery.posebits)
    names = list(gallery.posebit_names)
    val = np.flatnonzero(gallery.split == SPLITS.index("val"))
    test = np.flatnonzero(gallery.split == SPLITS.index("test"))
    questions: list[dict[str, int]] = []
    seen: set[tuple[tuple[str, int], ...]] = set()
    for _ in range(count * 200):
        if len(questions) == count:
            break
        row = int(rng.choice(val))
        known = np.flatnonzero(bits[row] >= 0)
        size = int(rng.choice(sizes))
        columns = rng.choice(known, size=size, replace=False)
        by_column = {int(c): int(bits[row, c]) for c in columns}
        holders = int(satisfies(bits[test], by_column).sum())
        key = tuple(sorted((names[c], v) for c, v in by_column.items()))
        if MIN_HOLDERS <= holders <= 0.5 * len(test) and key not in seen:
            seen.add(key)
            questions.append(dict(key))
    return questions


def evaluate(engine: Any, questions: list[dict[str, int]]) -> dict[str, Any]:
    gallery = engine.gallery
    bits = np.asarray(gallery.posebits)
    column = {name: j for j, name in enumerate(gallery.posebit_names)}
    test = np.flatnonzero(gallery.split == SPLITS.index("test"))
    val = np.flatnonzero(gallery.split == SPLITS.index("val"))
    database = np.asarray(engine.embeddings[test], dtype=np.float64)
    net_names = list(engine.posebit_embedder.posebit_names or gallery.posebit_names)
    sums: dict[str, np.ndarray] = {}
    fit_seconds: list[float] = []

    def add(method: str, values: list[float]) -> None:
        sums.setdefault(method, np.zeros(len(KS)))
        sums[method] += np.asarray(values)

    def ranking_of(vector: np.ndarray) -> np.ndarray:
        return np.argsort(np.linalg.norm(database - vector[None, :], axis=1), kind="stable")

    for question in questions:
        by_column = {column[name]: value for name, value in question.items()}
        positive = satisfies(bits[test], by_column)
        started = time.perf_counter()
        mask = engine.fit_mask(question)
        fit_seconds.append(time.perf_counter() - started)
        masked = np.argsort(np.linalg.norm(database * mask[None, :], axis=1), kind="stable")
        add("fitted mask (origin query)", [precision(masked, positive, k) for k in KS])
        conditions = tuple(sorted(question.items()))
        for mode in ("conditional", "full"):
            vector = engine.term_vector(PosebitTerm(conditions, mode=mode))
            add(f"{mode} posebyte", [precision(ranking_of(vector), positive, k) for k in KS])
        vector = engine.term_vector(PosebitTerm(conditions, mode="conditional"), contrast=0.0)
        thesis = [precision(ranking_of(vector), positive, k) for k in KS]
        add("conditional posebyte, thesis (no contrast)", thesis)
        holders = val[satisfies(bits[val], by_column)]
        posebytes = np.zeros((len(holders), len(net_names)), dtype=np.float32)
        for j, name in enumerate(net_names):
            if name in column:
                posebytes[:, j] = np.clip(bits[holders, column[name]], 0, 1)
        vectors = engine.posebit_embedder.embed(posebytes)
        per_holder = [[precision(ranking_of(v), positive, k) for k in KS] for v in vectors]
        add("mean query (full ground-truth posebyte)", list(np.mean(per_holder, axis=0)))
        add("chance", [float(positive.mean())] * len(KS))
    count = max(len(questions), 1)
    return {
        "questions": len(questions),
        "ks": list(KS),
        "precision": {method: [round(100 * v / count, 1) for v in total] for method, total in sums.items()},
        "mask_fit_seconds": {
            "median": round(float(np.median(fit_seconds)), 2),
            "max": round(max(fit_seconds), 2),
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--gallery", default=None)
    parser.add_argument("--models", default=None)
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--bits", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    engine = RetrievalEngine.open(args.gallery, args.models, device="cpu")
    if engine.posebit_embedder is None or engine.gallery.posebits is None:
        print("needs a gallery with posebits and a posebit net", file=sys.stderr)
        return 1
    questions = pick_questions(engine, args.questions, args.bits, args.seed)
    report = evaluate(engine, questions)
    report["condition_sizes"] = args.bits
    report["examples"] = [" AND ".join(f"{n}={v}" for n, v in q.items()) for q in questions[:3]]
    width = max(len(m) for m in report["precision"])
    print(f"{report['questions']} questions of {args.bits} conditions; test split; precision@k in %")
    print(f"{'method':<{width}}  " + "  ".join(f"P@{k:<4}" for k in KS))
    for method, values in report["precision"].items():
        print(f"{method:<{width}}  " + "  ".join(f"{v:5.1f}" for v in values))
    mask_p, full_p = report["precision"]["fitted mask (origin query)"], report["precision"]["full posebyte"]
    print(f"fitted mask / full posebyte at P@10: {mask_p[0] / max(full_p[0], 1e-9):.2f}x")
    fit = report["mask_fit_seconds"]
    print(f"mask fit time: median {fit['median']} s, max {fit['max']} s")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
