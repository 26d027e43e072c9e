"""The query is placed in the map it is drawn on: the last map is remembered per method *and* subspace."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from core_fakes import clustered, make_gallery

from posebrowser.core.engine import RetrievalEngine


def test_placement_uses_the_map_of_the_same_subspace(tmp_path: Path) -> None:
    embeddings = clustered(300, dim=32, seed=3)
    gallery = make_gallery(tmp_path, 300, None, ())
    engine = RetrievalEngine.from_arrays(gallery, embeddings)
    whole = engine.project("pca")
    mask = np.linspace(0.0, 1.0, 32).astype(np.float32) ** 4
    engine.project("pca", subspace_mask=mask)  # Subspace on, then off: the GUI redraws `whole` from its cache
    np.testing.assert_allclose(engine.place_in_projection(embeddings[7], "pca"), whole[7], atol=1e-4)
    masked = engine.place_in_projection(embeddings[7], "pca", subspace_mask=mask)
    assert not np.allclose(masked, whole[7], atol=1e-3)
