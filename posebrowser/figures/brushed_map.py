"""The map figure: the gallery's 2-D layout (t-SNE, PCA or UMAP coordinates) coloured by one posebit,
the rectangular boxes the user brushed on it drawn and numbered, and beside it one collage per box of
thumbnails of the images inside that box (what a region of the map holds). Qt-free.

Everything is vector in SVG and PDF except the thumbnails: each point is a marker (``map-points…``
gids), each box a rectangle (``brush-box-N``), each thumbnail an image whose gid names its box and
gallery index (``collage-N-item-INDEX``), so an exported file can be checked against the boxes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from numpy.typing import NDArray
from PIL import Image

from posebrowser.figures.boxes import PER_BOX, Box, MapInput, box_colour, collage_members
from posebrowser.figures.export import new_figure

HOLDS_COLOUR = "#d62728"
NOT_COLOUR = "#9aa0a6"
UNKNOWN_COLOUR = "#dadce0"
#: How many thumbnails a collage row holds.
COLLAGE_COLUMNS = 4
THUMBNAIL_PX = 128

ImagePaths = Callable[[int], str | Path] | Sequence[str | Path]


def thumbnail(path: str | Path, size: int = THUMBNAIL_PX) -> NDArray[np.uint8]:
    """The image at ``path`` as RGB, scaled down to fit ``size`` × ``size`` pixels (aspect kept)."""
    with Image.open(path) as opened:
        image = opened.convert("RGB")
    image.thumbnail((size, size))
    return np.asarray(image, dtype=np.uint8)


def _figure_of(axes: Axes) -> Figure:
    figure = axes.get_figure(root=True)
    assert isinstance(figure, Figure)
    return figure


def _point_size(count: int) -> float:
    return float(np.clip(8000.0 / max(1, count), 1.0, 14.0))


def _draw_points(axes: Axes, data: MapInput) -> list[Patch]:
    """Scatter the points coloured by ``data.values``; returns legend handles for the colours."""
    coords, values, size = data.coords, data.values, _point_size(len(data.coords))
    if values is None or len(values) != len(coords):
        axes.scatter(coords[:, 0], coords[:, 1], s=size, c=NOT_COLOUR, linewidths=0, gid="map-points")
        return []
    if not data.categorical:
        drawn = axes.scatter(
            coords[:, 0],
            coords[:, 1],
            s=size,
            c=np.nan_to_num(values, nan=1.0),
            cmap="viridis_r",
            vmin=0.0,
            vmax=1.0,
            linewidths=0,
            gid="map-points",
        )
        colour_bar = _figure_of(axes).colorbar(drawn, ax=axes, shrink=0.6, pad=0.01)
        colour_bar.set_label(data.label, fontsize=7)
        colour_bar.ax.tick_params(labelsize=6)
        return []
    groups = (
        ("unknown", np.isnan(values), UNKNOWN_COLOUR, "unknown"),
        ("not", values == 0, NOT_COLOUR, f"not: {data.label}"),
        ("holds", values == 1, HOLDS_COLOUR, data.label),
    )
    handles = []
    for name, chosen, colour, text in groups:  # holders last: drawn on top
        if chosen.any():
            axes.scatter(
                coords[chosen, 0], coords[chosen, 1], s=size, c=colour, linewidths=0, gid=f"map-points-{name}"
            )
            handles.append(Patch(color=colour, label=text))
    return handles


def _draw_boxes(axes: Axes, boxes: Sequence[Box]) -> None:
    for number, box in enumerate(boxes, start=1):
        colour = box_colour(number)
        axes.add_patch(
            Rectangle(
                (box.x0, box.y0),
                box.x1 - box.x0,
                box.y1 - box.y0,
                fill=False,
                edgecolor=colour,
                linewidth=1.6,
                zorder=4,
                gid=f"brush-box-{number}",
            )
        )
        axes.text(
            box.x0,
            box.y1,
            str(number),
            color="white",
            fontsize=7,
            fontweight="bold",
            ha="left",
            va="bottom",
            zorder=5,
            bbox={"boxstyle": "square,pad=0.15", "facecolor": colour, "edgecolor": "none"},
            gid=f"brush-label-{number}",
        )


def _draw_collage(
    axes: Axes,
    number: int,
    box: Box,
    members: NDArray[np.int64],
    total: int,
    per_box: int,
    path_of: Callable[[int], str | Path],
    thumbnail_px: int,
) -> None:
    rows = max(1, math.ceil(per_box / COLLAGE_COLUMNS))  # every collage the same size
    for position, index in enumerate(members):
        row, column = divmod(position, COLLAGE_COLUMNS)
        image = thumbnail(path_of(int(index)), thumbnail_px)
        height, width = image.shape[:2]
        scale = 0.94 / max(height, width)
        left, top = column + (1 - width * scale) / 2, row + (1 - height * scale) / 2
        axes.imshow(
            image,
            extent=(left, left + width * scale, top + height * scale, top),
            interpolation="none",
            gid=f"collage-{number}-item-{int(index)}",
        )
    axes.set_xlim(0, COLLAGE_COLUMNS)
    axes.set_ylim(rows, 0)
    axes.set_aspect("equal")
    axes.set_xticks([])
    axes.set_yticks([])
    for spine in axes.spines.values():
        spine.set_edgecolor(box_colour(number))
        spine.set_linewidth(2.0)
        spine.set_gid(f"collage-frame-{number}")
    shown = "" if total <= len(members) else f" ({len(members)} shown)"
    axes.set_title(f"{number}: {box.name}\n{total} images{shown}", fontsize=7, loc="left")
    if total == 0:
        axes.text(0.5, 0.5, "no images", ha="center", va="center", transform=axes.transAxes, fontsize=7)


def brushed_map(
    data: MapInput,
    image_paths: ImagePaths,
    per_box: int = PER_BOX,
    thumbnail_px: int = THUMBNAIL_PX,
    title: str = "",
) -> Figure:
    """The map of ``data`` with its boxes drawn and numbered, and a collage per box of the images
    inside it (``image_paths``: gallery index → image file, a sequence or a function)."""
    path_of: Callable[[int], str | Path] = image_paths if callable(image_paths) else image_paths.__getitem__
    count = len(data.boxes)
    columns = 1 if count <= 4 else 2
    rows = max(1, math.ceil(count / columns))
    figure = new_figure(max(3.8, 1.35 * rows + 0.9))
    figure.suppressComposite = True  # each thumbnail its own image in SVG and PDF, named by its gid
    outer = figure.add_gridspec(1, 2, width_ratios=(1.3, 0.7 * columns))
    map_axes = figure.add_subplot(outer[0, 0])
    handles = _draw_points(map_axes, data)
    _draw_boxes(map_axes, data.boxes)
    map_axes.set_aspect("equal", adjustable="datalim")
    map_axes.set_xticks([])
    map_axes.set_yticks([])
    map_axes.set_title(f"{data.method} coloured by: {data.label}", fontsize=8)
    if handles:
        map_axes.legend(handles=handles, loc="lower left", fontsize=6, frameon=True, markerscale=2)
    collages = outer[0, 1].subgridspec(rows, columns)
    for number, box in enumerate(data.boxes, start=1):
        members, total = collage_members(data.coords, box, per_box)
        position = number - 1
        axes = figure.add_subplot(collages[position // columns, position % columns])
        _draw_collage(axes, number, box, members, total, per_box, path_of, thumbnail_px)
    if title:
        figure.suptitle(title, fontsize=9)
    return figure
