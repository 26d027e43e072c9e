"""The gallery grid lays out 100k items without calling Python per item (Qt asks the model for its row
count several times per item; answered in Python that froze the GUI thread for seconds at 100k)."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from fake_engine import write_thumbnails
from PySide6.QtCore import Qt

from posebrowser.gui.gallery_view import GalleryIndexRole, GalleryView
from posebrowser.gui.thumbnails import ThumbnailLoader

COUNT = 100_000


def test_laying_out_100k_items_calls_the_model_only_for_what_is_painted(tmp_path: Path, qtbot: Any) -> None:
    names = write_thumbnails(tmp_path)
    view = GalleryView(ThumbnailLoader())
    qtbot.addWidget(view)
    view.resize(360, 400)
    view.show()
    qtbot.waitExposed(view)
    calls: Counter[str] = Counter()

    def count_model_calls(frame: Any, event: str, _arg: Any) -> None:
        if event == "call" and frame.f_code.co_filename.endswith("gallery_view.py"):
            calls[frame.f_code.co_name] += 1

    indices = np.arange(COUNT, dtype=np.int64)[::-1].copy()
    sys.setprofile(count_model_calls)
    try:
        view.set_gallery(lambda i: str(tmp_path / names[i % len(names)]), indices, COUNT)
        view.list.doItemsLayout()
        view.list.viewport().repaint()
    finally:
        sys.setprofile(None)
    assert view.model.rowCount() == COUNT
    assert sum(calls.values()) < 2_000, calls  # a few per painted item, not several per gallery item
    last = view.model.index(COUNT - 1, 0)
    assert view.list.visualRect(last).bottom() > 100 * (COUNT // 4)  # every item has its place
    assert view.model.data(last, GalleryIndexRole) == 0
    assert view.model.data(view.model.index(0, 0), GalleryIndexRole) == COUNT - 1
    flags = view.model.flags(last)
    assert flags & Qt.ItemFlag.ItemIsSelectable and not flags & Qt.ItemFlag.ItemIsEditable


def test_a_new_set_of_rows_replaces_the_old_one(tmp_path: Path, qtbot: Any) -> None:
    names = write_thumbnails(tmp_path)
    view = GalleryView(ThumbnailLoader())
    qtbot.addWidget(view)
    path_for = lambda i: str(tmp_path / names[i % len(names)])  # noqa: E731
    view.set_gallery(path_for, np.arange(50, dtype=np.int64), 50)
    view.set_gallery(path_for, np.array([7, 3, 9], dtype=np.int64), 50)
    assert view.model.rowCount() == 3
    assert [view.model.data(view.model.index(r, 0), GalleryIndexRole) for r in range(3)] == [7, 3, 9]
    assert view.count_label.text() == "3 of 50 images"
