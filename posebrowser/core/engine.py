"""RetrievalEngine — the one facade the GUI and the CLI use for retrieval.

It owns the gallery, its (cached) image embeddings, the nearest-neighbour index, the conditional posebyte
model (fitted on the train split), the mask bank and the projection cache, and turns a :class:`Query` into a
:class:`SearchResult` scored against the gallery's ground truth where it exists.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from posebrowser.core.cache import CacheKey
from posebrowser.core.conditional import CONDITIONAL_CONTRAST, ConditionalPosebyteModel, contrast_query
from posebrowser.core.device import DeviceChoice, configure_threads, resolve_device
from posebrowser.core.index import RetrievalIndex
from posebrowser.core.locations import (
    CNN_IMAGE_MODEL,
    DEFAULT_IMAGE_MODEL,
    default_cache_dir,
    default_models_dir,
    resolve_image_model,
)
from posebrowser.core.masks import MaskBank, fit_mask, posebit_agreement, satisfies
from posebrowser.core.projection import Projection, ProjectionCache, fingerprint, project
from posebrowser.core.query import (
    ImageTerm,
    NamesVocabulary,
    Query,
    SearchResult,
    SelectionTerm,
    Term,
    VocabularyLike,
    merge_conditions,
)
from posebrowser.data.gallery_format import SPLITS
from posebrowser.errors import CacheError, QueryError, UnknownPosebitError, VocabularyMismatchError

F32 = NDArray[np.float32]
SHIPPED_EMBEDDINGS_DIR = "embeddings"  # under the models folder: the built-in gallery, embedded once
Progress = Callable[[int, int], None]
ConditionsLike = Mapping[str, int] | Sequence[tuple[str, int]]


def shipped_embeddings(models: Path, key: CacheKey, count: int) -> F32 | None:
    """The embeddings shipped next to the models (``<models>/embeddings/``, a read-only cache) when they
    were made by exactly this model for exactly this gallery and vocabulary; else None."""
    from posebrowser.core.cache import complete_rows

    folder = models / SHIPPED_EMBEDDINGS_DIR
    if not (folder / key.folder_name()).is_dir():
        return None
    return complete_rows(folder, key, count)


def cached_embeddings_lookup(models: Path, cache_root: Path, key: CacheKey, count: int
                             ) -> Callable[[str], F32 | None]:
    """``lookup(model_sha256)``: the complete embeddings of this gallery and vocabulary by that model,
    shipped with the models or in the cache folder, else None (e.g. the fused model's CNN alone)."""
    from dataclasses import replace

    from posebrowser.core.cache import complete_rows

    def lookup(model_sha256: str) -> F32 | None:
        other = replace(key, model_sha256=model_sha256)
        found = shipped_embeddings(models, other, count)
        return found if found is not None else complete_rows(cache_root, other, count)

    return lookup


def _cnn_side_cache(embedder: Any, root: Path, key: CacheKey, count: int, chunk_rows: int) -> Any:
    """With the fused image model: the cache of its CNN's own rows of this gallery, filled beside the fused
    rows (:class:`~posebrowser.core.cache.SideCache`); None for any other image model."""
    from dataclasses import replace

    from posebrowser.core.cache import SideCache

    cnn = getattr(embedder, "image", None)
    if cnn is None or not hasattr(embedder, "last_cnn_rows"):
        return None
    dim = int(embedder.fusion.embedding_dim)
    return SideCache(root, replace(key, model_sha256=cnn.model_sha256), count, dim, chunk_rows)


def _conditions(conditions: ConditionsLike) -> tuple[tuple[str, int], ...]:
    items = conditions.items() if isinstance(conditions, Mapping) else conditions
    return tuple(sorted((str(name), int(value)) for name, value in items))


def _without_unreadable(gallery: Any, embeddings: F32, embedder: Any) -> tuple[Any, F32, list[str]]:
    """Rows the image net could not read are NaN (in the cache too): read them once more (a file may have
    been repaired), then leave the ones that still fail out of the gallery, the index and the map, with one
    message naming them."""
    bad = np.flatnonzero(~np.isfinite(embeddings).all(axis=1))
    if not len(bad):
        return gallery, embeddings, []
    retried = embedder.embed_images(gallery, indices=bad)
    messages = dict(embedder.failures)
    embeddings = np.array(embeddings, copy=True)
    embeddings[bad] = retried
    still = bad[~np.isfinite(retried).all(axis=1)]
    if not len(still):
        return gallery, embeddings, []
    names = [str(gallery.files[row]) for row in still[:5]]
    reason = messages.get(0, "")
    more = f" and {len(still) - 5} more" if len(still) > 5 else ""
    note = (
        f"{len(still)} of {len(gallery)} gallery images could not be read and are left out of results and "
        f"the map: {', '.join(names)}{more}" + (f" ({reason})" if reason else "") + "."
    )
    keep = np.isfinite(embeddings).all(axis=1)
    return gallery.subset(keep), np.ascontiguousarray(embeddings[keep]), [note]


class RetrievalEngine:
    """Retrieval over one gallery. Build with :meth:`open` (files) or :meth:`from_arrays` (tests)."""

    def __init__(
        self,
        gallery: Any,
        embeddings: NDArray[np.floating],
        vocabulary: VocabularyLike | None = None,
        image_embedder: Any = None,
        posebit_embedder: Any = None,
        masks: MaskBank | None = None,
        device: DeviceChoice | None = None,
        exact_threshold: int | None = None,
        embeddings_id: str | None = None,
    ) -> None:
        self.gallery = gallery
        self.embeddings: F32 = np.ascontiguousarray(embeddings, dtype=np.float32)
        if len(self.embeddings) != len(gallery):
            raise CacheError(
                f"There are {len(self.embeddings)} embeddings for {len(gallery)} gallery images."
            )
        self.vocabulary = vocabulary if vocabulary is not None else self._default_vocabulary()
        self.image_embedder = image_embedder
        self.posebit_embedder = posebit_embedder
        self.masks = masks if masks is not None else MaskBank()
        self.device = device if device is not None else DeviceChoice("cpu", "CPU")
        kwargs = {} if exact_threshold is None else {"exact_threshold": exact_threshold}
        self.index = RetrievalIndex(self.embeddings, np.asarray(gallery.ids), **kwargs)
        self._columns = {name: j for j, name in enumerate(getattr(gallery, "posebit_names", ()) or ())}
        self.conditional = self._fit_conditional()
        self.conditional_contrast = CONDITIONAL_CONTRAST  # 0 = the thesis' conditional query
        self._embeddings_id = embeddings_id or fingerprint(self.embeddings)
        self.projections = ProjectionCache()
        self._last_projection: dict[tuple[str, str], Projection] = {}  # by (method, mask key)
        self.warnings: list[str] = []  # problems that disabled a feature, for the status bar / CLI
        #: ``model_sha256`` → this gallery's complete cached embeddings by that model, or None (set by
        #: :meth:`open`; e.g. the evaluation's "CNN alone" row of the fused model reads its CNN's cache).
        self.cached_embeddings: Callable[[str], F32 | None] = lambda model_sha256: None

    # ------------------------------------------------------------- construction
    @classmethod
    def from_arrays(
        cls,
        gallery: Any,
        embeddings: NDArray[np.floating],
        image_embedder: Any = None,
        posebit_embedder: Any = None,
        masks: MaskBank | None = None,
        vocabulary: VocabularyLike | None = None,
        exact_threshold: int | None = None,
    ) -> RetrievalEngine:
        """An engine over in-memory embeddings (N, D) float32 L2-normalised, row i = gallery item i."""
        return cls(
            gallery,
            embeddings,
            vocabulary,
            image_embedder,
            posebit_embedder,
            masks,
            exact_threshold=exact_threshold,
        )

    @classmethod
    def open(
        cls,
        gallery_path: str | Path | None = None,
        models_dir: str | Path | None = None,
        device: str = "auto",
        cache_dir: str | Path | None = None,
        progress: Progress | None = None,
        cancel: Callable[[], bool] | None = None,
        chunk_rows: int = 4096,
        image_model: str = DEFAULT_IMAGE_MODEL,
        estimate_poses: bool = True,
        annotation_progress: Progress | None = None,
    ) -> RetrievalEngine:
        """Open a gallery (built-in by default), load the shipped models, embed through the cache
        (in chunks of ``chunk_rows`` images: the unit of resumption after an interruption).
        ``image_model`` names the image model in the models folder: ``fused_net`` (the default: the CNN
        blended with the pose estimator's reading; the CNN where the folder has none), ``image_net`` (the
        CNN alone) or e.g.
        ``joints_net`` (pose estimator + joints net; its images without a person are left out like
        unreadable ones).

        A folder of photos without annotations is first annotated by the pose estimator
        (``estimate_poses``; estimates cached per image under ``<cache_dir>/estimates``, so a killed
        build resumes), reporting through ``annotation_progress`` (default ``progress``) and stopping
        on ``cancel``; its annotations are marked estimated and the notes go to :attr:`warnings`."""
        from posebrowser.core.cache import CacheKey, EmbeddingCache
        from posebrowser.core.embedder import PosebitEmbedder
        from posebrowser.core.image_models import embedding_space, image_embedder_from_checkpoint
        from posebrowser.data.loading import open_gallery
        from posebrowser.estimate.folder import annotate_if_needed, estimate_cache_root, estimation_notes
        from posebrowser.pose.posebits import get_vocabulary

        configure_threads()
        choice = resolve_device(device)
        gallery = open_gallery(gallery_path)
        warnings: list[str] = []
        estimates = estimate_cache_root(cache_dir)  # shared by the folder annotation and the joints model
        if estimate_poses:  # a folder without annotations gets estimated joints and posebits
            gallery, warnings = annotate_if_needed(
                gallery, estimates, annotation_progress or progress, cancel
            )
        vocabulary = get_vocabulary()  # the posebit net's vocabulary; the engine may use the gallery's own
        models = Path(models_dir) if models_dir is not None else default_models_dir()
        image_model = resolve_image_model(models, image_model)
        embedder = image_embedder_from_checkpoint(models / image_model, choice.name, estimates)
        in_cnn_space = embedding_space(embedder, image_model) == CNN_IMAGE_MODEL
        posebit_embedder = None
        if not in_cnn_space:  # the posebit net and masks live in image_net's space
            warnings.append(
                f"Posebit queries and masks are off: they belong to {CNN_IMAGE_MODEL}'s "
                f"embedding space, not {image_model}'s."
            )
        elif (models / "posebit_net.safetensors").exists():
            try:
                posebit_embedder = PosebitEmbedder.from_checkpoint(
                    models / "posebit_net", choice.name, expect_posebit_version=vocabulary.version
                )
            except VocabularyMismatchError as exc:  # image and mask queries still work
                warnings.append(str(exc))
        shipped_masks = in_cnn_space and (models / "masks.safetensors").exists()
        masks = MaskBank.load(models / "masks.safetensors") if shipped_masks else None
        key = CacheKey(
            embedder.model_sha256,
            gallery.content_hash or fingerprint(np.asarray(gallery.ids)),
            vocabulary.version,
        )

        cache_root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        cnn_side: Any = None  # set below when the gallery is embedded here

        def compute(start: int, stop: int) -> F32:
            rows = embedder.embed_images(gallery, indices=range(start, stop), cancel=cancel)
            if cnn_side is not None:
                cnn_side.store(start, stop, getattr(embedder, "last_cnn_rows", None))
            return rows

        embeddings = shipped_embeddings(models, key, len(gallery))
        if embeddings is None:
            cnn_side = _cnn_side_cache(embedder, cache_root, key, len(gallery), chunk_rows)
            dim = int(compute(0, min(1, len(gallery))).shape[1]) if len(gallery) else 128
            try:
                cache = EmbeddingCache(cache_root, key, len(gallery), dim, chunk_rows)
                embeddings = cache.fill(compute, progress, cancel)
            except OSError:  # unwritable cache folder: still usable, just not cached
                embeddings = compute(0, len(gallery))
            if cnn_side is not None:
                cnn_side.finish()
        assert embeddings is not None
        count = len(gallery)
        gallery, embeddings, unreadable = _without_unreadable(gallery, embeddings, embedder)
        warnings.extend(unreadable)
        warnings.extend(estimation_notes(gallery))
        engine = cls(
            gallery,
            embeddings,
            None,
            embedder,
            posebit_embedder,
            masks,
            choice,
            embeddings_id=key.folder_name(),
        )
        engine.warnings.extend(warnings)
        if not unreadable:  # the rows of other caches of this gallery line up with the engine's
            engine.cached_embeddings = cached_embeddings_lookup(models, cache_root, key, count)
        engine.projections = ProjectionCache(  # t-SNE / UMAP maps survive a relaunch
            folder=cache_root / "projections" / key.folder_name(), reference=engine.embeddings
        )
        return engine

    def _default_vocabulary(self) -> VocabularyLike:
        from posebrowser.pose.posebits import PosebitVocabulary, get_vocabulary

        names = tuple(getattr(self.gallery, "posebit_names", ()) or ())
        vocabulary = get_vocabulary()
        if names and set(names) - set(vocabulary.names):
            try:
                return PosebitVocabulary.from_names(names)
            except UnknownPosebitError:  # e.g. a folder gallery's own metadata.csv columns
                return NamesVocabulary(names)
        return vocabulary

    def _fit_conditional(self) -> ConditionalPosebyteModel | None:
        posebits = getattr(self.gallery, "posebits", None)
        if posebits is None or posebits.shape[1] == 0:
            return None
        train = np.flatnonzero(self.gallery.split == SPLITS.index("train"))
        rows = posebits[train] if len(train) else posebits
        return ConditionalPosebyteModel.fit(rows) if len(rows) else None

    def set_device(self, name: str) -> DeviceChoice:
        """Move the networks to ``name`` ("auto" | "cuda" | "cpu"); returns the device actually used."""
        choice = resolve_device(name)
        for embedder in (self.image_embedder, self.posebit_embedder):
            if embedder is not None and hasattr(embedder, "module"):
                embedder.module = embedder.module.to(choice.name)
                embedder.device = choice
                if hasattr(embedder, "precision"):
                    from posebrowser.core.embedder import autocast_dtype

                    embedder.autocast = autocast_dtype(embedder.precision, choice.name)
        self.device = choice
        return choice

    # ---------------------------------------------------------------- posebits
    def column(self, name: str) -> int:
        """Gallery posebit column of bit ``name``; QueryError when the gallery has no such annotation."""
        if name not in self._columns:
            raise QueryError(f"The gallery has no annotation for posebit '{name}'.")
        return self._columns[name]

    def _by_column(self, conditions: ConditionsLike) -> dict[int, int]:
        return {self.column(name): value for name, value in _conditions(conditions)}

    def count_matching(self, conditions: ConditionsLike, split: str | None = None) -> int:
        """Number of gallery items (of ``split``) whose annotations satisfy every condition."""
        if self.gallery.posebits is None:
            return 0
        ok = satisfies(self.gallery.posebits, self._by_column(conditions))
        if split is not None:
            ok &= self.gallery.split == SPLITS.index(split)
        return int(ok.sum())

    def fit_mask(
        self, conditions: ConditionsLike, steps: int = 200, cancel: Callable[[], bool] | None = None
    ) -> F32:
        """Learn a (D,) mask for ``conditions`` on the train split's embeddings and annotations."""
        if self.gallery.posebits is None:
            raise QueryError("This gallery has no posebit annotations to learn a mask from.")
        train = np.flatnonzero(self.gallery.split == SPLITS.index("train"))
        rows = train if len(train) else np.arange(len(self.gallery))
        positive = satisfies(self.gallery.posebits[rows], self._by_column(conditions))
        return fit_mask(self.embeddings[rows], positive, steps=steps, cancel=cancel)

    def mask_for(self, conditions: ConditionsLike) -> F32:
        """A shipped single-bit mask, else one fitted on the fly (cached per conditions)."""
        key = _conditions(conditions)
        return self.masks.mask_for(key, lambda: self.fit_mask(key))

    def posebyte_for(self, conditions: ConditionsLike, mode: str) -> F32:
        """(B,) float32 posebyte in the posebit net's input order: ``full`` = unset bits 0; ``conditional`` =
        unset bits completed by the Gaussian model (rounded and clipped, as the thesis does)."""
        names: Sequence[str] = getattr(self.posebit_embedder, "posebit_names", None) or self.vocabulary.names
        asked = dict(_conditions(conditions))
        if mode == "conditional":
            if self.conditional is None:
                raise QueryError("Conditional queries need a gallery with posebit annotations.")
            completion = self.conditional.complete(self._by_column(asked)).posebyte
            by_name = {name: float(completion[j]) for name, j in self._columns.items()}
        else:
            by_name = {}
        by_name.update({name: float(value) for name, value in asked.items()})
        missing = set(asked) - set(names)
        if missing:
            raise QueryError(
                f"The posebit network does not know the posebit(s) {', '.join(sorted(missing))}."
            )
        return np.array([by_name.get(name, 0.0) for name in names], dtype=np.float32)

    # ----------------------------------------------------------------- vectors
    def embed_image_file(self, path: str | Path) -> F32:
        """(D,) float32 unit embedding of any image file (CorruptFileError for a bad file)."""
        if self.image_embedder is None:
            raise QueryError("No image network is loaded, so an image file cannot be used as a query.")
        vectors: F32 = self.image_embedder.embed_images([Path(path)], strict=True)
        return np.asarray(vectors[0], dtype=np.float32)

    def term_vector(self, term: Term, contrast: float | None = None) -> F32:
        """(D,) float32 unit vector of one vector term (a selection: its items' mean, re-normalised).
        ``contrast``: the asked-bit contrast of a conditional posebit term (default
        :attr:`conditional_contrast`; 0 = the thesis' query)."""
        if isinstance(term, SelectionTerm):
            return self._centroid(term.indices)
        if isinstance(term, ImageTerm):
            if term.gallery_index is None:
                return self.embed_image_file(str(term.path))
            if not 0 <= term.gallery_index < len(self.gallery):
                raise QueryError(
                    f"There is no gallery image {term.gallery_index} (0..{len(self.gallery) - 1})."
                )
            return np.asarray(self.embeddings[term.gallery_index], dtype=np.float32)
        if self.posebit_embedder is None:
            raise QueryError("No posebit network is loaded; use a mask query ({mask}) instead.")
        strength = self.conditional_contrast if contrast is None else contrast
        if strength < 0:  # checked here, not only in contrast_query: 0 > strength would skip it
            raise QueryError(f"The asked-bit contrast must be 0 or more (got {strength}).")
        if term.mode == "conditional" and strength > 0:
            return self._contrasted_conditional(term.conditions, strength)
        vector: F32 = self.posebit_embedder.embed(self.posebyte_for(term.conditions, term.mode)[None, :])
        return np.asarray(vector[0], dtype=np.float32)

    def _contrasted_conditional(self, conditions: tuple[tuple[str, int], ...], strength: float) -> F32:
        """The conditional query with weight on its asked bits (see :func:`contrast_query`): the completed
        posebyte's embedding and, in the same batch, those of the completions with one asked bit flipped."""
        assert self.posebit_embedder is not None
        flipped = [
            tuple((n, 1 - v) if i == j else (n, v) for j, (n, v) in enumerate(conditions))
            for i in range(len(conditions))
        ]
        batch = np.stack([self.posebyte_for(c, "conditional") for c in (conditions, *flipped)])
        vectors = np.asarray(self.posebit_embedder.embed(batch), dtype=np.float64)
        return contrast_query(vectors[0], vectors[1:], strength)

    def _centroid(self, indices: tuple[int, ...]) -> F32:
        if indices[-1] >= len(self.gallery):  # sorted: the last is the largest
            raise QueryError(f"There is no gallery image {indices[-1]} (0..{len(self.gallery) - 1}).")
        mean = self.embeddings[list(indices)].mean(axis=0, dtype=np.float64)
        norm = float(np.linalg.norm(mean))
        if norm < 1e-9:
            raise QueryError("The selected images' embeddings cancel out; select other images.")
        return np.asarray(mean / norm, dtype=np.float32)

    def query_vector(self, query: Query, contrast: float | None = None) -> tuple[F32 | None, F32 | None]:
        """(unit query vector (D,) or None, mask (D,) or None) of a query (see core.query); ``contrast`` as
        in :meth:`term_vector`."""
        vector: F32 | None = None
        terms = query.vector_terms
        if terms:
            total = np.zeros(self.embeddings.shape[1], dtype=np.float64)
            for term in terms:
                total += term.weight * self.term_vector(term, contrast)
            norm = float(np.linalg.norm(total))
            if not np.isfinite(norm) or norm < 1e-6:
                raise QueryError("The query's terms cancel each other out; change a weight.")
            vector = (total / norm).astype(np.float32)
        mask: F32 | None = None
        if query.mask_terms:
            if any(term.weight <= 0 for term in query.mask_terms):
                raise QueryError("A mask term cannot be subtracted; use 'is not' (=0) instead.")
            merged = merge_conditions(query.mask_terms)
            mask = self.mask_for(merged) * float(max(t.weight for t in query.mask_terms))
        return vector, mask

    # ------------------------------------------------------------------ search
    def search(
        self, query: Query, k: int = 50, split: str | None = None, contrast: float | None = None
    ) -> SearchResult:
        """Rank gallery items (of ``split`` when given) for ``query``; top ``k`` with ground-truth scoring.
        ``contrast``: the asked-bit contrast of conditional posebit terms (default
        :attr:`conditional_contrast`; 0 = the thesis' query)."""
        allowed = None if split is None else np.asarray(self.gallery.split == SPLITS.index(split))
        vector, mask = self.query_vector(query, contrast)
        if mask is None:
            assert vector is not None
            distances, rows = self.index.search(vector[None, :], k, allowed)
        else:
            origin = vector if vector is not None else np.zeros(self.embeddings.shape[1], np.float32)
            distances, rows = self.index.masked_search(origin[None, :], mask, k, allowed)
        keep = rows[0] >= 0
        indices, dist = rows[0][keep], distances[0][keep]
        asked = query.asked_conditions()
        correct, agreement = self._score_posebits(indices, asked)
        return SearchResult(
            indices=indices,
            ids=np.asarray(self.gallery.ids)[indices],
            distances=dist,
            correct=correct,
            agreement=agreement,
            asked=asked,
            gt_distances=self._gt_distances(query, indices),
            mask=mask,
            query_vector=vector,
            index_kind=self.index.kind if mask is None else "exact (masked, numpy)",
        )

    def _score_posebits(
        self, indices: NDArray[np.int64], asked: tuple[tuple[str, int], ...]
    ) -> tuple[NDArray[np.bool_] | None, NDArray[np.int8] | None]:
        posebits = getattr(self.gallery, "posebits", None)
        if not asked or posebits is None:
            return None, None
        agreement = posebit_agreement(posebits[indices], [(self._columns.get(n), v) for n, v in asked])
        return np.all(agreement == 1, axis=1), agreement

    def _gt_distances(self, query: Query, indices: NDArray[np.int64]) -> dict[str, F32]:
        anchor = next(
            (
                t.gallery_index
                for t in query.terms
                if isinstance(t, ImageTerm) and t.gallery_index is not None and t.weight > 0
            ),
            None,
        )
        if anchor is None or not len(indices):
            return {}
        from posebrowser.pose.similarity import METRICS, pairwise_distances

        out: dict[str, F32] = {}
        for metric in METRICS:
            if getattr(self.gallery, metric.needs, None) is not None:
                out[metric.name] = pairwise_distances(metric.name, self.gallery, [anchor], indices)[0]
        return out

    # -------------------------------------------------------------- projection
    def project(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        subspace_mask: NDArray[np.floating] | None = None,
        progress: Progress | None = None,
        cancel: Callable[[], bool] | None = None,
        on_layout: Callable[[F32], None] | None = None,
    ) -> F32:
        """(N, 2) float32 map of the gallery embeddings (⊙ ``subspace_mask``); cached per settings."""
        params = dict(params or {})
        key = ProjectionCache.key(self._embeddings_id, method, params, subspace_mask)
        found = self.projections.get(key)
        if found is None:
            found = project(self.embeddings, method, params, subspace_mask, progress, cancel, on_layout)
            self.projections.put(key, found)
        self._last_projection[(method, key[3])] = found
        return found.coords

    def place_in_projection(
        self, vector: NDArray[np.floating], method: str, subspace_mask: NDArray[np.floating] | None = None
    ) -> F32:
        """(2,) float32 position of a (D,) vector in the last ``method`` map of the same subspace
        (``subspace_mask`` None = the whole embedding); PCA exact, t-SNE / UMAP by ``transform``."""
        mask_key = ProjectionCache.key("", method, {}, subspace_mask)[3]
        projection = self._last_projection.get((method, mask_key))
        if projection is None:
            raise QueryError(f"There is no {method} projection yet; compute it first.")
        return np.asarray(
            projection.place(np.asarray(vector, dtype=np.float32)[None, :])[0], dtype=np.float32
        )
