"""The thesis' figures drawn with matplotlib and exported with real vector content."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from vector_content import pdf_images, pdf_path_operators, svg_images, svg_paths_under

from posebrowser.figures.export import figure_bytes, format_for, save_figure
from posebrowser.figures.thesis import (
    Tile,
    annotation_card,
    hit_curves,
    mask_bars,
    question_grid,
    retrieval_preview,
)

ROOT = Path(__file__).resolve().parents[2]


def _tile(seed: int, correct: bool | None = None) -> Tile:
    rng = np.random.default_rng(seed)
    joints_3d = rng.normal(scale=0.3, size=(16, 3)).astype(np.float32)
    joints_2d = (48 + 30 * rng.normal(size=(16, 2))).astype(np.float32)
    image = rng.integers(0, 255, size=(96, 96, 3), dtype=np.uint8)
    return Tile(image, f"#{seed}", joints_2d, joints_3d, correct, ("left elbow is bent: True",))


def test_mask_bars_are_vector_bars_in_svg_and_pdf() -> None:
    rng = np.random.default_rng(0)
    figure = mask_bars(rng.random(128), rng.random(128), "left elbow is bent")
    svg = figure_bytes(figure, "svg")
    assert svg_paths_under(svg, "mask-bars-is-not") == 128
    assert svg_paths_under(svg, "mask-bars-is") == 256  # the prefix also matches "is-not"
    assert svg_images(svg) == 0
    pdf = figure_bytes(figure, "pdf")
    assert pdf_images(pdf) == 0 and pdf_path_operators(pdf) >= 256
    assert b"collapsed" in svg and b"kept dimension" in svg  # the legend, as text


def test_retrieval_preview_has_vector_joints_frames_and_the_query_image() -> None:
    figure = retrieval_preview(_tile(1), [_tile(2, True), _tile(3, False)], "among the true 50 nearest", "q")
    svg = figure_bytes(figure, "svg")
    assert svg_paths_under(svg, "joints-2d") >= 3 * 15  # a dot per drawn joint in each tile
    assert svg_paths_under(svg, "skeleton-3d") >= 3 * 13
    assert svg_paths_under(svg, "frame-correct") >= 1 and svg_paths_under(svg, "frame-wrong") >= 1
    assert svg_images(svg) == 3  # the query and two results stay bitmaps
    assert b"Query" in svg and b"green: among the true 50 nearest" in svg
    pdf = figure_bytes(figure, "pdf")
    assert pdf_images(pdf) == 3 and pdf_path_operators(pdf) > 100


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_each_figure_exports_in_each_format(tmp_path: Path, suffix: str) -> None:
    tables = [
        {
            "title": "hit@k (3d)",
            "unit": "%",
            "ks": [1, 2, 3],
            "series": {"image query": [10.0, 20.0, 30.0], "chance": [5.0, 9.0, 14.0]},
        }
    ]
    figures = {
        "grid": question_grid(
            [_tile(i, i % 2 == 0) for i in range(9)], "left elbow is bent?", "holds it", _tile(99), side=3
        ),
        "card": annotation_card([_tile(i) for i in range(2)]),
        "curves": hit_curves(tables, "tiny"),
    }
    for name, figure in figures.items():
        path = save_figure(figure, tmp_path / f"{name}{suffix}", dpi=72)  # 300 dpi by default; slow here
        data = path.read_bytes()
        assert data.startswith({".png": b"\x89PNG", ".svg": b"<?xml", ".pdf": b"%PDF"}[suffix]), name
    assert figures["grid"].get_size_inches()[0] == pytest.approx(7.0)  # publication width


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="PNG, SVG or PDF"):
        format_for("figure.jpg")


def test_drawing_a_figure_leaves_pyplot_alone() -> None:
    code = (
        "import sys, numpy as np\n"
        "from posebrowser.figures.thesis import mask_bars\n"
        "from posebrowser.figures.export import figure_bytes\n"
        "figure_bytes(mask_bars(np.ones(8), None, 'q'), 'png')\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_escape_zero_ranks_follow_the_thesis() -> None:
    from posebrowser.figures.live import escape_zero_ranks

    assert escape_zero_ranks(holders=40, total=100) == [0, 10, 20, 40, 70]
    assert escape_zero_ranks(holders=100, total=100) == [0, 25, 50, 99, 99]
