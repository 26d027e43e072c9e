"""The *Image model* menu: which image model embeds the gallery and the queries — the image CNN blended
with the pose estimator's reading (the fused model, the default), the image CNN alone, the pose
estimator followed by the joints net, or the keypoint reader alone (its own keypoint net + lifter) —
among those present in the models folder. Choosing one reopens the gallery with it."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu


def build_image_model_menu(parent_menu: QMenu, session: Any) -> QMenu:
    """Add the submenu to ``parent_menu``; disabled (with the reason) when fewer than two models exist."""
    menu = parent_menu.addMenu("Image model")
    group = QActionGroup(menu)
    group.setExclusive(True)
    models = session.image_models()
    current = session.galleries.image_model
    for name, label in models:
        action = QAction(label, menu, checkable=True)
        action.setData(name)
        action.setChecked(name == current)
        action.triggered.connect(lambda _checked=False, chosen=name: session.set_image_model(chosen))
        group.addAction(action)
        menu.addAction(action)
    if len(models) < 2:
        menu.setEnabled(False)
        menu.setToolTip("Only one image model is in the models folder.")
    return menu
