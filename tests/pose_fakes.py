"""Seeded skeleton-like 3-D poses for tests that need many poses quickly (no synthesis, no files), and a
fake pose estimator that reads which pose an image shows off its first pixel."""

from __future__ import annotations

import numpy as np

from posebrowser.estimate.result import NoPersonFound, PersonBox, PoseEstimate

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


class FakeEstimator:
    """Reads the pose index from the image's first pixel; 255 means nobody is there."""

    version = "fake-estimator-1"

    def __init__(self, poses: np.ndarray) -> None:
        self.poses = poses.astype(np.float32)
        self.calls = 0

    def estimate(self, image: np.ndarray | bytes) -> PoseEstimate | NoPersonFound:
        self.calls += 1
        if isinstance(image, bytes):  # a file's bytes, as the estimate cache passes them
            import io

            from PIL import Image

            image = np.asarray(Image.open(io.BytesIO(image)).convert("RGB"))
        index = int(image[0, 0, 0])
        if index == 255:
            return NoPersonFound("no-person", "No person was found in the image.", (8, 8), self.version)
        return PoseEstimate(
            image_size=(8, 8),
            box=PersonBox(0, 0, 8, 8),
            joints_2d=np.zeros((16, 2), np.float32),
            joints_3d=self.poses[index],
            confidence=np.ones(16, np.float32),
            posebits=np.zeros(3, np.int8),
            vocabulary_version="v",
            people_found=1,
            estimator=self.version,
        )


def picture(index: int) -> np.ndarray:
    return np.full((8, 8, 3), index, dtype=np.uint8)
