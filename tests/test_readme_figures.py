"""The README's results tables are the committed evaluation report of the shipped models, digit for digit.

``models/evaluation/report.json`` is what ``posebrowser evaluate --models models`` writes; this test reads
the README's hit@k, top-10-share and posebit-question tables and checks every cell that has a series in the
report, and that the report was computed with the shipped image and posebit nets (their sha256).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "models" / "evaluation" / "report.json"

# README row label → report series name (rows the report has; other README rows are checked elsewhere)
HIT_ROWS = {
    "**image query**": "image query",
    "image query, the CNN alone (no pose readers)": (
        "image query, CNN alone (the fused model without its pose readers)"
    ),
    "image query, the keypoint reader alone (no pose estimator)": (
        "image query, keypoint reader alone (keypoint net + lifter, no estimator)"
    ),
    "image query, joints model (BlazePose 3-D joints → joints net)": (
        "joints model (BlazePose 3-D joints → joints net)"
    ),
    "joints net fed the ground-truth joints (upper bound)": "joints net on ground-truth joints (upper bound)",
    "posebyte query (posebit net)": "posebyte query (ground-truth posebyte)",
    "raw pixels": "raw pixels (24×24 RGB, cosine)",
    "image query, untrained net": "image query (untrained net)",
    "posebyte oracle": "posebyte oracle (ground-truth bits, no net)",
    "chance": "chance",
}
QUESTION_ROWS = {
    "mask (origin query)": "mask (origin query)",
    "posebyte query (conditional, with the asked-bit contrast: the app's)": "posebyte query (conditional)",
    "posebyte query (conditional, thesis: completion only)": (
        "posebyte query (conditional, thesis: completion only)"
    ),
    "the thesis' completed posebyte ranked by its ground-truth bits (that query's ceiling)": (
        "completed posebyte, ground-truth bits (oracle)"
    ),
    "example image query": "example image query",
    "mean query (full posebyte, the thesis' baseline)": "mean query (full posebyte)",
    "chance": "chance",
}


def _table(text: str, header_start: str) -> dict[str, list[str]]:
    """The markdown table whose header row starts with ``header_start`` → {first cell: other cells}."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {header_start}"))
    rows: dict[str, list[str]] = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


def _number(cell: str) -> float:
    return float(cell.strip("*"))


def _series(report: dict[str, Any], key: str) -> dict[str, list[float]]:
    return next(table["series"] for table in report["tables"] if table["key"] == key)


def test_readme_hit_table_equals_the_report() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    report = json.loads(REPORT.read_text(encoding="utf-8"))
    rows = _table(readme, "hit@k [%]")
    header = next(line for line in readme.splitlines() if line.startswith("| hit@k [%]"))
    columns = [cell.strip() for cell in header.strip().strip("|").split("|")][1:]
    checked = 0
    for label, series_name in HIT_ROWS.items():
        assert label in rows, f"README hit@k table lost its row {label!r}"
        for column, cell in zip(columns, rows[label], strict=True):
            metric, k = re.fullmatch(r"(\w+) @(\d+)", column).groups()  # type: ignore[union-attr]
            expected = _series(report, f"hit@k/{metric}")[series_name][int(k) - 1]
            assert _number(cell) == round(expected, 1), (label, column, cell, expected)
            checked += 1
    assert checked == len(HIT_ROWS) * len(columns)


def test_readme_question_table_equals_the_report() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    report = json.loads(REPORT.read_text(encoding="utf-8"))
    rows = _table(readme, "single-bit posebit questions")
    series = _series(report, "precision@k/posebit_questions")
    for label, series_name in QUESTION_ROWS.items():
        values = [_number(cell) for cell in rows[label]]
        expected = [round(series[series_name][k - 1], 1) for k in (1, 5, 10)]
        assert values == expected, (label, values, expected)


def test_readme_top10_share_of_the_image_query_equals_the_report() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    report = json.loads(REPORT.read_text(encoding="utf-8"))
    cells = _table(readme, "top-10 results among the query's true 50 nearest")["image query"]
    table = next(t for t in report["tables"] if t["key"] == "true50@10")
    metrics = table["details"]["metrics"]
    series = table["series"]["image query"]
    expected = [round(series[metrics.index(m)], 1) for m in ("2d", "3d", "procrustes")]
    assert [_number(c) for c in cells] == expected


def test_readme_hit1_intervals_follow_from_the_report() -> None:
    """The README's 95 % intervals of the image query's hit@1: binomial over the report's queries."""
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    report = json.loads(REPORT.read_text(encoding="utf-8"))
    queries = report["meta"]["query_count"]
    assert f"with {queries} queries, the image query's hit@1" in readme
    for metric, word in (("2d", "2-D"), ("3d", "3-D"), ("procrustes", "Procrustes"), ("hamming", "Hamming")):
        share = _series(report, f"hit@k/{metric}")["image query"][0] / 100
        half = 1.96 * math.sqrt(share * (1 - share) / queries)
        low, high = 100 * (share - half), 100 * (share + half)
        assert f"{word} {low:.1f}–{high:.1f}" in readme, (metric, low, high)


def test_the_report_is_of_the_shipped_models() -> None:
    """The posebit net by its card's sha256; the default image model — the fused one, whose identity
    covers its own file, the CNN's, the joints net's and the estimator's version — as it loads."""
    from posebrowser.core.image_models import image_embedder_from_checkpoint

    meta = json.loads(REPORT.read_text(encoding="utf-8"))["meta"]
    card = json.loads((ROOT / "models" / "posebit_net.json").read_text(encoding="utf-8"))
    assert meta["posebit_model_sha256"] == card["sha256"]
    fused = image_embedder_from_checkpoint(ROOT / "models" / "fused_net", "cpu")
    assert meta["image_model_sha256"] == fused.model_sha256
