"""2-D projections of embeddings: PCA (instant), t-SNE (openTSNE, live layouts), UMAP (optional).

Every method returns a :class:`Projection` with ``coords`` (N, 2) float32 and can place new vectors into
the same map (:meth:`Projection.place`): PCA exactly, t-SNE with openTSNE's ``transform``, UMAP with its
``transform``. A subspace ``mask`` (D,) projects ``embeddings ⊙ mask`` instead (a posebit's subspace
collapses towards the origin). :class:`ProjectionCache` keeps finished projections per
(embeddings fingerprint, method, params, mask) in memory and — for the slow methods, with a ``folder`` —
on disk, so a relaunch draws a t-SNE or UMAP map without recomputing it. A map read back from disk has
no fitted model: it places new points among their nearest neighbours (:data:`PLACE_NEIGHBOURS`).
"""

from __future__ import annotations

import hashlib
import io
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from posebrowser.errors import JobCancelledError, PosebrowserError, QueryError
from posebrowser.fileio import atomic_write_bytes

F32 = NDArray[np.float32]
METHODS: tuple[str, ...] = ("pca", "tsne", "umap")
#: Methods whose maps are worth keeping on disk (PCA takes milliseconds).
DISK_METHODS: tuple[str, ...] = ("tsne", "umap")
#: A map without a fitted model places a new vector at the distance-weighted mean of this many nearest
#: gallery points (openTSNE's transform also starts there before it optimises).
PLACE_NEIGHBOURS = 10
TSNE_DEFAULTS: dict[str, Any] = {
    "perplexity": 30.0,
    "n_iter": 500,
    "early_exaggeration_iter": 250,
    "seed": 0,
    "every": 25,
    "n_jobs": 1,
}
UMAP_DEFAULTS: dict[str, Any] = {"n_neighbors": 15, "min_dist": 0.1, "seed": 0}


