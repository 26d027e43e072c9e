"""Immutable snapshots the session hands to views (views redraw from these, never from core)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from posebrowser.core.projection import TSNE_DEFAULTS, UMAP_DEFAULTS

PARTIAL_METHODS = (("conditional", "Conditional completion"), ("mask", "Mask origin (warping)"))
PROJECTION_METHODS = (("pca", "PCA"), ("tsne", "t-SNE"), ("umap", "UMAP"))


def available_projection_methods() -> tuple[tuple[str, str], ...]:
    """The methods this installation can run: UMAP only where umap-learn is installed (``pip install
    posebrowser[umap]``), so the app never lists what it cannot draw."""
    import importlib.util

    has_umap = importlib.util.find_spec("umap") is not None
    return tuple((value, label) for value, label in PROJECTION_METHODS if value != "umap" or has_umap)


#: The projection parameters the user can choose, per method: name → (type, lowest, highest).
PROJECTION_PARAMETERS: dict[str, dict[str, tuple[type, float, float]]] = {
    "tsne": {"perplexity": (float, 2.0, 200.0)},
    "umap": {"n_neighbors": (int, 2, 200)},
}
#: The core's value of each of those parameters when the user has chosen none.
PROJECTION_DEFAULTS: dict[str, dict[str, Any]] = {"tsne": TSNE_DEFAULTS, "umap": UMAP_DEFAULTS}
DISTANCE_METRICS = (
    ("2d", "2D joints"),
    ("3d", "3D joints"),
    ("procrustes", "Procrustes"),
    ("hamming", "Hamming (posebits)"),
)


@dataclass(frozen=True)
class EngineInfo:
    """What the status bar shows about the loaded engine."""

    gallery_name: str
    gallery_size: int
    model_name: str
    device: str
    device_reason: str
    index_kind: str


@dataclass(frozen=True)
class ResultsState:
    """A search answer ready to draw.

    ``chip_agree`` (k, C) int8: 1 = result has the asked value of condition c, 0 = it clashes,
    -1 = unknown; C = len(chip_names). ``correct`` (k,) bool or None (no ground truth); what it means
    is ``correct_meaning`` (asked posebits satisfied, or among the true k nearest poses).
    """

    result: Any
    query: Any
    paths: tuple[str, ...]
    chip_names: tuple[str, ...]
    chip_labels: tuple[str, ...]
    chip_values: tuple[int, ...]
    chip_agree: np.ndarray
    correct: np.ndarray | None
    correct_meaning: str = "satisfies every asked posebit"
    #: (N,) bool: the gallery items the search could return (its split); None = the whole gallery.
    searched: np.ndarray | None = None
    #: For a posebit query: how many asked posebits a result must hold to be green under "true k
    #: nearest" — as many as the k-th best searched item holds (all of them when k items hold all).
    bits_needed: int | None = None

    @property
    def indices(self) -> np.ndarray:
        return np.asarray(self.result.indices, dtype=np.int64)

    @property
    def distances(self) -> np.ndarray:
        return np.asarray(self.result.distances, dtype=np.float32)


@dataclass(frozen=True)
class ProjectionState:
    """``coords`` (N, 2) float32 layout of the gallery (or an intermediate t-SNE layout); ``picker`` a
    scipy cKDTree over ``coords`` built on the worker (None for intermediate layouts)."""

    method: str
    subspace: tuple[tuple[str, int], ...]
    coords: np.ndarray
    final: bool = True
    query_point: np.ndarray | None = None
    picker: Any = None


@dataclass(frozen=True)
class ColourState:
    """Per-point colour values: ``values`` (N,) float32 in [0, 1] (NaN = unknown), or None = plain."""

    spec: str
    label: str
    values: np.ndarray | None
    categorical: bool = False


@dataclass
class ViewSettings:
    """Mutable user choices the session remembers and saves."""

    partial_method: str = "conditional"
    #: conditional queries weight the ticked bits (the asked-bit contrast); off = the thesis' completion
    weight_asked_bits: bool = True
    split: str | None = None
    filter_by_posebits: bool = False
    k: int = 50
    projection_method: str = "pca"
    subspace: bool = False
    colour_by: str = "none"
    #: method → the parameters the user chose for it (a method absent = the core's defaults).
    projection_params: dict[str, dict[str, Any]] = field(default_factory=dict)

    def projection_param(self, method: str, name: str) -> Any:
        """The value of projection parameter ``name`` of ``method`` in use: the user's, else the core's."""
        chosen = self.projection_params.get(method, {})
        return chosen[name] if name in chosen else PROJECTION_DEFAULTS[method][name]
