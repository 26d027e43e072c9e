"""Evaluation reports: metric tables from arrays, JSON-able report dicts, text and PNG output.

Everything here takes numpy arrays (no engine, no torch), so it is testable on synthetic data.
Percentages (hit@k, precision@k) are stored ×100; distances in the units of the ground truth.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from posebrowser.evaluation.metrics import (
    DEFAULT_KS,
    THESIS_RANK_THRESHOLD,
    chance_hit_at_k,
    chance_mean_distance_at_k,
    chance_precision,
    precision_at_k,
    retrieval_scores,
    true_neighbour_share,
)
from posebrowser.fileio import atomic_write_bytes

REPORT_FORMAT = "posebrowser-evaluation"
REPORT_VERSION = 1
CHANCE = "chance"
Condition = tuple[str, int]


@dataclass(frozen=True)
class MetricTable:
    """One plot/table: a value per k for each named series (model, variant, chance)."""

    key: str
    title: str
    unit: str
    ks: tuple[int, ...]
    series: dict[str, list[float]]
    definition: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (floats rounded to 4 decimals)."""
        return {
            "key": self.key,
            "title": self.title,
            "unit": self.unit,
            "ks": list(self.ks),
            "series": {label: [round(float(v), 4) for v in values] for label, values in self.series.items()},
            "definition": self.definition,
            "details": self.details,
        }


def evaluate_retrieval(
    query_sets: Mapping[str, ArrayLike],
    db_emb: ArrayLike,
    gt_tables: Mapping[str, ArrayLike],
    ks: Sequence[int] = DEFAULT_KS,
    threshold: int = THESIS_RANK_THRESHOLD,
    thesis_off_by_one: bool = True,
    units: Mapping[str, str] | None = None,
    seed: int = 0,
) -> list[MetricTable]:
    """hit@k and mean distance@k tables, one pair per ground-truth metric.

    query_sets: label → (Q, D) query embeddings (e.g. "image query", "posebyte query"); db_emb (M, D);
    gt_tables: metric name → (Q, M) ground-truth distances between the same queries and database.
    """
    units = units or {}
    ks = tuple(ks)
    window = threshold + 1 if thesis_off_by_one else threshold
    tables: list[MetricTable] = []
    for metric, table in gt_tables.items():
        truth = np.asarray(table, dtype=np.float64)
        hits: dict[str, list[float]] = {}
        distances: dict[str, list[float]] = {}
        for label, queries in query_sets.items():
            scores = retrieval_scores(queries, db_emb, truth, ks, threshold, thesis_off_by_one)
            hits[label] = (scores.hit * 100).tolist()
            distances[label] = scores.distance_standard.tolist()
            distances[f"{label} (thesis variant)"] = scores.distance_thesis.tolist()
        num_db = truth.shape[1]
        hits[CHANCE] = (chance_hit_at_k(num_db, ks, threshold, thesis_off_by_one) * 100).tolist()
        hits[f"{CHANCE} (Monte Carlo)"] = (
            chance_hit_at_k(num_db, ks, threshold, thesis_off_by_one, method="monte_carlo", seed=seed) * 100
        ).tolist()
        distances[CHANCE] = chance_mean_distance_at_k(truth, ks).tolist()
        tables.append(
            MetricTable(
                key=f"hit@k/{metric}",
                title=f"hit@k ({metric})",
                unit="%",
                ks=ks,
                series=hits,
                definition=(
                    f"Share of queries for which one of their k ground-truth nearest {metric} neighbours "
                    f"is among the top {window} retrieved items."
                ),
                details={"queries": int(truth.shape[0]), "database": int(num_db), "window": window},
            )
        )
        tables.append(
            MetricTable(
                key=f"distance@k/{metric}",
                title=f"mean distance@k ({metric})",
                unit=units.get(metric, ""),
                ks=ks,
                series=distances,
                definition=(
                    "Mean ground-truth distance of the k-th retrieved item; the thesis variant is "
                    "D(q, γ_q[rank_q(γ_q[k−1])])."
                ),
                details={"queries": int(truth.shape[0]), "database": int(num_db)},
            )
        )
    return tables


