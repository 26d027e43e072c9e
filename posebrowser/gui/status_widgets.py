"""Status-bar widgets: gallery / model / index labels, the device combo, and the job progress widget."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from posebrowser.gui.state import EngineInfo
from posebrowser.gui.theme import icon

DEVICE_CHOICES = (("auto", "Auto"), ("cuda", "CUDA"), ("cpu", "CPU"))


def available_devices() -> tuple[tuple[str, str], ...]:
    """The device choices this machine has: CUDA is offered only where torch sees a CUDA GPU."""
    import torch

    has_cuda = bool(torch.cuda.is_available())
    return tuple((value, label) for value, label in DEVICE_CHOICES if value != "cuda" or has_cuda)


class EngineStatus(QWidget):
    """ "gallery (N) · model · index" and a device combo that emits ``device_requested``."""

    device_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("Loading…", self)
        self.device = QComboBox(self)
        for value, label in available_devices():
            self.device.addItem(label, value)
        self.device.setToolTip("Compute device for embedding and search (Auto picks CUDA when available)")
        self.device.activated.connect(lambda _: self.device_requested.emit(str(self.device.currentData())))
        self.device_label = QLabel("", self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(QLabel("Device:", self))
        layout.addWidget(self.device)
        layout.addWidget(self.device_label)

    def show_annotation_source(self, estimated: bool) -> None:
        """Append "poses estimated" to the gallery line when joints and posebits come from the pose
        estimator rather than annotation files (call after :meth:`show_info`)."""
        if estimated:
            self.label.setText(self.label.text() + " · poses estimated")
        self.label.setToolTip(
            "Joints and posebits of this photo folder were estimated from the photos (BlazePose), not "
            "annotated: posebit counts, filters and green/red marks read the estimates."
            if estimated
            else ""
        )

    def show_info(self, info: EngineInfo) -> None:
        self.label.setText(
            f"{info.gallery_name} ({info.gallery_size:,} images) · model {info.model_name}"
            f" · index {info.index_kind}"
        )
        self.device_label.setText(info.device.upper())
        self.device_label.setToolTip(info.device_reason)


class JobProgress(QWidget):
    """A progress bar + cancel button, visible while long work runs."""

    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("", self)
        self.bar = QProgressBar(self)
        self.bar.setFixedWidth(160)
        self.bar.setRange(0, 0)
        self.cancel = QToolButton(self)
        self.cancel.setIcon(icon("cancel"))
        self.cancel.setText("Cancel")
        self.cancel.setToolTip("Cancel the running job (Esc)")
        self.cancel.clicked.connect(self.cancel_requested.emit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel)
        self._jobs: dict[str, str] = {}
        self.hide()

    def started(self, name: str, text: str) -> None:
        self._jobs[name] = text
        self.label.setText(text)
        self.bar.setRange(0, 0)
        self.show()

    def progressed(self, channel: str, done: int, total: int) -> None:
        if channel in self._jobs and total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(done)

    def finished(self, name: str) -> None:
        self._jobs.pop(name, None)
        if self._jobs:
            self.label.setText(next(iter(self._jobs.values())))
        else:
            self.hide()
