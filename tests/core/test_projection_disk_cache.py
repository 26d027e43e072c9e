"""t-SNE / UMAP maps kept on disk per (embeddings, method, parameters, mask): a relaunch reads them back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from core_fakes import clustered

from posebrowser.core.projection import ProjectionCache, project

FAST = {"n_iter": 30, "early_exaggeration_iter": 20, "every": 10}


def test_a_tsne_map_survives_a_new_cache_and_places_points(tmp_path: Path) -> None:
    embeddings = clustered(300, dim=16, seed=1)
    mask = np.linspace(0.2, 1.0, 16).astype(np.float32)
    first = ProjectionCache(folder=tmp_path, reference=embeddings)
    key = ProjectionCache.key("gallery-model", "tsne", FAST, mask)
    made = project(embeddings, "tsne", FAST, mask)
    first.put(key, made)
    relaunched = ProjectionCache(folder=tmp_path, reference=embeddings)
    found = relaunched.get(key)
    assert found is not None and found.model is None and found.params == FAST
    np.testing.assert_array_equal(found.coords, made.coords)
    np.testing.assert_array_equal(found.mask, mask)
    placed = found.place(embeddings[:3])
    assert placed.shape == (3, 2)
    spread = float(np.ptp(made.coords, axis=0).max())
    assert np.abs(placed - made.coords[:3]).max() < 0.2 * spread, "a gallery vector lands near its point"
    other = ProjectionCache.key("gallery-model", "tsne", {**FAST, "perplexity": 5.0}, mask)
    assert relaunched.get(other) is None, "other parameters are another map"


def test_pca_stays_in_memory_and_bad_files_are_recomputed(tmp_path: Path) -> None:
    embeddings = clustered(200, dim=8, seed=2)
    cache = ProjectionCache(folder=tmp_path, reference=embeddings)
    cache.put(ProjectionCache.key("e", "pca", {}, None), project(embeddings, "pca"))
    assert not any(tmp_path.iterdir())
    key = ProjectionCache.key("e", "tsne", FAST, None)
    cache.put(key, project(embeddings, "tsne", FAST))
    path = cache.path_for(key)
    assert path is not None and path.is_file()
    assert ProjectionCache(folder=tmp_path, reference=embeddings[:100]).get(key) is None, "other gallery size"
    path.write_bytes(b"not an npz")
    assert ProjectionCache(folder=tmp_path, reference=embeddings).get(key) is None
