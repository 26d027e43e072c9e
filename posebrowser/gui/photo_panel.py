"""The photo widgets: the *Photo* dock (the opened photo with its detected skeleton, the person box and
the square the query image is cropped to, the crop itself and what was found) and the query bar's
choice between querying with *this image* (the crop) or *this photo's pose* (its confident posebits).

They show a :class:`~posebrowser.estimate.photo.PhotoAnalysis` and emit intents; the controller is
:mod:`posebrowser.gui.photo_query`.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from posebrowser.estimate.estimator import MIN_JOINT_CONFIDENCE
from posebrowser.estimate.photo import PhotoAnalysis
from posebrowser.gui.skeleton_painter import image_to_rect, paint_skeleton
from posebrowser.gui.theme import MUTED_COLOUR

BACKGROUND = QColor("#1a1d22")
CROP_COLOUR = QColor("#ffd34d")
BOX_COLOUR = QColor("#9ad0ff")
#: Side (pixels) of the crop preview in the dock.
CROP_PREVIEW = 112
EMPTY_TEXT = (
    "Open, drop or paste a photo of a person (File ▸ Open image as query): the person is found, cropped "
    "like the gallery's images, and either the crop or the pose can be queried."
)


def shown_joints(analysis: PhotoAnalysis) -> np.ndarray | None:
    """The estimate's 2-D joints with the low-confidence ones left out (NaN: not drawn)."""
    estimate = analysis.estimate
    if estimate is None:
        return None
    joints = np.asarray(estimate.joints_2d, dtype=np.float64).copy()
    joints[np.asarray(estimate.confidence) < MIN_JOINT_CONFIDENCE] = np.nan
    return joints


def array_image(pixels: np.ndarray) -> QImage:
    """A QImage owning a copy of ``(h, w, 3)`` uint8 RGB pixels."""
    rgb = np.ascontiguousarray(pixels, dtype=np.uint8)
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class PhotoView(QWidget):
    """The photo scaled to fit, with the person box (dashed), the crop square and the skeleton."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = QImage()
        self.image_size = (0, 0)
        self.joints: np.ndarray | None = None
        self.box: tuple[float, float, float, float] | None = None
        self.crop: tuple[int, int, int, int] | None = None
        self.bones_drawn = 0
        self.joints_drawn = 0
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(260, 260)

    def show_analysis(self, analysis: PhotoAnalysis | None) -> None:
        estimate = analysis.estimate if analysis is not None else None
        self.image = array_image(analysis.preview) if analysis is not None else QImage()
        self.image_size = analysis.outcome.image_size if analysis is not None else (0, 0)
        self.joints = shown_joints(analysis) if analysis is not None else None
        self.box = estimate.box.as_tuple() if estimate is not None else None
        self.crop = analysis.crop.as_tuple() if analysis is not None and analysis.crop is not None else None
        self.update()

    def photo_rect(self) -> QRectF:
        """Where the whole photo and its crop square are drawn: both fit, the photo's aspect kept."""
        width, height = self.image_size
        left, top, right, bottom = 0.0, 0.0, float(width), float(height)
        if self.crop is not None:
            left, top = min(left, self.crop[0]), min(top, self.crop[1])
            right, bottom = max(right, self.crop[2]), max(bottom, self.crop[3])
        scale = min((self.width() - 8) / max(right - left, 1.0), (self.height() - 8) / max(bottom - top, 1.0))
        origin_x = (self.width() - scale * (right - left)) / 2 - scale * left
        origin_y = (self.height() - scale * (bottom - top)) / 2 - scale * top
        return QRectF(origin_x, origin_y, scale * width, scale * height)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        self.bones_drawn = self.joints_drawn = 0
        if not self.image.isNull() and min(self.image_size) > 0:
            target = self.photo_rect()
            painter.drawImage(target, self.image, QRectF(self.image.rect()))
            width, height = self.image_size
            for rect, colour, style in (
                (self.box, BOX_COLOUR, Qt.PenStyle.DashLine),
                (self.crop, CROP_COLOUR, Qt.PenStyle.SolidLine),
            ):
                if rect is not None:
                    corners = image_to_rect(
                        np.array([rect[:2], rect[2:]], dtype=np.float64), width, height, target
                    )
                    painter.setPen(QPen(colour, 1.5, style))
                    painter.setBrush(Qt.BrushStyle.NoBrush)
                    painter.drawRect(QRectF(*corners[0], *(corners[1] - corners[0])))
            if self.joints is not None:
                points = image_to_rect(self.joints, width, height, target)
                self.bones_drawn = paint_skeleton(painter, points, width=2.0)
                self.joints_drawn = int(np.isfinite(points).all(axis=1).sum())
        painter.end()


