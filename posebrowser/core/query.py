"""Queries and results: frozen value objects shared by the engine, the GUI and the CLI.

A :class:`Query` is a signed, weighted sum of terms (the thesis' retrieval modes plus multi-modal arithmetic):

* :class:`ImageTerm` — a gallery item (``gallery_index``) or an image file (``path``), embedded by the
  image net;
* :class:`SelectionTerm` — a named set of gallery items (a lasso selection) standing for their centroid,
  the mean of their embeddings;
* :class:`PosebitTerm` — posebit conditions ((name, 0|1), ...) with a mode:
  ``"full"`` (unset bits are 0, the posebyte goes through the posebit net), ``"conditional"`` (unset bits
  completed by the Gaussian model, then the posebit net) or ``"mask"`` (origin query by warping).

Vector terms combine as ``Σ wᵢ vᵢ`` re-normalised to unit length; mask terms give a diagonal weighting m and
the ranking becomes ``‖m ⊙ (e − q)‖`` (origin query ``‖m ⊙ e‖`` when there is no vector term).
Relevance feedback = adding an ImageTerm with a ± weight (:meth:`Query.plus`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from posebrowser.errors import QueryError, UnknownPosebitError

PosebitMode = Literal["full", "conditional", "mask"]
POSEBIT_MODES: tuple[str, ...] = ("full", "conditional", "mask")
DEFAULT_POSEBIT_MODE: PosebitMode = "conditional"


class VocabularyLike(Protocol):
    """What queries need from ``pose.posebits.PosebitVocabulary``."""

    @property
    def names(self) -> tuple[str, ...]: ...

    def index(self, name_or_label: str) -> int: ...

    def __len__(self) -> int: ...


class NamesVocabulary:
    """A vocabulary of bare names (galleries with their own posebit columns); labels = names with spaces."""

    def __init__(self, names: Sequence[str]) -> None:
        self._names = tuple(names)
        self.version = "names-" + hashlib.sha256("|".join(self._names).encode()).hexdigest()[:12]
        self.labels = tuple(name.replace("_", " ") for name in self._names)

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    def index(self, name_or_label: str) -> int:
        text = name_or_label.strip()
        for table in (self._names, self.labels):
            if text in table:
                return table.index(text)
        raise UnknownPosebitError(f'"{name_or_label}" is not a posebit of this gallery.')

    def __len__(self) -> int:
        return len(self._names)


def format_weight(weight: float) -> str:
    """Shortest text that parses back to exactly ``abs(weight)`` ("2", "0.5")."""
    text = repr(abs(float(weight)))
    return text[:-2] if text.endswith(".0") else text


@dataclass(frozen=True)
class ImageTerm:
    """An image: ``gallery_index`` (row in the gallery) or ``path`` (any image file); exactly one is set."""

    gallery_index: int | None = None
    path: str | None = None
    weight: float = 1.0

    def __post_init__(self) -> None:
        _check_weight(self.weight)
        if (self.gallery_index is None) == (self.path is None):
            raise QueryError(
                "An image term needs either a gallery item or an image file, not both or neither."
            )

    def body(self) -> str:
        if self.path is None:
            return f"[img {self.gallery_index}]"
        if any(c in self.path for c in '[]"\\') or self.path != self.path.strip():
            quoted = self.path.replace("\\", "\\\\").replace('"', '\\"')
            return f'[file:"{quoted}"]'  # the quoted form spells any path
        return f"[file:{self.path}]"


def _check_weight(weight: float) -> None:
    if not math.isfinite(weight):
        raise QueryError(f"A term's weight must be a finite number, not {weight!r}.")


@dataclass(frozen=True)
class PosebitTerm:
    """Posebit conditions ((bit name, 0 | 1), ...) sorted by name; don't-care bits are simply absent."""

    conditions: tuple[tuple[str, int], ...]
    mode: PosebitMode = DEFAULT_POSEBIT_MODE
    weight: float = 1.0

    def __post_init__(self) -> None:
        _check_weight(self.weight)
        if not self.conditions:
            raise QueryError("A posebit term needs at least one posebit set to 'is' or 'is not'.")
        if self.mode not in POSEBIT_MODES:
            raise QueryError(f"Unknown posebit mode '{self.mode}'; use one of {', '.join(POSEBIT_MODES)}.")
        names = [name for name, _ in self.conditions]
        if len(set(names)) != len(names):
            raise QueryError("A posebit term sets the same posebit twice.")
        if any(value not in (0, 1) for _, value in self.conditions):
            raise QueryError("Posebit values must be 1 (is) or 0 (is not).")
        object.__setattr__(self, "conditions", tuple(sorted((n, int(v)) for n, v in self.conditions)))

    def body(self, labels: dict[str, str] | None = None) -> str:
        parts = ", ".join(f"{(labels or {}).get(n, n)}={v}" for n, v in self.conditions)
        suffix = "" if self.mode == DEFAULT_POSEBIT_MODE else f"{{{self.mode}}}"
        return f"[{parts}]{suffix}"


#: Characters a selection's name may not hold (they delimit it in the expression).
_NAME_FORBIDDEN = frozenset('"]\\')


