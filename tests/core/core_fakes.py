"""Shared fakes for the retrieval-core tests: clustered unit embeddings, a tiny gallery, tiny nets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray


def unit_rows(x: NDArray[np.floating]) -> NDArray[np.float32]:
    x = np.asarray(x, dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def clustered(n: int, dim: int = 128, clusters: int = 20, seed: int = 0) -> NDArray[np.float32]:
    """(n, dim) float32 unit rows drawn around ``clusters`` random centres."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim))
    labels = rng.integers(0, clusters, n)
    return unit_rows(centres[labels] + 0.5 * rng.standard_normal((n, dim)))


def posebit_world(
    n: int, bits: int = 6, dim: int = 128, seed: int = 0, noise: float = 1.2
) -> tuple[NDArray[np.int8], NDArray[np.float32]]:
    """Correlated posebits (N, bits) int8 and embeddings where each bit shifts a random direction."""
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 2))
    mixing = rng.standard_normal((2, bits))
    posebits = ((latent @ mixing + 0.7 * rng.standard_normal((n, bits))) > 0).astype(np.int8)
    # bit b lives in dims (2b, 2b+1) as one-hot (value 1 → (1, 0), value 0 → (0, 1)); the rest is noise,
    # so "bit b = v" is a diagonal-mask-expressible region near the origin of a subspace.
    onehot = np.zeros((n, dim))
    onehot[:, 0 : 2 * bits : 2] = posebits
    onehot[:, 1 : 2 * bits : 2] = 1 - posebits
    emb = onehot + noise * rng.standard_normal((n, dim)) / np.sqrt(dim) * 4
    return posebits, unit_rows(emb)


def make_gallery(
    root: Path,
    n: int,
    posebits: NDArray[np.int8] | None,
    names: tuple[str, ...],
    joints: bool = True,
    seed: int = 0,
):  # type: ignore[no-untyped-def]
    from posebrowser.data.gallery import Gallery

    rng = np.random.default_rng(seed)
    split = np.zeros(n, dtype=np.uint8)
    split[n // 2 :] = 2
    split[n // 2 : n // 2 + n // 10] = 1
    j3 = rng.standard_normal((n, 16, 3)).astype(np.float32) if joints else None
    j2 = rng.uniform(0, 112, (n, 16, 2)).astype(np.float32) if joints else None
    return Gallery(
        root=root,
        name="fake",
        kind="posebrowser",
        files=tuple(f"images/{i}.png" for i in range(n)),
        ids=np.arange(100, 100 + n, dtype=np.int64),
        split=split,
        posebits=posebits,
        posebit_names=names if posebits is not None else (),
        joints_3d=j3,
        joints_2d=j2,
        content_hash="fakehash",
    )