def evaluate_true_neighbours(
    query_sets: Mapping[str, ArrayLike],
    db_emb: ArrayLike,
    gt_tables: Mapping[str, ArrayLike],
    k: int = 10,
    true_k: int = 50,
    seed: int = 0,
) -> MetricTable:
    """One table: for each query set and ground-truth metric, the share (×100) of the top-``k`` results
    that are among the ``true_k`` ground-truth nearest; chance is ``true_k / M``."""
    series: dict[str, list[float]] = {}
    metrics = list(gt_tables)
    for label, queries in query_sets.items():
        series[label] = [
            100 * true_neighbour_share(queries, db_emb, gt_tables[m], k, true_k) for m in metrics
        ]
    num_db = np.asarray(next(iter(gt_tables.values()))).shape[1] if gt_tables else 1
    series[CHANCE] = [100 * min(true_k, num_db) / num_db] * len(metrics)
    return MetricTable(
        key=f"true{true_k}@{k}",
        title=f"top-{k} results among the true {true_k} nearest",
        unit="%",
        ks=tuple(range(1, len(metrics) + 1)),
        series=series,
        definition=(
            f"Share of each query's top {k} results that are among its {true_k} ground-truth nearest "
            "database items; one column per ground-truth metric (details.metrics)."
        ),
        details={"metrics": metrics, "k": k, "true_k": true_k},
    )


def evaluate_image_retrieval(
    query_emb: ArrayLike,
    db_emb: ArrayLike,
    gt_tables: Mapping[str, ArrayLike],
    ks: Sequence[int] = DEFAULT_KS,
    threshold: int = THESIS_RANK_THRESHOLD,
    thesis_off_by_one: bool = True,
    units: Mapping[str, str] | None = None,
    seed: int = 0,
) -> list[MetricTable]:
    """:func:`evaluate_retrieval` for a single set of image-embedding queries (Q, D)."""
    return evaluate_retrieval(
        {"image query": query_emb}, db_emb, gt_tables, ks, threshold, thesis_off_by_one, units, seed
    )


def evaluate_posebit_questions(
    methods: Mapping[str, Mapping[Condition, ArrayLike]],
    posebits: ArrayLike,
    posebit_names: Sequence[str],
    chance_rows: ArrayLike | None = None,
    ks: Sequence[int] = DEFAULT_KS,
) -> MetricTable:
    """precision@k (the thesis' "recall@k") of single-condition posebit questions, ×100.

    methods: label → {(bit name, value): rankings (Q, K) or (K,) row indices into ``posebits``}.
    posebits (N, B) int (−1 = unknown); ``chance_rows`` are the rows a random ranking draws from
    (default: all). Every method is averaged over the same pairs: those all methods answered.
    """
    bits = np.asarray(posebits)
    column = {name: i for i, name in enumerate(posebit_names)}
    rows = np.arange(bits.shape[0]) if chance_rows is None else np.asarray(chance_rows)
    ks = tuple(ks)
    answered = [set(rankings) for rankings in methods.values()]
    common = sorted(set.intersection(*answered)) if answered else []
    per_condition: dict[str, dict[str, list[float]]] = {}
    sums = {label: np.zeros(len(ks)) for label in methods}
    chance_sum = 0.0
    for name, value in common:
        truth = bits[:, column[name]]
        entry: dict[str, list[float]] = {}
        for label, rankings in methods.items():
            precision = precision_at_k(rankings[(name, value)], truth, value, ks) * 100
            sums[label] += precision
            entry[label] = [round(float(v), 2) for v in precision]
        rate = chance_precision(truth[rows], value) * 100
        chance_sum += rate
        entry[CHANCE] = [round(rate, 2)] * len(ks)
        per_condition[f"{name}={value}"] = entry
    count = max(len(common), 1)
    series = {label: (total / count).tolist() for label, total in sums.items()}
    series[CHANCE] = [chance_sum / count] * len(ks)
    return MetricTable(
        key="precision@k/posebit_questions",
        title="posebit questions: precision@k",
        unit="%",
        ks=ks,
        series=series,
        definition=(
            "Share of the top-k results that have the asked posebit value, averaged over "
            "single-condition questions (called recall@k in the thesis)."
        ),
        details={"conditions": len(common), "per_condition": per_condition},
    )


