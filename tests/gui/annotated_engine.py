"""The GUI tests' fake engine with pose annotations: 2-D and 3-D joints per item (a noisy standing
skeleton), and what ``evaluate_engine`` reads (split lists, ground-truth availability, no nets)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from fake_engine import FakeEngine, make_engine

from posebrowser.data.gallery import METRIC_NEEDS
from posebrowser.data.gallery_format import SPLITS

#: A standing person in metres, Z up, in the skeleton's joint order.
STANDING = np.array(
    [
        [0.1, 0.0, 0.0],
        [0.1, 0.0, 0.45],
        [0.1, 0.0, 0.9],
        [-0.1, 0.0, 0.9],
        [-0.1, 0.0, 0.45],
        [-0.1, 0.0, 0.0],
        [0.0, 0.0, 0.9],
        [0.0, 0.0, 1.4],
        [0.0, 0.0, 1.5],
        [0.0, 0.0, 1.7],
        [0.45, 0.0, 1.0],
        [0.35, 0.0, 1.2],
        [0.2, 0.0, 1.4],
        [-0.2, 0.0, 1.4],
        [-0.35, 0.0, 1.2],
        [-0.45, 0.0, 1.0],
    ],
    dtype=np.float32,
)


def annotated_engine(folder: Path, count: int = 200, seed: int = 3) -> FakeEngine:
    engine = make_engine(folder, count=count)
    gallery = engine.gallery
    rng = np.random.default_rng(seed)
    joints_3d = STANDING[None] + rng.normal(scale=0.12, size=(count, 16, 3)).astype(np.float32)
    gallery.joints_3d = joints_3d
    # the thumbnails are 96 px squares: x right, y down
    gallery.joints_2d = np.stack([48 + 40 * joints_3d[..., 0], 90 - 45 * joints_3d[..., 2]], axis=-1)
    gallery.split_indices = lambda name: np.flatnonzero(gallery.split == SPLITS.index(name))
    gallery.has_ground_truth = lambda metric: getattr(gallery, METRIC_NEEDS[metric]) is not None
    engine.image_embedder = None
    engine.posebit_embedder = None
    engine.masks = None
    engine.conditional = None
    return engine
