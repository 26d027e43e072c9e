"""The posebit vocabulary: named yes/no statements about a 3D pose, computed vectorised with numpy.

* :class:`Posebit` and :func:`candidate_posebits` (321 candidates) live in
  :mod:`posebrowser.pose.posebit_catalog`; the torso frame and margin formulas in
  :mod:`posebrowser.pose.posebit_geometry`. Both are re-exported here.
* :class:`PosebitVocabulary` is an ordered set of posebits with a content version
  (``"pb1-" + sha256("\\n".join(names))[:10]``), label look-up and batched computation.
* :func:`get_vocabulary` returns the shipped vocabulary: the names in ``vocabulary.json`` next to this
  module (written by ``tools/select_posebits.py``), or all candidates when that file is missing.
* :func:`select_informative` picks the informative, non-redundant candidates from computed bits.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from posebrowser.errors import CorruptFileError, UnknownPosebitError
from posebrowser.pose import posebit_geometry as geometry
from posebrowser.pose.posebit_catalog import BODY_PARTS, FAMILIES, KINDS, Posebit, candidate_posebits

__all__ = [
    "BODY_PARTS", "KINDS", "VOCABULARY_PATH", "Posebit", "PosebitVocabulary", "SelectionResult",
    "candidate_posebits", "get_vocabulary", "select_informative", "select_informative_detailed",
    "vocabulary_version",
]

VOCABULARY_PATH = Path(__file__).parent / "vocabulary.json"
DEFAULT_UP: tuple[float, float, float] = (0.0, 0.0, 1.0)


def vocabulary_version(names: Iterable[str]) -> str:
    """Content version of an ordered list of posebit names: ``"pb1-"`` + first 10 hex digits of the
    SHA-256 of the names joined by newlines."""
    return "pb1-" + hashlib.sha256("\n".join(names).encode("utf-8")).hexdigest()[:10]


@dataclass(frozen=True)
class _FamilyPlan:
    """Index arrays to compute all bits of one family at once; ``columns`` are vocabulary positions."""

    family: str
    columns: NDArray[np.intp]
    joints: NDArray[np.intp]
    axes: NDArray[np.intp]
    directions: NDArray[np.float64]
    thresholds: NDArray[np.float64]
    upper_thresholds: NDArray[np.float64]


@lru_cache(maxsize=16)
def _family_plans(bits: tuple[Posebit, ...]) -> tuple[_FamilyPlan, ...]:
    plans: list[_FamilyPlan] = []
    for family in FAMILIES:
        columns = [i for i, bit in enumerate(bits) if bit.family == family]
        if not columns:
            continue
        members = [bits[i] for i in columns]
        width = max(len(bit.joints) for bit in members)
        plans.append(_FamilyPlan(
            family=family,
            columns=np.array(columns, dtype=np.intp),
            joints=np.array([bit.joints for bit in members], dtype=np.intp).reshape(len(members), width),
            axes=np.array([geometry.AXIS_INDEX.get(bit.axis, 0) for bit in members], dtype=np.intp),
            directions=np.array([bit.direction for bit in members], dtype=np.float64),
            thresholds=np.array([bit.threshold for bit in members], dtype=np.float64),
            upper_thresholds=np.array([bit.upper_threshold for bit in members], dtype=np.float64),
        ))
    return tuple(plans)


def _plan_margins(plan: _FamilyPlan, frame: geometry.TorsoFrame) -> NDArray[np.float64]:
    local = frame.local
    if plan.family == "hinge":
        return geometry.hinge_margins(local, plan.joints, plan.thresholds)
    if plan.family == "elevation":
        return geometry.elevation_margins(local, plan.joints, plan.thresholds)
    if plan.family == "beyond":
        return geometry.beyond_margins(local, plan.joints, plan.axes, plan.directions, plan.thresholds)
    if plan.family == "near":
        return geometry.near_margins(local, plan.joints, plan.thresholds)
    if plan.family == "far":
        return geometry.far_margins(local, plan.joints, plan.thresholds)
    if plan.family == "tilt":
        return geometry.tilt_band_margins(frame, plan.thresholds, plan.upper_thresholds)
    if plan.family == "twist":
        return geometry.twist_margins(local, plan.thresholds)
    raise ValueError(f"Unknown posebit family {plan.family!r}.")


@dataclass(frozen=True)
class PosebitVocabulary:
    """An ordered set of posebits; column ``i`` of every bit array is ``bits[i]``.

    Build with :meth:`from_bits` or :meth:`from_names`, which fill in ``version``.
    """

    version: str
    bits: tuple[Posebit, ...]

    def __post_init__(self) -> None:
        expected = vocabulary_version(bit.name for bit in self.bits)
        if self.version != expected:
            raise ValueError(f"Vocabulary version {self.version!r} does not match its names ({expected}).")

    @classmethod
    def from_bits(cls, bits: Iterable[Posebit]) -> PosebitVocabulary:
        """A vocabulary of the given posebits, in order, with its version computed."""
        bit_tuple = tuple(bits)
        return cls(vocabulary_version(bit.name for bit in bit_tuple), bit_tuple)

    @classmethod
    def from_names(cls, names: Iterable[str]) -> PosebitVocabulary:
        """A vocabulary of candidate posebits by name (raises :class:`UnknownPosebitError`)."""
        everything = PosebitVocabulary.from_bits(candidate_posebits())
        return cls.from_bits(everything.bits[everything.index(name)] for name in names)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(bit.name for bit in self.bits)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(bit.label for bit in self.bits)

    def __len__(self) -> int:
        return len(self.bits)

    @cached_property
    def _lookup(self) -> dict[str, int]:
        table: dict[str, int] = {}
        for i, bit in enumerate(self.bits):  # exact forms win over case-folded ones
            table.setdefault(bit.label.casefold(), i)
            table.setdefault(bit.name.casefold(), i)
        for i, bit in enumerate(self.bits):
            table[bit.name] = i
            table[bit.label] = i
        return table

    def index(self, name_or_label: str) -> int:
        """Column of a posebit given its name, its label, or its label in any letter case.

        Raises :class:`UnknownPosebitError` naming up to five close matches.
        """
        text = name_or_label.strip()
        found = self._lookup.get(text, self._lookup.get(text.casefold()))
        if found is not None:
            return found
        matches = difflib.get_close_matches(text, list(self.labels) + list(self.names), n=5, cutoff=0.6)
        quoted = "; ".join(f'"{match}"' for match in dict.fromkeys(matches))
        hint = f" Did you mean: {quoted}?" if matches else ""
        raise UnknownPosebitError(f'"{name_or_label}" is not a posebit of vocabulary {self.version}.{hint}')

    def margins(self, joints_3d: ArrayLike, up: ArrayLike = DEFAULT_UP) -> NDArray[np.float32]:
        """Signed margins ``(N, B)`` float32 for joints ``(N, 16, 3)``; bit = margin > 0.

        Units: degrees for angle, tilt and twist bits; torso lengths for beyond/near/far bits (see
        :attr:`Posebit.margin_unit`). Degenerate poses give NaN.
        """
        frame = geometry.torso_frame(joints_3d, up)
        result = np.full((frame.local.shape[0], len(self.bits)), np.nan, dtype=np.float32)
        with np.errstate(invalid="ignore", divide="ignore"):
            for plan in _family_plans(self.bits):
                result[:, plan.columns] = _plan_margins(plan, frame)
        return result

    def compute(self, joints_3d: ArrayLike, up: ArrayLike = DEFAULT_UP) -> NDArray[np.uint8]:
        """Posebits ``(N, B)`` uint8 (1 = statement true) for joints ``(N, 16, 3)``; NaN margins give 0."""
        with np.errstate(invalid="ignore"):
            return (self.margins(joints_3d, up) > 0).astype(np.uint8)

    def compute_with_dont_care(self, joints_3d: ArrayLike, up: ArrayLike = DEFAULT_UP) -> NDArray[np.int8]:
        """Posebits ``(N, B)`` int8 with −1 ("don't care") where ``|margin|`` is within the bit's
        :attr:`Posebit.hysteresis` band or the margin is NaN; otherwise 0 or 1."""
        margins = self.margins(joints_3d, up)
        band = np.array([bit.hysteresis for bit in self.bits], dtype=np.float32)
        with np.errstate(invalid="ignore"):
            bits = (margins > 0).astype(np.int8)
            bits[~(np.abs(margins) > band[None, :])] = -1
        return bits

    def groups(self) -> dict[tuple[str, str], list[int]]:
        """Columns grouped by ``(body_part, kind)``, in :data:`BODY_PARTS` × :data:`KINDS` order."""
        grouped: dict[tuple[str, str], list[int]] = {}
        for part in BODY_PARTS:
            for kind in KINDS:
                columns = [i for i, bit in enumerate(self.bits) if bit.body_part == part and bit.kind == kind]
                if columns:
                    grouped[(part, kind)] = columns
        return grouped

    def to_json_dict(self) -> dict[str, Any]:
        """``{"version": ..., "names": [...]}`` as stored in ``vocabulary.json``."""
        return {"version": self.version, "names": list(self.names)}


def load_vocabulary(path: Path) -> PosebitVocabulary:
    """Read a ``{"version", "names"}`` json file; raises :class:`CorruptFileError` naming the file."""
    try:
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        names = payload["names"]
        version = payload["version"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CorruptFileError(f"The posebit vocabulary file cannot be read ({error}).", path=path) from error
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise CorruptFileError("The posebit vocabulary file must list posebit names as strings.", path=path)
    try:
        vocabulary = PosebitVocabulary.from_names(names)
    except UnknownPosebitError as error:
        raise CorruptFileError(
            f"The posebit vocabulary file names an unknown posebit: {error}", path=path) from error
    if vocabulary.version != version:
        raise CorruptFileError(
            f"The posebit vocabulary file says version {version} but its names give {vocabulary.version}.",
            path=path)
    return vocabulary


@lru_cache(maxsize=1)
def get_vocabulary() -> PosebitVocabulary:
    """The shipped vocabulary (cached): ``vocabulary.json`` next to this module, else all candidates."""
    if VOCABULARY_PATH.is_file():
        return load_vocabulary(VOCABULARY_PATH)
    return PosebitVocabulary.from_bits(candidate_posebits())


def __getattr__(name: str) -> Any:
    """Lazy module attribute ``VOCABULARY`` = :func:`get_vocabulary` (read on first use, not import)."""
    if name == "VOCABULARY":
        return get_vocabulary()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class SelectionResult:
    """Outcome of :func:`select_informative_detailed`.

    Attributes:
        positive_rates: ``(C,)`` float64 fraction of samples with each candidate bit set.
        after_rate_filter: names whose positive rate lies in [low, high], in candidate order.
        kept: names that also survived the correlation filter, in candidate order.
    """

    positive_rates: NDArray[np.float64]
    after_rate_filter: list[str]
    kept: list[str]


def select_informative_detailed(
    bits: ArrayLike, candidates: Sequence[Posebit], low: float = 0.05, high: float = 0.95,
    max_abs_corr: float = 0.9,
) -> SelectionResult:
    """Filter candidate columns of ``bits`` ``(N, C)`` (0/1) by positive rate, then by redundancy.

    A column is kept when its positive rate is in ``[low, high]`` and its absolute Pearson correlation with
    every already kept column is below ``max_abs_corr``. Columns are visited greedily from the simplest
    family to the most specific (:data:`FAMILIES` order, then candidate order), so a simple bit such as
    "right elbow is bent" wins over a "beyond" bit that says nearly the same thing.
    """
    matrix = np.asarray(bits, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[1] != len(candidates) or matrix.shape[0] == 0:
        raise ValueError(f"Expected bits of shape (N > 0, {len(candidates)}), got {matrix.shape}.")
    rates = matrix.mean(axis=0)
    passing = np.flatnonzero((rates >= low) & (rates <= high) & (rates > 0) & (rates < 1))
    rank = {family: i for i, family in enumerate(FAMILIES)}
    order = sorted(range(len(passing)),
                   key=lambda k: (rank.get(candidates[int(passing[k])].family, len(rank)), k))
    columns = matrix[:, passing]
    standardised = (columns - columns.mean(axis=0)) / columns.std(axis=0)
    correlation = np.abs(standardised.T @ standardised) / matrix.shape[0]
    kept: list[int] = []
    for k in order:
        if not kept or float(correlation[k, kept].max()) < max_abs_corr:
            kept.append(k)
    kept_columns = sorted(int(passing[k]) for k in kept)
    return SelectionResult(
        positive_rates=rates,
        after_rate_filter=[candidates[int(c)].name for c in passing.tolist()],
        kept=[candidates[c].name for c in kept_columns],
    )


def select_informative(
    bits: ArrayLike, candidates: Sequence[Posebit], low: float = 0.05, high: float = 0.95,
    max_abs_corr: float = 0.9,
) -> list[str]:
    """Names of the informative, non-redundant candidates (see :func:`select_informative_detailed`)."""
    return select_informative_detailed(bits, candidates, low, high, max_abs_corr).kept