def summary_text(analysis: PhotoAnalysis, usable: int, total: int) -> str:
    """What was found, in words: people, confidence, posebits that the pose query asks."""
    estimate = analysis.estimate
    if estimate is None:
        return f"{analysis.path.name}: no person found."
    people = (
        f"{estimate.people_found} people (the largest is used)" if estimate.several_people else "1 person"
    )
    quality = "low" if estimate.low_confidence else "good"
    crop = f"{analysis.crop.side}×{analysis.crop.side} px" if analysis.crop is not None else "none"
    return (
        f"<b>{analysis.path.name}</b><br>{people}; mean joint confidence {estimate.mean_confidence:.2f} "
        f"({quality})<br>{usable} of {total} posebits read confidently (the others: don't care)"
        f"<br>query image: the yellow square, {crop}"
    )


class PhotoPanel(QWidget):
    """The *Photo* dock; emits ``whole_photo_requested`` for a query with the uncropped photo."""

    whole_photo_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = PhotoView(self)
        self.crop_preview = QLabel(self)
        self.crop_preview.setFixedSize(CROP_PREVIEW, CROP_PREVIEW)
        self.crop_preview.setToolTip("The crop that is embedded for the “this image” query")
        self.summary = QLabel(EMPTY_TEXT, self)
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setStyleSheet(f"color: {MUTED_COLOUR.name()};")
        self.whole = QPushButton("Query the whole photo", self)
        self.whole.setToolTip("Query with the photo as it is, uncropped")
        self.whole.setEnabled(False)
        self.whole.clicked.connect(self.whole_photo_requested.emit)
        details = QVBoxLayout()
        details.addWidget(self.summary, 1)
        details.addWidget(self.whole)
        row = QHBoxLayout()
        row.addWidget(self.crop_preview)
        row.addLayout(details, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.view, 1)
        layout.addLayout(row)

    def show_analysis(self, analysis: PhotoAnalysis | None, usable: int = 0, total: int = 0) -> None:
        self.view.show_analysis(analysis)
        self.whole.setEnabled(analysis is not None)
        if analysis is None:
            self.summary.setText(EMPTY_TEXT)
            self.crop_preview.clear()
            return
        self.summary.setText(summary_text(analysis, usable, total))
        pixmap = QPixmap(str(analysis.crop_path)) if analysis.crop_path is not None else QPixmap()
        self.crop_preview.setPixmap(
            pixmap.scaled(
                CROP_PREVIEW,
                CROP_PREVIEW,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            if not pixmap.isNull()
            else QPixmap()
        )


class PhotoChoice(QWidget):
    """A row of the query bar, "Query the photo by:" and two chips, *this image* (the crop) or *this
    photo's pose* (the crop itself shows as the image term's chip)."""

    image_requested = Signal()
    pose_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image_button = QToolButton(self)
        self.image_button.setText("this image")
        self.image_button.setToolTip("Query with the photo cropped to the person, as the gallery frames it")
        self.pose_button = QToolButton(self)
        self.pose_button.setText("this photo's pose")
        self.group = QButtonGroup(self)
        for button in (self.image_button, self.pose_button):
            button.setCheckable(True)
            self.group.addButton(button)
        self.image_button.clicked.connect(self.image_requested.emit)
        self.pose_button.clicked.connect(self.pose_requested.emit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Query the photo by:", self))
        layout.addWidget(self.image_button)
        layout.addWidget(self.pose_button)
        layout.addStretch(1)
        self.hide()

    def show_photo(self, pose_tip: str, pose_enabled: bool) -> None:
        self.pose_button.setEnabled(pose_enabled)
        self.pose_button.setToolTip(pose_tip)
        self.show()

    def show_choice(self, choice: str) -> None:
        """Check "image", "pose", or neither ("") when the query is something else."""
        self.group.setExclusive(False)
        self.image_button.setChecked(choice == "image")
        self.pose_button.setChecked(choice == "pose")
        self.group.setExclusive(True)

    @property
    def choice(self) -> str:
        return "image" if self.image_button.isChecked() else "pose" if self.pose_button.isChecked() else ""
