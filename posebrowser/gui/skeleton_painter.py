"""Painting a 16-joint stick figure with QPainter, in the thesis' bone colours (shared by the inspector
and the results thumbnails), and a projection of 3-D joints for a rotatable view."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from posebrowser.pose.skeleton import BONES, UPPER_NECK


def image_to_rect(joints: np.ndarray, image_width: int, image_height: int, target: QRectF) -> np.ndarray:
    """(16, 2) image pixels → widget coordinates of ``target`` (the rect the image is drawn into)."""
    scale_x = target.width() / max(image_width, 1)
    scale_y = target.height() / max(image_height, 1)
    points = np.asarray(joints, dtype=np.float64)
    return np.stack([target.left() + points[:, 0] * scale_x, target.top() + points[:, 1] * scale_y], axis=1)


def paint_skeleton(painter: QPainter, points: np.ndarray, width: float = 2.0, dots: bool = True) -> int:
    """Draw bones (and joint dots) at widget coordinates ``points`` (16, 2); returns the bones drawn."""
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    drawn = 0
    for first, second, colour in BONES:
        a, b = points[first], points[second]
        if not (np.isfinite(a).all() and np.isfinite(b).all()):
            continue
        painter.setPen(QPen(QColor(colour), width, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        painter.drawLine(QPointF(*a), QPointF(*b))
        drawn += 1
    if dots:
        painter.setPen(QPen(QColor("#202020"), 0.8))
        painter.setBrush(QColor("#f5f5f5"))
        radius = max(1.5, width)
        for joint, point in enumerate(points):
            if joint != UPPER_NECK and np.isfinite(point).all():
                painter.drawEllipse(QPointF(*point), radius, radius)
    painter.restore()
    return drawn


def project_3d(joints: np.ndarray, azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    """Orthographic view of Z-up joints (16, 3): turn by ``azimuth`` about Z, tilt by ``elevation``;
    returns (16, 3) with x right, y up on screen and z towards the viewer (for depth order)."""
    azimuth, elevation = math.radians(azimuth_deg), math.radians(elevation_deg)
    points = np.asarray(joints, dtype=np.float64)
    x = points[:, 0] * math.cos(azimuth) - points[:, 1] * math.sin(azimuth)
    depth = points[:, 0] * math.sin(azimuth) + points[:, 1] * math.cos(azimuth)
    y = points[:, 2] * math.cos(elevation) - depth * math.sin(elevation)
    z = points[:, 2] * math.sin(elevation) + depth * math.cos(elevation)
    return np.stack([x, y, z], axis=1)


def fit_to_rect(projected: np.ndarray, target: QRectF, reach: float = 1.0) -> np.ndarray:
    """Screen points (16, 2) of projected joints centred in ``target``; ``reach`` metres fill half of it."""
    scale = min(target.width(), target.height()) / (2.0 * reach)
    centre = target.center()
    return np.stack([centre.x() + projected[:, 0] * scale, centre.y() - projected[:, 1] * scale], axis=1)
