"""The results export: every result and the query in the figure, and the same list in CSV and JSON."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from vector_content import pdf_images, pdf_pages, svg_ids, svg_image_ids, svg_paths_under, svg_texts

from posebrowser.figures.results_sheet import (
    COLUMNS,
    ROWS_PER_PAGE,
    SheetQuery,
    SheetResult,
    results_pages,
    save_results_export,
)


def sample_results(count: int, seed: int = 1) -> list[SheetResult]:
    rng = np.random.default_rng(seed)
    verdicts = [True, False, None]
    return [
        SheetResult(
            image=rng.integers(0, 255, size=(24, 18, 3), dtype=np.uint8),
            rank=rank + 1,
            index=int(rng.integers(0, 10_000)),
            path=f"/gallery/{rank:03d}.png",
            distance=float(0.01 * rank + rng.random() * 1e-3),
            correct=verdicts[int(rng.integers(0, 3))],
        )
        for rank in range(count)
    ]


IMAGE_QUERY = SheetQuery(
    np.zeros((30, 20, 3), dtype=np.uint8), ("[img 12]",), "among the true 50 nearest", "/gallery/q.png"
)


def test_fifty_results_give_fifty_tiles_the_query_and_fifty_table_rows(tmp_path: Path) -> None:
    results = sample_results(50)
    written = save_results_export(IMAGE_QUERY, results, tmp_path / "results.svg")
    assert [p.name for p in written] == ["results.svg", "results.csv", "results.json"]
    svg = written[0].read_bytes()
    ids = svg_image_ids(svg)
    assert sorted(ids) == sorted(["query-image", *(f"result-image-{r}" for r in range(1, 51))])
    texts = svg_texts(svg)
    for result in results:
        assert f"#{result.rank}  d={result.distance:.3g}" in texts
    frames = {i for i in svg_ids(svg) if i.startswith("frame-")}
    verdict = {True: "correct", False: "wrong"}
    assert frames == {f"frame-{verdict[r.correct]}-{r.rank}" for r in results if r.correct is not None}
    assert all(svg_paths_under(svg, frame) >= 1 for frame in frames)  # each a vector rectangle
    assert "green: among the true 50 nearest" in texts and "[img 12]" in texts
    with written[1].open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 50
    for row, result in zip(rows, results, strict=True):
        assert int(row["rank"]) == result.rank and int(row["index"]) == result.index
        assert row["path"] == result.path and float(row["distance"]) == result.distance
        assert row["frame"] == {True: "green", False: "red", None: "none"}[result.correct]
    payload = json.loads(written[2].read_text())
    assert payload["count"] == 50 and payload["query_image"] == "/gallery/q.png"
    assert [r["index"] for r in payload["results"]] == [r.index for r in results]


def test_a_posebit_query_is_shown_as_its_terms(tmp_path: Path) -> None:
    query = SheetQuery(None, ("right elbow is bent? True", "left knee is bent? False"), None)
    svg = save_results_export(query, sample_results(7), tmp_path / "bits.svg")[0].read_bytes()
    assert "query-image" not in svg_image_ids(svg) and len(svg_image_ids(svg)) == 7
    texts = svg_texts(svg)
    assert "right elbow is bent? True" in texts and "left knee is bent? False" in texts


def test_a_pdf_pages_a_long_list_and_keeps_every_result(tmp_path: Path) -> None:
    per_page = COLUMNS * ROWS_PER_PAGE
    results = sample_results(2 * per_page + 5)
    assert len(results_pages(IMAGE_QUERY, results)) == 3
    pdf = save_results_export(IMAGE_QUERY, results, tmp_path / "long.pdf")[0].read_bytes()
    assert pdf_pages(pdf) == 3 and pdf_images(pdf) == len(results) + 1


def test_a_table_alone_and_unknown_formats(tmp_path: Path) -> None:
    results = sample_results(4)
    assert save_results_export(IMAGE_QUERY, results, tmp_path / "only.json") == [tmp_path / "only.json"]
    assert not (tmp_path / "only.csv").exists()
    with pytest.raises(ValueError, match="PDF, SVG, PNG, CSV or JSON"):
        save_results_export(IMAGE_QUERY, results, tmp_path / "r.jpg")
