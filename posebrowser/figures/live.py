"""Figures from what is open: a gallery (images, joints, posebits), an engine (masks) and the current
query's results. Everything here reads arrays and files only (no Qt); the app runs it on a worker."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import NDArray
from PIL import Image

from posebrowser.figures.thesis import (
    Tile,
    annotation_card,
    escape_zero_strip,
    mask_bars,
    question_grid,
    retrieval_preview,
)

Rows = Sequence[int] | NDArray[np.int64]
Values = Sequence[float] | NDArray[np.float32]

#: How many posebits an annotation card lists per sample.
CARD_POSEBITS = 12


def _row(array: Any, index: int) -> NDArray[np.float32] | None:
    return None if array is None else np.asarray(array[index], dtype=np.float32)


def gallery_tile(
    gallery: Any, index: int, title: str = "", correct: bool | None = None, lines: tuple[str, ...] = ()
) -> Tile:
    """Gallery item ``index`` at its stored size with its 2-D and 3-D joints."""
    image = np.asarray(gallery.load_image(int(index)).convert("RGB"), dtype=np.uint8)
    return Tile(
        image,
        title,
        _row(getattr(gallery, "joints_2d", None), index),
        _row(getattr(gallery, "joints_3d", None), index),
        correct,
        lines,
    )


def file_tile(path: str | Path, title: str = "") -> Tile:
    """An image file that is not in the gallery (no annotations)."""
    with Image.open(path) as opened:
        return Tile(np.asarray(opened.convert("RGB"), dtype=np.uint8), title)


def _verdict(correct: NDArray[np.bool_] | None, row: int) -> bool | None:
    return None if correct is None else bool(correct[row])


def result_tiles(
    gallery: Any,
    indices: Rows,
    correct: NDArray[np.bool_] | None,
    distances: Values | None = None,
) -> list[Tile]:
    """Tiles for ranked results: title "#rank d=…", frame from ``correct``."""
    tiles = []
    for row, index in enumerate(indices):
        title = f"#{row + 1}" + ("" if distances is None else f"  d={float(distances[row]):.3f}")
        tiles.append(gallery_tile(gallery, int(index), title, _verdict(correct, row)))
    return tiles


def retrieval_preview_figure(
    gallery: Any,
    query: Tile,
    indices: Rows,
    correct: NDArray[np.bool_] | None,
    meaning: str | None,
    title: str = "",
    distances: Values | None = None,
    count: int = 5,
) -> Figure:
    """The query and its first ``count`` results with 2-D joints and 3-D skeletons."""
    shown = list(indices)[:count]
    return retrieval_preview(query, result_tiles(gallery, shown, correct, distances), meaning, title)


def question_grid_figure(
    gallery: Any,
    query: Tile | None,
    indices: Rows,
    correct: NDArray[np.bool_] | None,
    meaning: str | None,
    question: str,
) -> Figure:
    """The top 25 results in a 5×5 grid with green/red frames."""
    shown = list(indices)[:25]
    return question_grid(result_tiles(gallery, shown, correct), question, meaning, query)


def mask_bars_figure(mask_for: Callable[[tuple[tuple[str, int], ...]], Any], name: str, label: str) -> Figure:
    """The *is* and *is not* masks of posebit ``name`` (``mask_for`` = the engine's: shipped or fitted)."""
    masks: list[NDArray[np.float32] | None] = []
    for value in (1, 0):
        try:
            masks.append(np.asarray(mask_for(((name, value),)), dtype=np.float32))
        except Exception:  # a value no gallery item holds has no mask; drawn as "no mask"
            masks.append(None)
    return mask_bars(masks[0], masks[1], label)


def posebit_lines(
    gallery: Any, index: int, labels: dict[str, str], count: int = CARD_POSEBITS
) -> tuple[str, ...]:
    """ "<label>: True/False" for ``count`` posebits spread over the vocabulary (unknown bits skipped)."""
    bits = getattr(gallery, "posebits", None)
    if bits is None:
        return ("(no posebit annotations)",)
    names = list(gallery.posebit_names)
    picks = np.unique(np.linspace(0, len(names) - 1, num=min(count, len(names))).round().astype(int))
    lines = [
        f"{labels.get(names[c], names[c])}: {bool(bits[index, c])}" for c in picks if bits[index, c] >= 0
    ]
    return (*lines, "…") if len(names) > len(picks) else tuple(lines)


def annotation_card_figure(gallery: Any, indices: Rows, labels: dict[str, str]) -> Figure:
    """The dataset annotation card for gallery items ``indices`` (four in the thesis)."""
    return annotation_card(
        [
            gallery_tile(gallery, int(i), f"#{int(i)}", None, posebit_lines(gallery, int(i), labels))
            for i in indices
        ]
    )


def escape_zero_ranks(holders: int, total: int) -> list[int]:
    """The thesis' five sample ranks of an origin query over ``total`` items of which ``holders`` hold the
    asked value: 0, P/4 and 2P/4 among the expected positives, then P and P + (M − P)/2."""
    quarter = holders // 4
    ranks = [0, quarter, 2 * quarter, holders, holders + (total - holders) // 2]
    return [min(rank, total - 1) for rank in ranks]


def escape_zero_figure(
    gallery: Any,
    embeddings: NDArray[np.float32],
    mask: NDArray[np.float32],
    name: str,
    value: int,
    label: str,
) -> Figure:
    """Rank the gallery by ‖mask ⊙ e‖ (the origin query) and show the items at the sample ranks, framed by
    whether they hold ``name`` = ``value`` (the thesis ranked oracle posebyte embeddings; this ranks the
    image embeddings the app searches)."""
    column = np.asarray(gallery.posebits[:, list(gallery.posebit_names).index(name)])
    norms = np.linalg.norm(
        np.asarray(embeddings, dtype=np.float64) * np.asarray(mask, dtype=np.float64), axis=1
    )
    order = np.argsort(norms, kind="stable")
    tiles = [
        gallery_tile(gallery, int(order[rank]), f"rank {rank}", bool(column[order[rank]] == value))
        for rank in escape_zero_ranks(int((column == value).sum()), len(order))
    ]
    return escape_zero_strip(tiles, label if value else f"not: {label}")
