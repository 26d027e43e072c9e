"""Seeded skeleton-like 3-D poses for tests that need many poses quickly (no synthesis, no files)."""

from __future__ import annotations

import numpy as np

#: A standing pose (Z up, metres) in the skeleton's joint order, arms out to the sides.
STANCE = np.array(
    [
        [-0.1, 0, 0.1],
        [-0.1, 0, 0.5],
        [-0.1, 0, 0.9],
        [0.1, 0, 0.9],
        [0.1, 0, 0.5],
        [0.1, 0, 0.1],
        [0, 0, 0.9],
        [0, 0, 1.4],
        [0, 0, 1.5],
        [0, 0, 1.7],
        [-0.5, 0, 1.4],
        [-0.35, 0, 1.4],
        [-0.2, 0, 1.4],
        [0.2, 0, 1.4],
        [0.35, 0, 1.4],
        [0.5, 0, 1.4],
    ]
)


def random_poses(rng: np.random.Generator, n: int, jitter: float = 0.08) -> np.ndarray:
    """``(n, 16, 3)`` float64: :data:`STANCE` plus per-joint Gaussian jitter, each turned about the
    vertical by a random angle and moved by a random offset."""
    poses = STANCE[None] + rng.normal(0, jitter, (n, 16, 3))
    angle = rng.uniform(0, 2 * np.pi, n)
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x, y = poses[..., 0].copy(), poses[..., 1].copy()
    poses[..., 0], poses[..., 1] = c * x - s * y, s * x + c * y
    return poses + rng.normal(0, 2.0, (n, 1, 3))
