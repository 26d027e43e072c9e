"""How much of the image query's margin over chance survives on the stress sets.

    python tools/stress_margins.py models/evaluation models/evaluation/stress/*

Reads ``report.json`` of the in-distribution evaluation (first folder) and of each stress set, and prints
a Markdown table per ground-truth metric: hit@1 and hit@10 of the image query, chance, and the retained
share of the margin. The margin is normalised by the room above chance, ``(hit − chance) / (100 − chance)``,
because the stress galleries are smaller (2,000 images, so ~300 test items) than the built-in one and a
window of 51 covers a larger share of a smaller database: the raw difference ``hit − chance`` would shrink
at k = 10 only because chance approaches 100 %.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

METRICS = ("2d", "3d", "procrustes")
KS = (1, 10)


def _load(folder: Path) -> dict[str, dict[str, list[float]]]:
    report = json.loads((folder / "report.json").read_text())
    return {table["key"]: table["series"] for table in report["tables"]}


def _normalised_margin(series: dict[str, list[float]], k: int) -> tuple[float, float, float]:
    hit, chance = series["image query"][k - 1], series["chance"][k - 1]
    return hit, chance, (hit - chance) / (100.0 - chance)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    base_folder, stress_folders = Path(argv[0]), [Path(a) for a in argv[1:]]
    base = _load(base_folder)
    print("| set | metric | hit@1 (chance) | retained @1 | hit@10 (chance) | retained @10 |")
    print("|---|---|---|---|---|---|")
    for folder in [base_folder, *stress_folders]:
        tables = _load(folder)
        for metric in METRICS:
            cells = []
            for k in KS:
                hit, chance, margin = _normalised_margin(tables[f"hit@k/{metric}"], k)
                _, _, base_margin = _normalised_margin(base[f"hit@k/{metric}"], k)
                cells += [f"{hit:.1f} ({chance:.1f})", f"{100 * margin / base_margin:.0f} %"]
            name = "built-in (val → test)" if folder == base_folder else folder.name
            print(f"| {name} | {metric} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
