"""The thesis' figures built from plain arrays: retrieval preview, 5×5 question grid, mask bar plots,
dataset annotation card and hit@k curves. Each returns a :class:`matplotlib.figure.Figure` on an Agg
canvas (see :mod:`.export`) at publication width, with a legend saying what colours and frames mean."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from numpy.typing import NDArray

from posebrowser.figures.export import PUBLICATION_WIDTH_IN, new_figure
from posebrowser.figures.panels import (
    CORRECT_COLOUR,
    WRONG_COLOUR,
    draw_frame,
    draw_image,
    draw_skeleton_2d,
    draw_skeleton_3d,
)

#: Mask weights at or below this are the dimensions a mask collapses (drawn red, as in the thesis).
COLLAPSED_AT = 0.3
KEPT_BAR_COLOUR = "#1f77b4"
BONE_LEGEND = (
    ("left arm", "#1f77b4"),
    ("right arm", "#ff7f0e"),
    ("left leg", "#2ca02c"),
    ("right leg", "#d62728"),
    ("hips, spine", "#9467bd"),
    ("shoulders", "#8c564b"),
)


@dataclass(frozen=True)
class Tile:
    """One gallery image in a figure: pixels (H, W, 3) uint8, joints (16, 2) px / (16, 3) m or None,
    a title, whether its frame is green (True), red (False) or absent (None), and text lines."""

    image: NDArray[np.uint8] | None
    title: str = ""
    joints_2d: NDArray[np.float32] | None = None
    joints_3d: NDArray[np.float32] | None = None
    correct: bool | None = None
    lines: tuple[str, ...] = ()


def _frame_legend(figure: Figure, meaning: str | None, bones: bool = False) -> None:
    handles: list[Any] = []
    if meaning:
        handles += [
            Patch(facecolor="none", edgecolor=CORRECT_COLOUR, linewidth=2, label=f"green: {meaning}"),
            Patch(facecolor="none", edgecolor=WRONG_COLOUR, linewidth=2, label="red: not"),
        ]
    if bones:
        handles += [Line2D([], [], color=colour, linewidth=1.5, label=label) for label, colour in BONE_LEGEND]
    if handles:
        figure.legend(
            handles=handles, loc="outside lower center", ncol=min(4, len(handles)), fontsize=7, frameon=False
        )


def retrieval_preview(
    query: Tile, results: Sequence[Tile], frame_meaning: str | None, title: str = ""
) -> Figure:
    """The query image then the results, each with its 2-D joints, and a row of 3-D skeletons below
    (when the gallery has 3-D joints); frames green/red by ``frame_meaning``."""
    tiles = [query, *results]
    columns = len(tiles)
    with_3d = any(tile.joints_3d is not None for tile in tiles)
    rows = 2 if with_3d else 1
    cell = PUBLICATION_WIDTH_IN / columns
    figure = new_figure(cell * rows + 0.9 + (0.25 if title else 0))
    for column, tile in enumerate(tiles):
        axes = figure.add_subplot(rows, columns, column + 1)
        draw_image(axes, tile.image)
        draw_skeleton_2d(axes, tile.joints_2d)
        draw_frame(axes, tile.correct if column else None)
        axes.set_title("Query" if column == 0 else tile.title, fontsize=7)
        if with_3d:
            draw_skeleton_3d(
                figure.add_subplot(rows, columns, columns + column + 1, projection="3d"), tile.joints_3d
            )
    if title:
        figure.suptitle(title, fontsize=9)
    _frame_legend(figure, frame_meaning, bones=True)
    return figure


def question_grid(
    tiles: Sequence[Tile], question: str, frame_meaning: str | None, query: Tile | None = None, side: int = 5
) -> Figure:
    """The top ``side``² results in a square grid with thick green/red frames (the thesis' visual check
    of a posebit question); the query image, when there is one, in a column on the left."""
    extra = 1 if query is not None else 0
    columns = side + extra
    figure = new_figure(PUBLICATION_WIDTH_IN * side / columns + 0.9)
    grid = figure.add_gridspec(side, columns)
    if query is not None:
        axes = figure.add_subplot(grid[0, 0])
        draw_image(axes, query.image)
        draw_skeleton_2d(axes, query.joints_2d)
        draw_frame(axes, None)
        axes.set_title("Query", fontsize=8)
    for position, tile in enumerate(tiles[: side * side]):
        axes = figure.add_subplot(grid[position // side, extra + position % side])
        draw_image(axes, tile.image)
        draw_skeleton_2d(axes, tile.joints_2d)
        draw_frame(axes, tile.correct, width=3.0)
        axes.set_title(tile.title, fontsize=6, pad=2)
    figure.suptitle(question, fontsize=10)
    _frame_legend(figure, frame_meaning)
    return figure


def escape_zero_strip(tiles: Sequence[Tile], question: str) -> Figure:
    """The origin query's ranking sampled along its length (the thesis' escape-zero strip): tiles at
    ranks spread over the items that hold the asked value and then over those that do not, each framed
    green (holds it) or red."""
    figure = new_figure(PUBLICATION_WIDTH_IN / max(1, len(tiles)) + 0.9)
    for column, tile in enumerate(tiles):
        axes = figure.add_subplot(1, len(tiles), column + 1)
        draw_image(axes, tile.image)
        draw_skeleton_2d(axes, tile.joints_2d)
        draw_frame(axes, tile.correct, width=3.0)
        axes.set_title(tile.title, fontsize=7)
    figure.suptitle(f"Mask: {question} — ranks sampled from the origin outwards", fontsize=9)
    _frame_legend(figure, f"holds “{question}”")
    return figure


def _mask_axes(axes: Any, mask: NDArray[np.floating] | None, label: str, gid: str) -> None:
    axes.set_title(label, fontsize=8, loc="left")
    if mask is None:
        axes.set_axis_off()
        axes.text(0.5, 0.5, "no mask", ha="center", va="center", transform=axes.transAxes, fontsize=8)
        return
    values = np.clip(np.asarray(mask, dtype=np.float64).ravel(), 0.0, 1.0)
    colours = [WRONG_COLOUR if v <= COLLAPSED_AT else KEPT_BAR_COLOUR for v in values]
    bars = axes.bar(np.arange(values.size), values, width=0.85, color=colours, alpha=0.7)
    for bar in bars:
        bar.set_gid(gid)
    axes.set_xlim(-1, values.size)
    axes.set_ylim(0, 1.02)
    axes.set_ylabel("weight", fontsize=7)
    axes.tick_params(labelsize=6)
    collapsed = int((values <= COLLAPSED_AT).sum())
    axes.set_title(f"{collapsed}/{values.size} collapsed", fontsize=7, loc="right")


def mask_bars(
    is_mask: NDArray[np.floating] | None, is_not_mask: NDArray[np.floating] | None, question: str
) -> Figure:
    """The masks of one posebit question: *is* (value 1) above, *is not* (value 0) below; 128 bars of
    the weights clipped to [0, 1], the collapsed ones (≤ 0.3) red."""
    figure = new_figure(3.6)
    top, bottom = figure.subplots(2, 1, sharex=True)
    _mask_axes(top, is_mask, f"is: {question}", "mask-bars-is")
    _mask_axes(bottom, is_not_mask, f"is not: {question}", "mask-bars-is-not")
    bottom.set_xlabel("embedding dimension", fontsize=7)
    figure.suptitle(f"Masks: {question}?", fontsize=10)
    figure.legend(
        handles=[
            Patch(color=KEPT_BAR_COLOUR, alpha=0.7, label="kept dimension"),
            Patch(color=WRONG_COLOUR, alpha=0.7, label=f"collapsed (≤ {COLLAPSED_AT})"),
        ],
        loc="outside lower center",
        ncol=2,
        fontsize=7,
        frameon=False,
    )
    return figure


def annotation_card(samples: Sequence[Tile]) -> Figure:
    """Per sample: the image; the faded image with its 2-D skeleton; the 3-D skeleton; its posebits
    as a monospace list (the thesis' dataset annotation figure)."""
    rows = max(1, len(samples))
    figure = new_figure(1.75 * rows + 0.5)
    grid = figure.add_gridspec(rows, 4, width_ratios=(1, 1, 1, 1.6))
    for row, tile in enumerate(samples):
        raw = figure.add_subplot(grid[row, 0])
        draw_image(raw, tile.image)
        raw.set_title(tile.title, fontsize=7)
        overlay = figure.add_subplot(grid[row, 1])
        draw_image(overlay, tile.image, faded=True)
        draw_skeleton_2d(overlay, tile.joints_2d)
        draw_skeleton_3d(figure.add_subplot(grid[row, 2], projection="3d"), tile.joints_3d)
        text = figure.add_subplot(grid[row, 3])
        text.set_axis_off()
        text.text(
            0.0,
            1.0,
            "\n".join(tile.lines),
            family="monospace",
            fontsize=6,
            va="top",
            transform=text.transAxes,
        )
    for axes in figure.axes:
        for spine in axes.spines.values():
            spine.set_visible(False)
    _frame_legend(figure, None, bones=True)
    return figure


def hit_curves(
    tables: Sequence[Mapping[str, Any]], title: str = "", columns: int = 3, panel_in: float = 2.3
) -> Figure:
    """One panel per evaluation table (report dicts of :mod:`posebrowser.evaluation.report`): a line per
    series over k in one colour across panels, chance dashed grey, one legend for all panels below;
    ``columns`` panels of ``panel_in`` inches per row (publication width for the default three)."""
    count = max(1, len(tables))
    columns = min(columns, count)
    rows = math.ceil(count / columns)
    labels = list(dict.fromkeys(label for table in tables for label in table["series"]))
    colours = _series_colours(labels)
    figure = new_figure(
        panel_in * rows + 0.3 + 0.15 * math.ceil(len(labels) / 3),
        max(PUBLICATION_WIDTH_IN, columns * panel_in),
    )
    for position, table in enumerate(tables):
        axes = figure.add_subplot(rows, columns, position + 1)
        for label, values in table["series"].items():
            chance = str(label).startswith("chance")
            line = axes.plot(
                table["ks"],
                values,
                "--" if chance else "-",
                marker="o",
                markersize=2 if chance else 3,
                color=colours[label],
                linewidth=1.0,
                label=label,
            )
            line[0].set_gid("curve-chance" if chance else "curve")
        axes.set_title(table["title"], fontsize=8)
        axes.set_xlabel("k", fontsize=7)
        axes.set_ylabel(table.get("unit") or "value", fontsize=7)
        axes.tick_params(labelsize=6)
        axes.grid(alpha=0.3)
    handles = [
        Line2D(
            [],
            [],
            color=colours[label],
            linestyle="--" if label.startswith("chance") else "-",
            marker="o",
            markersize=3,
            label=label,
        )
        for label in labels
    ]
    if handles:
        figure.legend(
            handles=handles, loc="outside lower center", ncol=min(3, len(handles)), fontsize=6, frameon=False
        )
    if title:
        figure.suptitle(title, fontsize=9)
    return figure


def _series_colours(labels: Sequence[str]) -> dict[str, str]:
    """The same colour for a series in every panel: tab10 in order, greys for the chance rows."""
    cycle = [
        "#1f77b4",
        "#ff7f0e",
        "#2ca02c",
        "#d62728",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#bcbd22",
        "#17becf",
    ]
    colours: dict[str, str] = {}
    for label in labels:
        if label.startswith("chance"):
            colours[label] = "0.45" if label == "chance" else "0.75"
        else:
            colours[label] = cycle[sum(1 for c in colours.values() if c.startswith("#")) % len(cycle)]
    return colours