def fingerprint(array: NDArray[Any]) -> str:
    """Cheap content fingerprint of a large matrix: shape, dtype, ≤ 4096 evenly spaced rows, column sums."""
    a = np.ascontiguousarray(array)
    digest = hashlib.sha256(f"{a.shape}{a.dtype}".encode())
    if a.size:
        step = max(1, a.shape[0] // 4096)
        digest.update(np.ascontiguousarray(a[::step]).tobytes())
        digest.update(np.asarray(a.sum(axis=0, dtype=np.float64)).tobytes())
    return digest.hexdigest()[:24]


@dataclass
class Projection:
    """A finished 2-D map: ``coords`` (N, 2) float32 and what is needed to place new points."""

    method: str
    params: dict[str, Any]
    coords: F32
    mask: F32 | None = None
    model: Any = field(default=None, repr=False)
    #: the (N, D) unmasked embeddings the map was made of; places points when ``model`` is None
    reference: F32 | None = field(default=None, repr=False)

    def place(self, vectors: NDArray[np.floating]) -> F32:
        """Out-of-sample placement of (M, D) vectors (the same mask is applied) → (M, 2) float32."""
        x = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        if self.mask is not None:
            x = x * self.mask
        if self.model is None:
            return self._place_among_neighbours(x)
        if self.method == "pca":
            mean, components = self.model
            return np.asarray((x - mean) @ components.T, dtype=np.float32)
        return np.asarray(
            self.model.transform(x.astype(np.float64 if self.method == "tsne" else np.float32)),
            dtype=np.float32,
        )

    def _place_among_neighbours(self, x: F32) -> F32:
        if self.reference is None:
            raise QueryError(f"This {self.method} map cannot place new points (no model, no reference).")
        data = self.reference if self.mask is None else self.reference * self.mask
        k = min(PLACE_NEIGHBOURS, len(data))
        placed = np.empty((len(x), 2), dtype=np.float32)
        for row, vector in enumerate(x):
            squared = np.einsum("nd,nd->n", data - vector, data - vector)
            nearest = np.argpartition(squared, k - 1)[:k]
            weights = 1.0 / (np.sqrt(squared[nearest]) + 1e-6)
            placed[row] = (weights @ self.coords[nearest]) / weights.sum()
        return placed


def pca(data: NDArray[np.floating]) -> tuple[F32, tuple[F32, F32]]:
    """Top-2 principal components of (N, D) data → (coords (N, 2) float32, (mean (D,), components (2, D))).

    Eigen-decomposition of the D×D covariance (cheaper than an SVD of the N×D matrix at N ≫ D); component
    signs are fixed (largest-magnitude loading positive) so maps do not flip between runs.
    """
    x = np.asarray(data, dtype=np.float32)
    mean64 = x.mean(axis=0, dtype=np.float64)
    # covariance from the Gram matrix: no (N, D) centred copy (float64 correction keeps it accurate)
    cov = (x.T @ x).astype(np.float64) - len(x) * np.outer(mean64, mean64)
    values, vectors = np.linalg.eigh(cov)
    components = vectors[:, np.argsort(values)[::-1][:2]].T.astype(np.float32)
    signs = np.sign(components[np.arange(len(components)), np.argmax(np.abs(components), axis=1)])
    components *= signs[:, None]
    mean = mean64.astype(np.float32)
    coords = x @ components.T - mean @ components.T
    return np.asarray(coords, dtype=np.float32), (mean, components)


def tsne(
    data: NDArray[np.floating],
    params: Mapping[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    on_layout: Callable[[F32], None] | None = None,
) -> tuple[F32, Any]:
    """openTSNE t-SNE of (N, D) data → (coords (N, 2) float32, the TSNEEmbedding for ``transform``).

    Every ``params["every"]`` iterations ``on_layout`` receives the current (N, 2) layout and ``progress``
    (done, total iterations) is called; ``cancel()`` returning True raises JobCancelledError.
    """
    from openTSNE import TSNE

    p = {**TSNE_DEFAULTS, **(params or {})}
    total = int(p["n_iter"]) + int(p["early_exaggeration_iter"])
    state = {"done": 0}

    def callback(iteration: int, error: float, embedding: NDArray[Any]) -> bool:
        if cancel is not None and cancel():
            raise JobCancelledError("The t-SNE projection was cancelled.")
        state["done"] = min(total, state["done"] + int(p["every"]))
        if progress is not None:
            progress(state["done"], total)
        if on_layout is not None:
            on_layout(np.asarray(embedding, dtype=np.float32))
        return False

    wants_callback = progress is not None or cancel is not None or on_layout is not None
    model = TSNE(
        perplexity=float(min(p["perplexity"], max(1.0, (len(data) - 1) / 3))),
        n_iter=int(p["n_iter"]),
        early_exaggeration_iter=int(p["early_exaggeration_iter"]),
        random_state=int(p["seed"]),
        n_jobs=int(p["n_jobs"]),
        callbacks=callback if wants_callback else None,
        callbacks_every_iters=int(p["every"]),
    )
    embedding = model.fit(np.asarray(data, dtype=np.float64))
    if progress is not None:
        progress(total, total)
    return np.asarray(embedding, dtype=np.float32), embedding


def umap(data: NDArray[np.floating], params: Mapping[str, Any] | None = None) -> tuple[F32, Any]:
    """UMAP (umap-learn, optional extra) → (coords (N, 2) float32, the fitted reducer)."""
    try:
        import umap as umap_learn
    except ImportError as exc:
        raise PosebrowserError(
            "UMAP needs the optional package umap-learn; install it with: pip install 'posebrowser[umap]'."
        ) from exc
    p = {**UMAP_DEFAULTS, **(params or {})}
    reducer = umap_learn.UMAP(
        n_neighbors=int(p["n_neighbors"]), min_dist=float(p["min_dist"]), random_state=int(p["seed"])
    )
    coords = reducer.fit_transform(np.asarray(data, dtype=np.float32))
    return np.asarray(coords, dtype=np.float32), reducer


def project(
    embeddings: NDArray[np.floating],
    method: str,
    params: Mapping[str, Any] | None = None,
    mask: NDArray[np.floating] | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    on_layout: Callable[[F32], None] | None = None,
) -> Projection:
    """Project (N, D) embeddings (⊙ ``mask`` when given) with ``method`` in :data:`METHODS`."""
    if method not in METHODS:
        raise QueryError(f"Unknown projection method '{method}'; choose one of {', '.join(METHODS)}.")
    mask32 = None if mask is None else np.asarray(mask, dtype=np.float32).reshape(-1)
    data = np.asarray(embeddings, dtype=np.float32)
    if mask32 is not None:
        data = data * mask32
    params_dict = dict(params or {})
    if method == "pca":
        coords, model = pca(data)
        if progress is not None:
            progress(1, 1)
    elif method == "tsne":
        coords, model = tsne(data, params_dict, progress, cancel, on_layout)
    else:
        coords, model = umap(data, params_dict)
    return Projection(method, params_dict, coords, mask32, model)


class ProjectionCache:
    """Finished projections by (embeddings fingerprint, method, params, mask); keeps the last ``size`` in
    memory and, given a ``folder``, every t-SNE / UMAP map on disk (coords + mask, one ``.npz`` each,
    written atomically, read without pickle). ``reference`` (the embeddings) lets a map read from disk
    place new points."""

    def __init__(self, size: int = 8, folder: str | Path | None = None, reference: F32 | None = None) -> None:
        self.size = size
        self.folder = None if folder is None else Path(folder)
        self.reference = reference
        self._items: OrderedDict[tuple[str, str, str, str], Projection] = OrderedDict()

    @staticmethod
    def key(
        embeddings_id: str, method: str, params: Mapping[str, Any], mask: NDArray[Any] | None
    ) -> tuple[str, str, str, str]:
        mask_id = (
            "" if mask is None else hashlib.sha256(np.asarray(mask, np.float32).tobytes()).hexdigest()[:16]
        )
        return embeddings_id, method, repr(sorted(params.items())), mask_id

    def get(self, key: tuple[str, str, str, str]) -> Projection | None:
        item = self._items.get(key)
        if item is None:
            item = self._read(key)
            if item is not None:
                self._remember(key, item)
        else:
            self._items.move_to_end(key)
        return item

    def put(self, key: tuple[str, str, str, str], projection: Projection) -> None:
        self._remember(key, projection)
        self._write(key, projection)

    def _remember(self, key: tuple[str, str, str, str], projection: Projection) -> None:
        self._items[key] = projection
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def path_for(self, key: tuple[str, str, str, str]) -> Path | None:
        """Where the map of ``key`` lives on disk (None: not kept on disk)."""
        if self.folder is None or key[1] not in DISK_METHODS:
            return None
        return self.folder / f"{key[1]}-{hashlib.sha256(repr(key).encode()).hexdigest()[:24]}.npz"

    def _write(self, key: tuple[str, str, str, str], projection: Projection) -> None:
        path = self.path_for(key)
        if path is None:
            return
        buffer = io.BytesIO()
        mask = np.zeros(0, np.float32) if projection.mask is None else projection.mask
        np.savez(buffer, coords=projection.coords, mask=mask, key=np.array(repr(key)))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, buffer.getvalue())
        except OSError:  # an unwritable cache folder only costs the next launch a recomputation
            pass

    def _read(self, key: tuple[str, str, str, str]) -> Projection | None:
        path = self.path_for(key)
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as stored:
                coords, mask, stored_key = stored["coords"], stored["mask"], str(stored["key"])
        except (OSError, ValueError, KeyError):  # unreadable or foreign: recompute (and overwrite)
            return None
        rows = None if self.reference is None else len(self.reference)
        if (
            stored_key != repr(key)
            or coords.ndim != 2
            or coords.shape[1] != 2
            or rows not in (None, len(coords))
        ):
            return None
        if not np.isfinite(coords).all():
            return None
        try:
            params = dict(params_from_key(key[2]))
        except (ValueError, TypeError, SyntaxError):
            return None
        return Projection(
            key[1],
            params,
            np.asarray(coords, dtype=np.float32),
            None if mask.size == 0 else np.asarray(mask, dtype=np.float32),
            model=None,
            reference=self.reference,
        )


def params_from_key(text: str) -> list[tuple[str, Any]]:
    """The ``repr(sorted(params.items()))`` of a cache key read back (literals only, no code run)."""
    import ast

    value = ast.literal_eval(text)
    return [(str(name), item) for name, item in value]
