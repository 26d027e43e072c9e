"""Pinhole cameras fitted tightly around a posed body.

Convention: camera coordinates ``X_c = R X_w + t`` with x right, y down, z forward (depth). A world point
projects to stored-image pixels ``(f x_c / z_c + S/2, f y_c / z_c + S/2)``: the principal point is the
image centre and pixel ``(row, col)`` has its centre at ``(col + 0.5, row + 0.5)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Camera:
    """rotation ``(3, 3)`` world → camera; translation ``(3,)`` metres; focal in pixels of a
    ``size × size`` image (principal point at its centre)."""

    rotation: FloatArray
    translation: FloatArray
    focal: float
    size: int

    @property
    def position(self) -> FloatArray:
        """Camera centre in world coordinates ``(3,)``."""
        return np.asarray(-self.rotation.T @ self.translation)

    def to_camera(self, points: NDArray[np.floating]) -> FloatArray:
        """World points ``(..., 3)`` → camera coordinates ``(..., 3)``."""
        return np.asarray(np.asarray(points, dtype=np.float64) @ self.rotation.T + self.translation)

    def project(self, points: NDArray[np.floating], scale: float = 1.0) -> FloatArray:
        """World points ``(..., 3)`` → ``(..., 3)``: pixel x, pixel y (of an image ``scale`` times the stored
        size) and camera depth z in metres."""
        cam = self.to_camera(points)
        z = cam[..., 2:3]
        xy = self.focal * scale * cam[..., :2] / np.where(np.abs(z) < 1e-9, 1e-9, z) + self.size * scale / 2
        return np.concatenate([xy, z], axis=-1)

    def with_azimuth(self, delta: float, pivot: NDArray[np.floating]) -> Camera:
        """The same camera orbited by ``delta`` radians about the vertical axis through ``pivot``."""
        c, s = np.cos(delta), np.sin(delta)
        spin = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        centre = spin @ (self.position - pivot) + pivot
        rotation = self.rotation @ spin.T
        return Camera(rotation=rotation, translation=-rotation @ centre, focal=self.focal, size=self.size)


def look_at(eye: NDArray[np.floating], target: NDArray[np.floating]) -> FloatArray:
    """World → camera rotation ``(3, 3)`` for a camera at ``eye`` looking at ``target`` with Z up."""
    forward = np.asarray(target, dtype=np.float64) - np.asarray(eye, dtype=np.float64)
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 0.0, 1.0])
    if np.linalg.norm(right) < 1e-6:
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return np.stack([right, down, forward])


def fit_camera(
    vertices: NDArray[np.floating],
    azimuth: float,
    elevation: float,
    distance: float,
    fill: float,
    size: int,
    min_height: float = 0.25,
) -> Camera:
    """A camera at ``azimuth``/``elevation`` (radians; elevation > 0 looks down) and ``distance`` (m) from
    the centre of ``vertices`` ``(V, 3)``, shifted so their projected bounding box is centred and its
    longer side spans ``fill`` (0–1) of the ``size``-pixel frame. The camera stays ``min_height`` above
    the ground plane z = 0.
    """
    pts = np.asarray(vertices, dtype=np.float64)
    target = (pts.min(0) + pts.max(0)) / 2
    direction = np.array(
        [np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation)]
    )
    eye = target + distance * direction
    eye[2] = max(eye[2], min_height)
    rotation = look_at(eye, target)
    translation = -rotation @ eye
    for _ in range(3):
        cam = pts @ rotation.T + translation
        uv = cam[:, :2] / cam[:, 2:3]
        centre = (uv.min(0) + uv.max(0)) / 2
        depth = float(np.median(cam[:, 2]))
        translation[:2] -= centre * depth
    cam = pts @ rotation.T + translation
    uv = cam[:, :2] / cam[:, 2:3]
    extent = float(np.max(uv.max(0) - uv.min(0)))
    focal = fill * size / max(extent, 1e-6)
    return Camera(rotation=rotation, translation=translation, focal=focal, size=size)