def build_report(tables: Sequence[MetricTable], meta: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """JSON-able report dict: ``{"format", "version", "meta", "tables": [...]}``."""
    return {
        "format": REPORT_FORMAT,
        "version": REPORT_VERSION,
        "meta": dict(meta or {}),
        "tables": [table.to_dict() for table in tables],
    }


def format_report_text(report: Mapping[str, Any]) -> str:
    """Human-readable text: one block per table, one line per series, values per k."""
    lines: list[str] = []
    for table in report["tables"]:
        unit = f" [{table['unit']}]" if table["unit"] else ""
        width = max(len(label) for label in [*table["series"], "k"]) + 2
        lines.append(f"{table['title']}{unit}")
        lines.append(f"  {'k':<{width}}" + "".join(f"{k:>8}" for k in table["ks"]))
        for label, values in table["series"].items():
            lines.append(f"  {label:<{width}}" + "".join(f"{v:>8.2f}" for v in values))
        lines.append("")
    return "\n".join(lines)


def plot_report(report: Mapping[str, Any], path: str | Path) -> Path:
    """Save a PNG with one panel per table (lines per series; chance dashed). Uses the Agg canvas."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    tables = [t for t in report["tables"] if "metrics" not in t.get("details", {})]
    columns = min(3, max(len(tables), 1))
    rows = max(1, math.ceil(len(tables) / columns))
    figure = Figure(figsize=(4.6 * columns, 3.4 * rows), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    for index, table in enumerate(tables):
        axes = figure.add_subplot(rows, columns, index + 1)
        for label, values in table["series"].items():
            if label.startswith(CHANCE):
                grey = "0.35" if label == CHANCE else "0.65"
                axes.plot(table["ks"], values, "--", color=grey, marker="o", markersize=2, label=label)
            else:
                axes.plot(table["ks"], values, "-", marker="o", markersize=3, label=label)
        axes.set_title(table["title"], fontsize=10)
        axes.set_xlabel("k")
        axes.set_ylabel(table["unit"] or "value")
        axes.grid(alpha=0.3)
        axes.legend(fontsize=7, framealpha=0.7)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    path = Path(path)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def format_report_markdown(report: Mapping[str, Any], ks: Sequence[int] = (1, 5, 10)) -> str:
    """Markdown tables at a few k: one for hit@k (a row per series, a column group per ground-truth
    metric) and one per remaining table kind (posebit questions); distance tables are left out."""
    tables = list(report["tables"])
    hits = [t for t in tables if t["key"].startswith("hit@k/")]
    lines: list[str] = []

    def cells(table: Mapping[str, Any], label: str) -> list[str]:
        values = table["series"].get(label)
        if values is None:
            return ["–"] * len(ks)
        return [f"{values[list(table['ks']).index(k)]:.1f}" if k in table["ks"] else "–" for k in ks]

    if hits:
        metrics = [t["key"].split("/", 1)[1] for t in hits]
        labels = [label for label in hits[0]["series"] if label != f"{CHANCE} (Monte Carlo)"]
        head = " | ".join(f"{m} @{k}" for m in metrics for k in ks)
        lines += [f"| hit@k [%] | {head} |", "|---" * (1 + len(metrics) * len(ks)) + "|"]
        for label in labels:
            row = [cell for table in hits for cell in cells(table, label)]
            lines.append(f"| {label} | " + " | ".join(row) + " |")
        lines.append("")
    for table in tables:
        if table["key"].startswith(("hit@k/", "distance@k/")):
            continue
        if "metrics" in table.get("details", {}):  # one column per ground-truth metric
            names = table["details"]["metrics"]
            lines += [
                f"| {table['title']} [%] | " + " | ".join(names) + " |",
                "|---" * (1 + len(names)) + "|",
            ]
            for label, values in table["series"].items():
                lines.append(f"| {label} | " + " | ".join(f"{v:.1f}" for v in values) + " |")
            lines.append("")
            continue
        unit = f" [{table['unit']}]" if table["unit"] else ""
        lines += [
            f"| {table['title']}{unit} | " + " | ".join(f"k={k}" for k in ks) + " |",
            "|---" * (1 + len(ks)) + "|",
        ]
        for label in table["series"]:
            lines.append(f"| {label} | " + " | ".join(cells(table, label)) + " |")
        lines.append("")
    return "\n".join(lines)


def write_report(report: Mapping[str, Any], out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``report.json``, ``report.md`` and ``report.png`` into ``out_dir`` (each atomically);
    returns the JSON and PNG paths."""
    out = Path(out_dir)
    json_path = out / "report.json"
    atomic_write_bytes(json_path, (json.dumps(report, indent=2) + "\n").encode("utf-8"))
    atomic_write_bytes(out / "report.md", (format_report_markdown(report) + "\n").encode("utf-8"))
    return json_path, plot_report(report, out / "report.png")
