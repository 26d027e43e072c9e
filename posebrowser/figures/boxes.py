"""Rectangular boxes brushed on a 2-D map of the gallery and the points inside them: plain numpy, no
matplotlib, so the app can keep boxes without loading the plotting library."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

#: One colour per box (matplotlib's tab10 without red and grey, which the points use), repeated.
BOX_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")
#: Thumbnails per collage at most.
PER_BOX = 12


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle in the map's data coordinates (edges included); ``name`` labels it."""

    name: str
    x0: float
    y0: float
    x1: float
    y1: float

    @classmethod
    def spanning(cls, name: str, corner: Sequence[float], opposite: Sequence[float]) -> Box:
        """The box between two opposite corners given in any order."""
        (xa, ya), (xb, yb) = corner, opposite
        return cls(name, min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb))

    @classmethod
    def around(cls, name: str, points: NDArray[np.floating]) -> Box:
        """The smallest box holding every finite point of ``points`` (P, 2); ValueError when none is."""
        finite = np.asarray(points, dtype=np.float64)
        finite = finite[np.isfinite(finite).all(axis=1)]
        if len(finite) == 0:
            raise ValueError("A box needs at least one point.")
        low, high = finite.min(axis=0), finite.max(axis=0)
        return cls(name, float(low[0]), float(low[1]), float(high[0]), float(high[1]))


@dataclass(frozen=True)
class MapInput:
    """What the map figure is drawn from: ``coords`` (N, 2); ``values`` (N,) in [0, 1] with NaN for
    unknown, or None for plain points; ``categorical`` when ``values`` are a posebit's 0/1; ``label``
    what the colour shows; ``method`` the layout's name; ``boxes`` in the order they are numbered."""

    coords: NDArray[np.float32]
    values: NDArray[np.float32] | None
    label: str
    categorical: bool
    method: str
    boxes: tuple[Box, ...]


def points_in_box(coords: NDArray[np.floating], box: Box) -> NDArray[np.int64]:
    """Indices (ascending) of the points of ``coords`` (N, 2) inside ``box``, edges included."""
    points = np.asarray(coords, dtype=np.float64)
    inside = (
        (points[:, 0] >= box.x0)
        & (points[:, 0] <= box.x1)
        & (points[:, 1] >= box.y0)
        & (points[:, 1] <= box.y1)
    )
    return np.flatnonzero(inside).astype(np.int64)


def collage_members(
    coords: NDArray[np.floating], box: Box, per_box: int = PER_BOX
) -> tuple[NDArray[np.int64], int]:
    """The points a box's collage shows and how many the box holds: all of them when they fit, else
    ``per_box`` spread evenly over them in gallery order."""
    inside = points_in_box(coords, box)
    if len(inside) <= per_box:
        return inside, len(inside)
    picks = np.unique(np.linspace(0, len(inside) - 1, num=per_box).round().astype(np.int64))
    return inside[picks], len(inside)


def box_colour(number: int) -> str:
    """The colour of box ``number`` (1-based) on the map and around its collage."""
    return BOX_COLOURS[(number - 1) % len(BOX_COLOURS)]
