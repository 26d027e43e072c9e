"""How much of the image query's margin over chance survives on the stress sets.

    python tools/stress_margins.py models/evaluation models/evaluation/stress/*
    python tools/stress_margins.py --series "image query, CNN alone" models/evaluation \
        models/evaluation/stress/*

Reads ``report.json`` of the in-distribution evaluation (first folder) and of each stress set, and prints
a Markdown table per ground-truth metric: hit@1 and hit@10 of the image query (or, with ``--series``, of
the report's series whose label starts with the text given: another image model of the same report),
chance, and the retained share of the margin with its approximate 95 % interval. The margin is normalised
by the room above chance, ``(hit − chance) / (100 − chance)``, so that a stress gallery of another size (a
window of 51 covers a larger share of a smaller database) compares fairly; the stress sets `make
evaluate-stress` builds have the built-in gallery's 5,000 images, where the normalisation changes little.

The interval treats each hit@k as a proportion over the report's queries (binomial standard error) and
propagates both galleries' errors to the log of the ratio (delta method). It says how far the sampling
of queries alone could move the figure, not how another seed of the training would.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import NamedTuple

METRICS = ("2d", "3d", "procrustes")
KS = (1, 10)
Z_95 = 1.96


class Margin(NamedTuple):
    hit: float  # percent
    chance: float  # percent
    value: float  # (hit − chance) / (100 − chance)
    standard_error: float  # of ``value``, from the binomial error of ``hit``


def _load(folder: Path) -> tuple[dict[str, dict[str, list[float]]], int]:
    report = json.loads((folder / "report.json").read_text())
    return {table["key"]: table["series"] for table in report["tables"]}, int(report["meta"]["query_count"])


def series_label(series: dict[str, list[float]], start: str) -> str:
    """The one label of ``series`` that is ``start`` or starts with it (a clear error otherwise)."""
    if start in series:
        return start
    found = [label for label in series if label.startswith(start)]
    if len(found) != 1:
        raise SystemExit(f"{len(found)} series start with {start!r}: {', '.join(found) or 'none'}")
    return found[0]


def normalised_margin(series: dict[str, list[float]], k: int, queries: int, label: str = "image query"
                      ) -> Margin:
    hit, chance = series[series_label(series, label)][k - 1], series["chance"][k - 1]
    share = hit / 100.0
    hit_error = 100.0 * math.sqrt(share * (1.0 - share) / max(queries, 1))
    room = 100.0 - chance
    return Margin(hit, chance, (hit - chance) / room, hit_error / room)


def retained(stress: Margin, base: Margin) -> tuple[float, float, float]:
    """The retained share ``stress / base`` and its approximate 95 % interval (low, high); the interval
    is (nan, nan) when either margin is not above zero (its log is undefined)."""
    ratio = stress.value / base.value
    if stress.value <= 0 or base.value <= 0:
        return ratio, math.nan, math.nan
    log_error = math.hypot(stress.standard_error / stress.value, base.standard_error / base.value)
    spread = math.exp(Z_95 * log_error)
    return ratio, ratio / spread, ratio * spread


def _cell(ratio: float, low: float, high: float) -> str:
    if math.isnan(low):
        return f"{100 * ratio:.0f} %"
    return f"{100 * ratio:.0f} % ({100 * low:.0f}–{100 * high:.0f})"


def main(argv: list[str]) -> int:
    label = "image query"
    if argv[:1] == ["--series"] and len(argv) > 1:
        label, argv = argv[1], argv[2:]
    if len(argv) < 2:
        print(__doc__)
        return 2
    base_folder, stress_folders = Path(argv[0]), [Path(a) for a in argv[1:]]
    base, base_queries = _load(base_folder)
    print("| set (queries) | metric | hit@1 (chance) | retained @1 (95 % interval) | hit@10 (chance) "
          "| retained @10 (95 % interval) |")
    print("|---|---|---|---|---|---|")
    for folder in [base_folder, *stress_folders]:
        tables, queries = _load(folder)
        reference = folder == base_folder
        name = "built-in (val → test)" if reference else folder.name
        for metric in METRICS:
            cells = []
            for k in KS:
                margin = normalised_margin(tables[f"hit@k/{metric}"], k, queries, label)
                if reference:
                    share = "100 % (the reference)"
                else:
                    base_margin = normalised_margin(base[f"hit@k/{metric}"], k, base_queries, label)
                    share = _cell(*retained(margin, base_margin))
                cells += [f"{margin.hit:.1f} ({margin.chance:.1f})", share]
            print(f"| {name} ({queries}) | {metric} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
