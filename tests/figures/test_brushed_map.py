"""The map figure with brushed boxes: vector points and rectangles, and collages holding exactly the
images inside each box (checked against a brute-force loop over the points)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from vector_content import (
    pdf_images,
    pdf_marker_uses,
    pdf_stroke_colours,
    svg_image_ids,
    svg_image_pixels,
    svg_marker_uses,
    svg_paths_under,
    svg_texts,
)

from posebrowser.figures.boxes import PER_BOX, Box, MapInput, box_colour, collage_members, points_in_box
from posebrowser.figures.brushed_map import brushed_map
from posebrowser.figures.export import figure_bytes

COUNT = 300


def colour_of(index: int) -> tuple[int, int, int]:
    """A colour unique to gallery item ``index`` (the oracle reads it back from the figure)."""
    return (index % 256, (index // 256) * 40 + 10, 200 - index % 97)


@pytest.fixture(scope="module")
def image_paths(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("items")
    paths = []
    for index in range(COUNT):
        path = folder / f"{index:04d}.png"
        Image.new("RGB", (20, 28), colour_of(index)).save(path)
        paths.append(path)
    return paths


def inside_by_loop(coords: np.ndarray, box: Box) -> list[int]:
    return [i for i, (x, y) in enumerate(coords.tolist()) if box.x0 <= x <= box.x1 and box.y0 <= y <= box.y1]


def sample_map(seed: int = 5) -> MapInput:
    rng = np.random.default_rng(seed)
    coords = rng.normal(scale=10.0, size=(COUNT, 2)).astype(np.float32)
    values = rng.integers(0, 2, size=COUNT).astype(np.float32)
    values[rng.choice(COUNT, size=30, replace=False)] = np.nan
    boxes = (
        Box.spanning("crowd", (-8.0, -8.0), (4.0, 5.0)),  # holds more than a collage shows
        Box.spanning("corner", (14.0, 14.0), (30.0, 30.0)),  # a few points
        Box("nothing", 100.0, 100.0, 101.0, 101.0),
    )
    return MapInput(coords, values, "right elbow is bent", True, "t-SNE", boxes)


def test_points_in_box_match_a_loop_over_the_points() -> None:
    rng = np.random.default_rng(0)
    coords = rng.normal(size=(500, 2)).astype(np.float32)
    coords[7] = (0.5, 0.5)  # on the edges: inside
    for _ in range(20):
        box = Box.spanning("b", rng.normal(size=2).tolist(), rng.normal(size=2).tolist())
        assert points_in_box(coords, box).tolist() == inside_by_loop(coords, box)
    assert 7 in points_in_box(coords, Box("edge", 0.5, 0.5, 0.5, 0.5)).tolist()
    around = Box.around("sel", coords[[3, 9, 40]])
    assert set(points_in_box(coords, around).tolist()) >= {3, 9, 40}


def test_collage_members_are_inside_and_spread_when_the_box_is_crowded() -> None:
    data = sample_map()
    crowd = data.boxes[0]
    inside = inside_by_loop(data.coords, crowd)
    assert len(inside) > PER_BOX
    members, total = collage_members(data.coords, crowd)
    assert total == len(inside) and len(members) == PER_BOX and set(members.tolist()) <= set(inside)
    assert members[0] == inside[0] and members[-1] == inside[-1]


def test_svg_has_a_vector_point_per_item_a_rectangle_per_box_and_the_boxes_images(
    image_paths: list[Path],
) -> None:
    data = sample_map()
    svg = figure_bytes(brushed_map(data, image_paths), "svg")
    assert svg_marker_uses(svg, "map-points") == COUNT  # every point a vector marker
    assert svg_marker_uses(svg, "map-points-unknown") == 30
    for number in (1, 2, 3):
        assert svg_paths_under(svg, f"brush-box-{number}") == 1
    ids = svg_image_ids(svg)
    pixels = svg_image_pixels(svg)
    texts = svg_texts(svg)
    for number, box in enumerate(data.boxes, start=1):
        inside = inside_by_loop(data.coords, box)
        shown = [int(i.rsplit("-", 1)[1]) for i in ids if i.startswith(f"collage-{number}-item-")]
        if len(inside) <= PER_BOX:
            assert sorted(shown) == inside, box.name
        else:
            assert len(shown) == PER_BOX and set(shown) <= set(inside), box.name
        for index in shown:  # the embedded picture is that item's image
            image = Image.open(io.BytesIO(pixels[f"collage-{number}-item-{index}"])).convert("RGB")
            centre = image.getpixel((image.width // 2, image.height // 2))
            assert centre == colour_of(index)
        title = texts.index(f"{number}: {box.name}")  # the collage's title: name, then the count
        assert re.match(rf"{len(inside)} images", texts[title + 1])
        assert str(number) in texts  # the box's number on the map
    assert len(ids) == sum(min(len(inside_by_loop(data.coords, b)), PER_BOX) for b in data.boxes)


def test_pdf_has_a_marker_per_point_the_box_outlines_and_the_collage_images(image_paths: list[Path]) -> None:
    data = sample_map()
    pdf = figure_bytes(brushed_map(data, image_paths), "pdf")
    assert pdf_marker_uses(pdf) == COUNT
    assert pdf_images(pdf) == sum(min(len(inside_by_loop(data.coords, b)), PER_BOX) for b in data.boxes)
    strokes = pdf_stroke_colours(pdf)
    for number in (1, 2, 3):
        hex_colour = box_colour(number).lstrip("#")
        rgb = tuple(round(int(hex_colour[i : i + 2], 16) / 255, 2) for i in (0, 2, 4))
        assert rgb in strokes


def test_continuous_colouring_has_a_colour_bar_and_plain_points_draw_too(image_paths: list[Path]) -> None:
    data = sample_map()
    distances = MapInput(data.coords, np.linspace(0, 1, COUNT), "3D distance", False, "PCA", data.boxes[1:2])
    svg = figure_bytes(brushed_map(distances, image_paths), "svg")
    assert svg_marker_uses(svg, "map-points") == COUNT and "3D distance" in svg_texts(svg)
    plain = MapInput(data.coords, None, "plain", False, "UMAP", ())
    svg = figure_bytes(brushed_map(plain, lambda index: image_paths[index]), "svg")
    assert svg_marker_uses(svg, "map-points") == COUNT and svg_image_ids(svg) == []
