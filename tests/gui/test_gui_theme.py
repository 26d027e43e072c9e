"""The dark theme: a disabled control must look disabled (its text dimmed), not like an enabled one."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox

from posebrowser.gui.theme import RESOURCES_DIR


def _stylesheet() -> str:
    qss = (RESOURCES_DIR / "style" / "dark.qss").read_text(encoding="utf-8")
    return qss.replace("@ICONS@", (RESOURCES_DIR / "icons").as_posix())


def test_a_disabled_checkbox_is_drawn_dimmed(qtbot: Any) -> None:
    boxes = []
    for enabled in (True, False):
        box = QCheckBox("Weight ticked bits")
        qtbot.addWidget(box)
        box.setStyleSheet(_stylesheet())
        box.setChecked(True)
        box.setEnabled(enabled)
        box.resize(180, 24)
        boxes.append(box.grab().toImage())
    assert boxes[0] != boxes[1]