@dataclass(frozen=True)
class SelectionTerm:
    """A named set of gallery items standing for their centroid (mean embedding, re-normalised): one term
    however many items a lasso caught. ``indices`` are kept sorted and unique."""

    indices: tuple[int, ...]
    name: str = "selection"
    weight: float = 1.0

    def __post_init__(self) -> None:
        _check_weight(self.weight)
        if not self.indices:
            raise QueryError("A selection term needs at least one gallery item.")
        if any(isinstance(i, bool) or int(i) != i or i < 0 for i in self.indices):
            raise QueryError("A selection holds gallery item numbers (0, 1, 2, …) only.")
        name = " ".join(str(self.name).split())
        if not name or _NAME_FORBIDDEN & set(name):
            raise QueryError('A selection needs a name without quotes, "]" or backslashes.')
        object.__setattr__(self, "indices", tuple(sorted({int(i) for i in self.indices})))
        object.__setattr__(self, "name", name)

    def body(self) -> str:
        return f'[sel "{self.name}": {" ".join(str(i) for i in self.indices)}]'


Term = ImageTerm | PosebitTerm | SelectionTerm


def merge_conditions(terms: Iterable[PosebitTerm]) -> tuple[tuple[str, int], ...]:
    """The one rule for merging posebit terms: the union of their conditions, sorted by name; a bit
    asked in several terms must have the same value in each (else QueryError)."""
    merged: dict[str, int] = {}
    for term in terms:
        for name, value in term.conditions:
            if merged.setdefault(name, value) != value:
                raise QueryError(f"The query asks for posebit '{name}' to be both 1 and 0.")
    return tuple(sorted(merged.items()))


@dataclass(frozen=True)
class Query:
    """A weighted sum of terms (see the module docstring)."""

    terms: tuple[Term, ...]

    def __post_init__(self) -> None:
        if not self.terms:
            raise QueryError("The query is empty: add an image or a posebit.")

    @classmethod
    def image(cls, gallery_index: int) -> Query:
        return cls((ImageTerm(gallery_index=gallery_index),))

    @classmethod
    def posebits(
        cls, conditions: Sequence[tuple[str, int]], mode: PosebitMode = DEFAULT_POSEBIT_MODE
    ) -> Query:
        return cls((PosebitTerm(tuple(conditions), mode),))

    def plus(self, term: Term) -> Query:
        """This query with one more term (relevance feedback: an ImageTerm with weight ±w)."""
        return Query((*self.terms, term))

    @property
    def vector_terms(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if not (isinstance(t, PosebitTerm) and t.mode == "mask"))

    @property
    def mask_terms(self) -> tuple[PosebitTerm, ...]:
        return tuple(t for t in self.terms if isinstance(t, PosebitTerm) and t.mode == "mask")

    def asked_conditions(self) -> tuple[tuple[str, int], ...]:
        """The merged conditions of the positively weighted posebit terms: what results are scored
        against and what the result chips show (a subtracted term is not asked). QueryError on a clash."""
        return merge_conditions(t for t in self.terms if isinstance(t, PosebitTerm) and t.weight > 0)

    def to_expr(self, labels: dict[str, str] | None = None) -> str:
        """The expression text, e.g. ``2*[img 17] + [right wrist is above the neck=1] - 0.5*[img 3]``.

        ``labels`` maps bit names to labels for display; either form parses back to the same query.
        """
        pieces: list[str] = []
        for i, term in enumerate(self.terms):
            body = term.body(labels) if isinstance(term, PosebitTerm) else term.body()
            weight = "" if abs(term.weight) == 1.0 else f"{format_weight(term.weight)}*"
            sign = ("-" if i == 0 else " - ") if term.weight < 0 else ("" if i == 0 else " + ")
            pieces.append(f"{sign}{weight}{body}")
        return "".join(pieces)


@dataclass(frozen=True, eq=False)
class SearchResult:
    """Ranked results of one query over the gallery (k rows, ascending distance).

    indices (k,) int64 gallery rows; ids (k,) int64 stable item ids; distances (k,) float32 (Euclidean, or
    ‖m⊙(e−q)‖ for mask queries); correct (k,) bool — result satisfies every asked posebit (None without
    posebit ground truth or posebit terms); agreement (k, C) int8 — per asked bit 1 match, 0 clash,
    -1 unknown;
    gt_distances {metric name → (k,) float32} ground-truth distances to the query image (image queries);
    mask (D,) float32 or None; query_vector (D,) float32 unit vector or None (pure origin query).
    """

    indices: NDArray[np.int64]
    ids: NDArray[np.int64]
    distances: NDArray[np.float32]
    correct: NDArray[np.bool_] | None = None
    agreement: NDArray[np.int8] | None = None
    asked: tuple[tuple[str, int], ...] = ()
    gt_distances: dict[str, NDArray[np.float32]] = field(default_factory=dict)
    mask: NDArray[np.float32] | None = None
    query_vector: NDArray[np.float32] | None = None
    index_kind: str = ""

    def __len__(self) -> int:
        return int(self.indices.shape[0])

