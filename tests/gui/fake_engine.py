"""A small engine conforming to the RetrievalEngine contract, for GUI tests (no torch, no models).

Embeddings are random unit vectors (N, 16) float32; posebits are random {0, 1} with a few -1 unknowns;
thumbnails are a handful of generated PNGs shared round-robin by all items (a 100k gallery needs no
100k files). Search is brute force numpy; ``project`` is PCA with optional intermediate layouts and a
per-step delay (to test cancellation); ``calls`` records every engine call for assertions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from posebrowser.core.device import DeviceChoice
from posebrowser.core.query import ImageTerm, PosebitTerm, Query, SearchResult, SelectionTerm
from posebrowser.data.gallery_format import SPLITS
from posebrowser.errors import CorruptFileError, JobCancelledError, QueryError, UnknownPosebitError

DIM = 16
BODY_PARTS = ("left_arm", "right_arm", "legs")
KINDS = ("angle", "near_far")


@dataclass(frozen=True)
class FakeBit:
    name: str
    label: str
    body_part: str
    kind: str


@dataclass(frozen=True)
class FakeVocabulary:
    bits: tuple[FakeBit, ...]
    version: str = "fake-1"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(bit.name for bit in self.bits)

    def __len__(self) -> int:
        return len(self.bits)

    def index(self, name_or_label: str) -> int:
        for position, bit in enumerate(self.bits):
            if name_or_label in (bit.name, bit.label):
                return position
        raise UnknownPosebitError(f"Unknown posebit '{name_or_label}'.")

    def groups(self) -> dict[tuple[str, str], list[int]]:
        result: dict[tuple[str, str], list[int]] = {}
        for position, bit in enumerate(self.bits):
            result.setdefault((bit.body_part, bit.kind), []).append(position)
        return result


def make_vocabulary() -> FakeVocabulary:
    bits = []
    for part in BODY_PARTS:
        for kind in KINDS:
            for number in range(2):
                name = f"{part}_{kind}_{number}"
                bits.append(FakeBit(name, f"{part.replace('_', ' ')} {kind} {number}", part, kind))
    return FakeVocabulary(tuple(bits))


@dataclass
class FakeGallery:
    root: Path
    files: tuple[str, ...]
    ids: np.ndarray
    split: np.ndarray
    posebits: np.ndarray
    posebit_names: tuple[str, ...]
    name: str = "fake"
    content_hash: str = "fake"
    kind: str = "posebrowser"
    joints_2d: Any = None
    joints_3d: Any = None

    def __len__(self) -> int:
        return len(self.ids)

    def split_indices(self, name: str) -> np.ndarray:
        """Rows of split ``name``, as the real gallery gives them (the evaluation panel asks for them)."""
        return np.flatnonzero(self.split == SPLITS.index(name)).astype(np.int64)

    def has_ground_truth(self, metric_name: str) -> bool:
        """As the real gallery: whether the annotations metric ``metric_name`` needs are present."""
        from posebrowser.data.gallery import METRIC_NEEDS

        return getattr(self, METRIC_NEEDS[metric_name], None) is not None

    def image_path(self, index: int) -> Path:
        return self.root / self.files[index % len(self.files)]

    def load_image(self, index: int, size: int | None = None) -> Image.Image:
        image = Image.open(self.image_path(index)).convert("RGB")
        return image.resize((size, size)) if size else image


def write_thumbnails(folder: Path, count: int = 8) -> tuple[str, ...]:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for number in range(count):
        image = Image.new("RGB", (96, 96), (30 + 25 * number, 80, 160 - 15 * number))
        ImageDraw.Draw(image).ellipse((20, 10 + 4 * number, 60, 50 + 4 * number), fill=(240, 220, 200))
        name = f"img_{number:02d}.png"
        image.save(folder / name)
        names.append(name)
    return tuple(names)


@dataclass
class FakeEngine:
    gallery: FakeGallery
    vocabulary: FakeVocabulary
    embeddings: np.ndarray
    device: DeviceChoice = field(default_factory=lambda: DeviceChoice("cpu", "CPU (fake engine)"))
    project_delay_s: float = 0.0
    project_steps: int = 4
    tsne_scale: float = 1.0  # t-SNE maps are this many times larger than PCA maps (as real ones are)
    calls: list[str] = field(default_factory=list)
    contrasts: list[float | None] = field(default_factory=list)  # the asked-bit contrast of each search

    class _Index:
        kind = "exact (numpy, fake)"

    index: Any = field(default_factory=_Index)
    model_name: str = "fake_net"
    _fits: dict[tuple[str, bytes], tuple[np.ndarray, np.ndarray, float]] = field(default_factory=dict)

    # -------------------------------------------------------------- contract
    def _column(self, name: str) -> int:
        return list(self.gallery.posebit_names).index(name)

    def count_matching(
        self, conditions: Sequence[tuple[str, int]] | Mapping[str, int], split: str | None = None
    ) -> int:
        self.calls.append("count")
        items = conditions.items() if isinstance(conditions, Mapping) else conditions
        keep = np.ones(len(self.gallery), dtype=bool)
        if split is not None:
            keep &= self.gallery.split == SPLITS.index(split)
        for name, value in items:
            keep &= self.gallery.posebits[:, self._column(name)] == value
        return int(keep.sum())

    def mask_for(self, conditions: Sequence[tuple[str, int]]) -> np.ndarray:
        seed = sum(hash(name) % 1000 * (value + 1) for name, value in conditions) % (2**32)
        return np.random.default_rng(seed).uniform(0.0, 1.0, DIM).astype(np.float32)

    fit_mask = mask_for

    def embed_image_file(self, path: str | Path) -> np.ndarray:
        try:
            pixels = np.asarray(Image.open(path).convert("RGB").resize((8, 8)), dtype=np.float32)
        except OSError as error:
            raise CorruptFileError("This file is not an image posebrowser can read.", path=path) from error
        vector = np.resize(pixels.ravel(), DIM) - pixels.mean()
        return (vector / (np.linalg.norm(vector) + 1e-9)).astype(np.float32)

    def _posebit_vector(self, term: PosebitTerm) -> np.ndarray:
        keep = np.ones(len(self.gallery), dtype=bool)
        for name, value in term.conditions:
            keep &= self.gallery.posebits[:, self._column(name)] == value
        rows = self.embeddings[keep] if keep.any() else self.embeddings
        return rows.mean(axis=0)

    def search(
        self, query: Query, k: int = 50, split: str | None = None, contrast: float | None = None
    ) -> SearchResult:
        self.calls.append("search")
        self.contrasts.append(contrast)
        vector = np.zeros(DIM, dtype=np.float32)
        for term in query.terms:
            if isinstance(term, SelectionTerm):
                if term.indices[-1] >= len(self.embeddings):
                    raise QueryError(f"There is no gallery item {term.indices[-1]}.")
                part = self.embeddings[list(term.indices)].mean(axis=0)
                part = part / np.linalg.norm(part)
            elif isinstance(term, ImageTerm):
                if term.gallery_index is not None and not 0 <= term.gallery_index < len(self.embeddings):
                    raise QueryError(f"There is no gallery item {term.gallery_index}.")  # as the engine says
                part = (
                    self.embeddings[term.gallery_index]
                    if term.gallery_index is not None
                    else self.embed_image_file(str(term.path))
                )
            else:
                part = self._posebit_vector(term)
            vector += float(term.weight) * part
        norm = float(np.linalg.norm(vector))
        if not np.isfinite(norm) or norm < 1e-6:
            raise QueryError("The query terms cancel out.")
        vector /= norm
        masks = [t for t in query.terms if isinstance(t, PosebitTerm) and t.mode == "mask"]
        mask = self.mask_for(masks[0].conditions) if masks else None
        allowed = np.ones(len(self.gallery), dtype=bool)
        if split is not None:
            allowed &= self.gallery.split == SPLITS.index(split)
        distances = np.linalg.norm(self.embeddings - vector, axis=1)
        distances[~allowed] = np.inf
        order = np.argsort(distances, kind="stable")[:k]
        order = order[np.isfinite(distances[order])]
        asked = query.asked_conditions()
        correct = None
        if asked:
            columns = [self._column(name) for name, _ in asked]
            values = np.array([value for _, value in asked])
            correct = np.all(self.gallery.posebits[order][:, columns] == values, axis=1)
        return SearchResult(
            indices=order.astype(np.int64),
            ids=self.gallery.ids[order],
            distances=distances[order].astype(np.float32),
            correct=correct,
            asked=asked,
            mask=mask,
            query_vector=vector.astype(np.float32),
        )

    def project(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        subspace_mask: Any = None,
        progress: Callable[[int, int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
        on_layout: Callable[[np.ndarray], None] | None = None,
    ) -> np.ndarray:
        self.calls.append(f"project:{method}")
        data = self.embeddings * (1.0 if subspace_mask is None else np.asarray(subspace_mask)[None, :])
        centred = data - data.mean(axis=0)
        _, _, basis = np.linalg.svd(centred[:2000], full_matrices=False)
        scale = self.tsne_scale if method == "tsne" else 1.0
        coords = (scale * (centred @ basis[:2].T)).astype(np.float32)
        self._fits[_fit_key(method, subspace_mask)] = (data.mean(axis=0), basis[:2], scale)
        for step in range(self.project_steps):
            if cancel is not None and cancel():
                raise JobCancelledError("Projection cancelled.")
            time.sleep(self.project_delay_s)
            if on_layout is not None and method == "tsne":
                on_layout(coords * (step + 1) / self.project_steps)
            if progress is not None:
                progress(step + 1, self.project_steps)
        return coords

    def place_in_projection(self, vector: np.ndarray, method: str, subspace_mask: Any = None) -> np.ndarray:
        """Like the engine: placed into the last ``method`` map of the same subspace."""
        mean, basis, scale = self._fits[_fit_key(method, subspace_mask)]
        data = np.asarray(vector) * (1.0 if subspace_mask is None else np.asarray(subspace_mask))
        return (scale * ((data - mean) @ basis.T)).astype(np.float32)

    def set_device(self, name: str) -> DeviceChoice:
        self.calls.append(f"device:{name}")
        if name == "cuda":
            self.device = DeviceChoice("cpu", "CUDA is not available; using the CPU.", fell_back=True)
        else:
            self.device = DeviceChoice("cpu", f"{name} → CPU")
        return self.device


def _fit_key(method: str, mask: Any) -> tuple[str, bytes]:
    return method, b"" if mask is None else np.asarray(mask, dtype=np.float32).tobytes()


def make_engine(folder: Path, count: int = 200, seed: int = 7) -> FakeEngine:
    rng = np.random.default_rng(seed)
    vocabulary = make_vocabulary()
    files = write_thumbnails(folder)
    embeddings = rng.normal(size=(count, DIM)).astype(np.float32)
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    posebits = rng.integers(0, 2, size=(count, len(vocabulary))).astype(np.int8)
    posebits[rng.random(posebits.shape) < 0.02] = -1
    gallery = FakeGallery(
        root=folder,
        files=files,
        ids=np.arange(count, dtype=np.int64) + 1000,
        split=rng.integers(0, 3, size=count).astype(np.uint8),
        posebits=posebits,
        posebit_names=vocabulary.names,
    )
    return FakeEngine(gallery, vocabulary, embeddings)
