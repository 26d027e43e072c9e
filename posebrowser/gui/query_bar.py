"""The query bar: the current query as weighted terms (image thumbnails, posebit chips), a typed
expression field, and history back/forward. Emits intents only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from posebrowser.core.query import SelectionTerm
from posebrowser.gui.theme import icon
from posebrowser.gui.thumbnails import PathForIndex, ThumbnailLoader

#: Terms shown as chips; a longer query (e.g. a lasso selection) shows "+N more".
MAX_CHIPS = 12
CHIP_THUMB = 40
#: Posebit chips are elided to this width (the full text is the tooltip), so a chip never fills the bar.
CHIP_TEXT_PX = 220


class TermChip(QFrame):
    """One term: thumbnail or posebit text, an editable weight and a remove button."""

    weight_edited = Signal(int, float)
    remove_clicked = Signal(int)
    name_edited = Signal(int, str)

    def __init__(self, position: int, weight: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("termChip")
        self.setProperty("sign", "negative" if weight < 0 else "positive")
        self.position = position
        self.content = QLabel(self)
        self.weight = QDoubleSpinBox(self)
        self.weight.setRange(-10.0, 10.0)
        self.weight.setSingleStep(0.25)
        self.weight.setDecimals(2)
        self.weight.setValue(weight)
        self.weight.setToolTip("Weight of this term (negative = move away from it)")
        self.weight.editingFinished.connect(self._weight_done)
        remove = QToolButton(self)
        remove.setText("✕")
        remove.setToolTip("Remove this term")
        remove.clicked.connect(lambda: self.remove_clicked.emit(self.position))
        self.name: QLineEdit | None = None  # a selection's editable name
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 2, 2)
        layout.addWidget(self.content)
        layout.addWidget(self.weight)
        layout.addWidget(remove)
        self._initial = weight

    def add_name(self, name: str) -> None:
        """An editable name in front of the content (selection terms)."""
        self.name = QLineEdit(name, self)
        self.name.setToolTip("Name of this selection (Enter to rename)")
        self.name.setMaximumWidth(140)
        self.name.editingFinished.connect(lambda: self.name_edited.emit(self.position, self.name.text()))
        layout = self.layout()
        if isinstance(layout, QHBoxLayout):
            layout.insertWidget(0, self.name)

    def _weight_done(self) -> None:
        value = float(self.weight.value())
        if abs(value - self._initial) > 1e-9:
            self._initial = value
            self.weight_edited.emit(self.position, value)


class QueryBar(QWidget):
    """Shows the session's query; emits ``*_requested`` intents."""

    weight_requested = Signal(int, float)
    remove_requested = Signal(int)
    name_requested = Signal(int, str)
    expression_requested = Signal(str)
    back_requested = Signal()
    forward_requested = Signal()
    clear_requested = Signal()

    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader = loader
        self.path_for: PathForIndex | None = None
        self.labels: dict[str, str] = {}
        self.chips: list[TermChip] = []
        self._query: Any = None
        self._waiting: set[str] = set()
        self.back_button = QToolButton(self)
        self.back_button.setIcon(icon("back"))
        self.back_button.setToolTip("Previous query (Alt+Left)")
        self.back_button.clicked.connect(self.back_requested.emit)
        self.forward_button = QToolButton(self)
        self.forward_button.setIcon(icon("forward"))
        self.forward_button.setToolTip("Next query (Alt+Right)")
        self.forward_button.clicked.connect(self.forward_requested.emit)
        self.expression = QLineEdit(self)
        self.expression.setPlaceholderText(
            "Type a query, e.g.  2*[img 17] + [right wrist above head] - 0.5*[img 3]"
            "   (Ctrl+L, Enter to search)"
        )
        self.expression.returnPressed.connect(lambda: self.expression_requested.emit(self.expression.text()))
        clear = QToolButton(self)
        clear.setText("Clear")
        clear.setToolTip("Clear the query")
        clear.clicked.connect(self.clear_requested.emit)
        self._chip_row = QHBoxLayout()
        self._chip_row.setContentsMargins(0, 0, 0, 0)
        self._chip_row.addStretch(1)
        holder = QWidget(self)
        holder.setLayout(self._chip_row)
        scroll = QScrollArea(self)
        scroll.setWidget(holder)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        bar_height = scroll.horizontalScrollBar().sizeHint().height()
        scroll.setFixedHeight(CHIP_THUMB + 22 + bar_height)  # chips keep their height above the scroll bar
        self.chip_scroll = scroll
        scroll.viewport().installEventFilter(self)  # the mouse wheel scrolls the chips sideways
        self._follow_newest = True
        scroll.horizontalScrollBar().rangeChanged.connect(self._scroll_to_newest)
        scroll.horizontalScrollBar().actionTriggered.connect(self._user_scrolled)
        self.term_count = QLabel("", self)
        self.term_count.setToolTip("Terms in the query (scroll the row or use the wheel to see them all)")
        chips = QHBoxLayout()
        chips.addWidget(scroll, 1)
        chips.addWidget(self.term_count)
        top = QHBoxLayout()
        top.addWidget(self.back_button)
        top.addWidget(self.forward_button)
        top.addWidget(self.expression, 1)
        top.addWidget(clear)
        layout = QVBoxLayout(self)
        self._column = layout
        layout.setContentsMargins(4, 4, 4, 2)
        layout.addLayout(top)
        layout.addLayout(chips)
        self.set_history(False, False)
        loader.thumbnail_ready.connect(self._thumbnail_ready)

    def add_row_above_chips(self, widget: QWidget) -> None:
        """Put ``widget`` on a row of its own between the expression and the term chips (the photo's query
        choice): the chips keep the bar's whole width, and a hidden row takes no space."""
        self._column.insertWidget(1, widget)

    def set_labels(self, labels: dict[str, str]) -> None:
        """Posebit name → readable label, for the chips."""
        self.labels = dict(labels)

    def set_history(self, can_back: bool, can_forward: bool) -> None:
        self.back_button.setEnabled(can_back)
        self.forward_button.setEnabled(can_forward)

    def show_query(self, query: Any) -> None:
        self._query = query
        for chip in self.chips:
            chip.setParent(None)
            chip.deleteLater()
        self.chips = []
        while self._chip_row.count() > 1:
            item = self._chip_row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        terms = list(getattr(query, "terms", ()))
        for position, term in enumerate(terms[:MAX_CHIPS]):
            chip = TermChip(position, float(term.weight), self)
            self._fill(chip, term)
            chip.weight_edited.connect(self.weight_requested.emit)
            chip.remove_clicked.connect(self.remove_requested.emit)
            chip.name_edited.connect(self.name_requested.emit)
            self._chip_row.insertWidget(self._chip_row.count() - 1, chip)
            self.chips.append(chip)
        if len(terms) > MAX_CHIPS:
            self._chip_row.insertWidget(
                self._chip_row.count() - 1, QLabel(f"+{len(terms) - MAX_CHIPS} more terms", self)
            )
        self.term_count.setText(f"{len(terms)} terms" if len(terms) > 1 else "")
        self.expression.setText(_expression(query, self.labels))
        self._follow_newest = True  # the newest term is the one just added: keep the row's end in view
        self._scroll_to_newest()

    def _scroll_to_newest(self, *_range: int) -> None:
        """Until the user scrolls the row, every re-layout keeps its right end (the newest term) shown."""
        if self._follow_newest:
            bar = self.chip_scroll.horizontalScrollBar()
            bar.setValue(bar.maximum())

    def _user_scrolled(self, *_: int) -> None:
        self._follow_newest = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Vertical wheel turns over the chip row scroll it sideways."""
        if event.type() == QEvent.Type.Wheel and isinstance(event, QWheelEvent):
            bar = self.chip_scroll.horizontalScrollBar()
            delta = event.angleDelta().y() or event.angleDelta().x()
            self._follow_newest = False
            bar.setValue(bar.value() - delta)
            return True
        return super().eventFilter(watched, event)

    def _fill(self, chip: TermChip, term: Any) -> None:
        if isinstance(term, SelectionTerm):
            chip.add_name(term.name)
            chip.content.setText(f"centroid of {len(term.indices):,} images")
            chip.content.setToolTip("The mean embedding of the lassoed images, as one term")
            return
        conditions = getattr(term, "conditions", None)
        if conditions is not None:
            parts = [("" if value else "not ") + self.labels.get(name, name) for name, value in conditions]
            # a long term says how many bits first, so the eliding never hides it
            shown = "; ".join(parts) if len(parts) <= 3 else f"{len(parts)} posebits: " + "; ".join(parts[:2])
            text = f"[{term.mode}] {shown}"
            metrics = chip.content.fontMetrics()
            chip.content.setText(metrics.elidedText(text, Qt.TextElideMode.ElideRight, CHIP_TEXT_PX))
            chip.content.setToolTip("\n".join(parts))
            return
        path = (
            term.path
            if term.path is not None
            else (self.path_for(int(term.gallery_index)) if self.path_for is not None else None)
        )
        if path is None:
            chip.content.setText(f"img {term.gallery_index}")
            return
        pixmap = self.loader.pixmap(str(path), CHIP_THUMB)
        if pixmap is None:
            self._waiting.add(self.loader.key_for(str(path), CHIP_THUMB))
            pixmap = self.loader.placeholder(CHIP_THUMB)
        chip.content.setPixmap(pixmap)
        chip.content.setToolTip(
            f"{'gallery #' + str(term.gallery_index) if term.gallery_index is not None else ''}"
            f"  {Path(str(path)).name}"
        )

    def _thumbnail_ready(self, key: str) -> None:
        if key in self._waiting:
            self._waiting.discard(key)
            if not self._waiting:
                self.show_query(self._query)


def _expression(query: Any, labels: dict[str, str]) -> str:
    """The expression with the panel's readable labels (it parses back to the same query)."""
    return "" if query is None else str(query.to_expr(labels or None))
