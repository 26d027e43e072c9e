"""Projections: PCA vs an SVD oracle, t-SNE live layouts and cancel, UMAP availability."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from core_fakes import clustered

from posebrowser.core.projection import ProjectionCache, pca, project
from posebrowser.errors import JobCancelledError, PosebrowserError


def test_pca_matches_svd() -> None:
    x = clustered(2000, dim=32, seed=2)
    coords, (mean, components) = pca(x)
    _, _, vt = np.linalg.svd(x - x.mean(0), full_matrices=False)
    for c in range(2):
        np.testing.assert_allclose(np.abs(components[c]), np.abs(vt[c]), atol=1e-4)
    np.testing.assert_allclose(coords, (x - mean) @ components.T, atol=1e-4)


def test_masked_subspace_and_cache_key() -> None:
    x = clustered(300, dim=16, seed=3)
    mask = np.zeros(16, np.float32)
    mask[:2] = 1.0
    projection = project(x, "pca", mask=mask)

    # only two dims survive the mask, so the 2-D PCA map is a rigid motion of those two dims
    def pairwise(a: np.ndarray) -> np.ndarray:
        return np.linalg.norm(a[:, None, :] - a[None, :, :], axis=2)

    np.testing.assert_allclose(pairwise(projection.coords), pairwise(x[:, :2]), atol=1e-4)
    assert np.allclose(projection.place(x[:3]), projection.coords[:3], atol=1e-4)
    a = ProjectionCache.key("e", "pca", {}, mask)
    assert a != ProjectionCache.key("e", "pca", {}, None) and a == ProjectionCache.key(
        "e", "pca", {}, mask.copy()
    )


def test_tsne_layouts_and_cancel() -> None:
    x = clustered(400, dim=16, seed=4)
    layouts: list[np.ndarray] = []
    progress: list[tuple[int, int]] = []
    params = {"n_iter": 50, "early_exaggeration_iter": 50, "every": 25}
    result = project(
        x, "tsne", params, progress=lambda d, t: progress.append((d, t)), on_layout=layouts.append
    )
    assert result.coords.shape == (400, 2) and len(layouts) == 4 and progress[-1] == (100, 100)
    with pytest.raises(JobCancelledError):
        project(x, "tsne", params, cancel=lambda: True)


@pytest.mark.skipif(importlib.util.find_spec("umap") is not None, reason="umap-learn installed")
def test_umap_missing_gives_clear_error() -> None:
    with pytest.raises(PosebrowserError, match="umap-learn"):
        project(clustered(50, dim=8), "umap")
