"""The posebit panel, generated from the vocabulary.

Bits are grouped by (body part, kind). Each bit is tri-state through two mutually exclusive check
columns — "is" and "is not"; neither ticked = don't care. Every toggle emits the full condition set at
once; the session debounces them into one search per burst.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from posebrowser.gui.state import PARTIAL_METHODS

NameRole = Qt.ItemDataRole.UserRole + 1
IS_COLUMN, NOT_COLUMN = 1, 2


class PosebitPanel(QWidget):
    """Tri-state posebit choice + partial method + live match count."""

    conditions_requested = Signal(object)
    partial_method_requested = Signal(str)
    weight_asked_bits_requested = Signal(bool)
    colour_by_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._updating = False
        self._estimated = False
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Filter posebits…  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        self.method = QComboBox(self)
        for value, label in PARTIAL_METHODS:
            self.method.addItem(label, value)
        self.method.setToolTip(
            "How a partial posebyte is searched: conditional completion of the "
            "don't-care bits (weighted towards the ticked bits), or ranking by "
            "distance to the origin after a mask"
        )
        self.method.currentIndexChanged.connect(self._method_changed)
        self.weight_asked = QCheckBox("Weight ticked bits", self)
        self.weight_asked.setChecked(True)
        self.weight_asked.setToolTip(
            "Conditional completion guesses every bit you did not tick, which drowns the ticked ones; "
            "this pushes the query away from the completions with a ticked bit flipped. "
            "Off: the thesis' plain completion."
        )
        self.weight_asked.toggled.connect(self.weight_asked_bits_requested.emit)
        self.count_label = QLabel("", self)
        self.count_label.setToolTip("Images of the split in view that satisfy every ticked posebit")
        self.ticked_only = QPushButton("Ticked only", self)
        self.ticked_only.setCheckable(True)
        self.ticked_only.setToolTip("Show only the posebits set to 'is' or 'not' (Ctrl+T)")
        self.ticked_only.setShortcut("Ctrl+T")
        self.ticked_only.toggled.connect(lambda _: self._filter(self.search.text()))
        clear = QPushButton("Clear", self)
        clear.setToolTip("Set every posebit to don't care")
        clear.clicked.connect(self.clear)
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Posebit", "is", "not"])
        self.tree.setToolTip(
            "Tick 'is' or 'not' for each posebit; neither means don't care.\n"
            "Right-click a posebit to colour the projection by it."
        )
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(IS_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(NOT_COLUMN, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        self.tree.setUniformRowHeights(True)
        self.tree.itemChanged.connect(self._item_changed)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        top = QHBoxLayout()
        top.addWidget(self.method, 1)
        top.addWidget(self.weight_asked)
        top.addWidget(self.ticked_only)
        top.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addLayout(top)
        layout.addWidget(self.count_label)
        layout.addWidget(self.tree, 1)

    def set_vocabulary(self, vocabulary: Any) -> None:
        """Rebuild the tree: one group per (body part, kind), one row per bit."""
        self._updating = True
        self.tree.clear()
        self._items.clear()
        groups = vocabulary.groups()
        for body_part, kind in sorted(groups):
            members = groups[(body_part, kind)]
            group = QTreeWidgetItem(self.tree, [f"{body_part.replace('_', ' ')} · {kind.replace('_', '-')}"])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            group.setFirstColumnSpanned(False)
            for bit_index in members:
                bit = vocabulary.bits[bit_index]
                item = QTreeWidgetItem(group, [bit.label, "", ""])
                item.setData(0, NameRole, bit.name)
                item.setToolTip(0, f"{bit.label}\n({bit.name})")
                item.setFlags(
                    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsSelectable
                )
                item.setCheckState(IS_COLUMN, Qt.CheckState.Unchecked)
                item.setCheckState(NOT_COLUMN, Qt.CheckState.Unchecked)
                item.setToolTip(IS_COLUMN, f"Ask for: {bit.label}")
                item.setToolTip(NOT_COLUMN, f"Ask for: not {bit.label}")
                self._items[bit.name] = item
        self.tree.expandAll()
        self._updating = False
        self._filter(self.search.text())

    def bit_names(self) -> tuple[str, ...]:
        """Names of the bits shown, in vocabulary order."""
        return tuple(self._items)

    def conditions(self) -> dict[str, int]:
        """{name: 1 (is) | 0 (is not)} for every bit not left at don't care."""
        chosen: dict[str, int] = {}
        for name, item in self._items.items():
            if item.checkState(IS_COLUMN) == Qt.CheckState.Checked:
                chosen[name] = 1
            elif item.checkState(NOT_COLUMN) == Qt.CheckState.Checked:
                chosen[name] = 0
        return chosen

    def set_bit(self, name: str, value: int | None) -> None:
        """Programmatic tri-state toggle (1 / 0 / None = don't care); emits like a click."""
        item = self._items[name]
        self._updating = True
        item.setCheckState(IS_COLUMN, Qt.CheckState.Checked if value == 1 else Qt.CheckState.Unchecked)
        item.setCheckState(NOT_COLUMN, Qt.CheckState.Checked if value == 0 else Qt.CheckState.Unchecked)
        self._updating = False
        self._mark_ticked()
        self.conditions_requested.emit(self.conditions())

    def show_conditions(self, conditions: dict[str, int]) -> None:
        """Reflect the session's conditions without emitting."""
        if conditions == self.conditions():
            return
        self._updating = True
        for name, item in self._items.items():
            value = conditions.get(name)
            item.setCheckState(IS_COLUMN, Qt.CheckState.Checked if value == 1 else Qt.CheckState.Unchecked)
            item.setCheckState(NOT_COLUMN, Qt.CheckState.Checked if value == 0 else Qt.CheckState.Unchecked)
        self._updating = False
        self._mark_ticked()

    def show_partial_method(self, method: str) -> None:
        position = self.method.findData(method)
        if position >= 0 and position != self.method.currentIndex():
            self.method.blockSignals(True)
            self.method.setCurrentIndex(position)
            self.method.blockSignals(False)
        self._enable_weight_box()

    def show_weight_asked_bits(self, enabled: bool) -> None:
        if self.weight_asked.isChecked() != bool(enabled):
            self.weight_asked.blockSignals(True)
            self.weight_asked.setChecked(bool(enabled))
            self.weight_asked.blockSignals(False)

    def _method_changed(self, _: int) -> None:
        self._enable_weight_box()
        self.partial_method_requested.emit(str(self.method.currentData()))

    def _enable_weight_box(self) -> None:
        """Only a conditional completion has guessed bits to weight the ticked ones against."""
        self.weight_asked.setEnabled(self.method.currentData() == "conditional")

    def show_count(self, count: int) -> None:
        estimated = " (estimated posebits)" if self._estimated else ""
        self.count_label.setText(f"{count:,} matching images{estimated}")

    def set_estimated(self, estimated: bool) -> None:
        """Say whether the counted annotations were estimated from the photos by the pose estimator."""
        self._estimated = bool(estimated)
        source = "estimated poses" if estimated else "annotations"
        self.count_label.setToolTip(f"Images of the split in view whose {source} satisfy every ticked bit")

    def clear(self) -> None:
        self.show_conditions({})
        self.conditions_requested.emit({})

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._updating or column not in (IS_COLUMN, NOT_COLUMN):
            return
        other = NOT_COLUMN if column == IS_COLUMN else IS_COLUMN
        if (
            item.checkState(column) == Qt.CheckState.Checked
            and item.checkState(other) == Qt.CheckState.Checked
        ):
            self._updating = True
            item.setCheckState(other, Qt.CheckState.Unchecked)
            self._updating = False
        self._mark_ticked()
        self.conditions_requested.emit(self.conditions())

    def _mark_ticked(self) -> None:
        """Ticked rows in bold; with "Ticked only" the filter follows the ticks."""
        chosen = self.conditions()
        for name, item in self._items.items():
            font = item.font(0)
            if font.bold() != (name in chosen):
                font.setBold(name in chosen)
                item.setFont(0, font)
        if self.ticked_only.isChecked():
            self._filter(self.search.text())

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        chosen = self.conditions() if self.ticked_only.isChecked() else None
        for group_row in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(group_row)
            if group is None:
                continue
            visible = 0
            for child_row in range(group.childCount()):
                child = group.child(child_row)
                if child is None:
                    continue
                name = str(child.data(0, NameRole))
                hidden = bool(needle) and needle not in child.text(0).lower() and needle not in name
                hidden = hidden or (chosen is not None and name not in chosen)
                child.setHidden(hidden)
                visible += not hidden
            group.setHidden(visible == 0)

    def _context_menu(self, position: Any) -> None:
        from PySide6.QtWidgets import QMenu

        item = self.tree.itemAt(position)
        name = item.data(0, NameRole) if item is not None else None
        if not name:
            return
        menu = QMenu(self)
        menu.addAction(
            "Colour projection by this posebit", lambda: self.colour_by_requested.emit(f"posebit:{name}")
        )
        menu.exec(self.tree.viewport().mapToGlobal(position))
