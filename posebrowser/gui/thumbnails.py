"""Thumbnails decoded at display size off the GUI thread, shared by every view.

Only thumbnails that a view paints are requested; each is decoded by a QThreadPool task with
``QImageReader.setScaledSize`` (the JPEG decoder then skips most of the work) and cached as a QPixmap
in ``QPixmapCache`` (limit raised so a screenful of large thumbnails fits). Views repaint when
:attr:`ThumbnailLoader.thumbnail_ready` fires for a key they show.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter, QPixmap, QPixmapCache

#: QPixmapCache limit in KiB: ~2000 thumbnails of 128 px at 4 bytes per pixel.
PIXMAP_CACHE_KIB = 128 * 1024


class _Relay(QObject):
    decoded = Signal(str, QImage)


class _DecodeTask(QRunnable):
    def __init__(self, key: str, path: str, size: int, relay: _Relay) -> None:
        super().__init__()
        self.key, self.path, self.size, self.relay = key, path, size, relay

    def run(self) -> None:
        reader = QImageReader(self.path)
        reader.setAutoTransform(True)
        original = reader.size()
        if original.isValid() and original.width() > 0 and original.height() > 0:
            reader.setScaledSize(
                original.scaled(QSize(self.size, self.size), Qt.AspectRatioMode.KeepAspectRatio)
            )
        image = reader.read()
        self.relay.decoded.emit(self.key, image)


class ThumbnailLoader(QObject):
    """Asynchronous, cached thumbnails keyed by (path, size)."""

    thumbnail_ready = Signal(str)

    def __init__(self, parent: QObject | None = None, threads: int = 2) -> None:
        super().__init__(parent)
        QPixmapCache.setCacheLimit(max(QPixmapCache.cacheLimit(), PIXMAP_CACHE_KIB))
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(threads)
        self._relay = _Relay()
        self._relay.decoded.connect(self._store)
        self._pending: set[str] = set()
        self._failed: set[str] = set()
        self._placeholders: dict[tuple[int, bool], QPixmap] = {}
        self.decoded_count = 0

    @staticmethod
    def key_for(path: str, size: int) -> str:
        return f"{size}|{path}"

    def pixmap(self, path: str, size: int) -> QPixmap | None:
        """The cached thumbnail, or None after queueing its decode (the view repaints when ready)."""
        key = self.key_for(path, size)
        found = QPixmap()
        if QPixmapCache.find(key, found) and not found.isNull():
            return found
        if key in self._failed:
            return self.placeholder(size, broken=True)
        if key not in self._pending:
            self._pending.add(key)
            self._pool.start(_DecodeTask(key, path, size, self._relay))
        return None

    def placeholder(self, size: int, broken: bool = False) -> QPixmap:
        """A neutral square (or a crossed one for an unreadable image)."""
        cached = self._placeholders.get((size, broken))
        if cached is None:
            cached = QPixmap(size, size)
            cached.fill(QColor("#2a2f37"))
            if broken:
                painter = QPainter(cached)
                painter.setPen(QColor("#e0605e"))
                painter.drawLine(4, 4, size - 4, size - 4)
                painter.drawLine(size - 4, 4, 4, size - 4)
                painter.end()
            self._placeholders[(size, broken)] = cached
        return cached

    def wait_idle(self, msecs: int = 5000) -> bool:
        """Block until queued decodes finished (tests and benchmarks)."""
        return bool(self._pool.waitForDone(msecs))

    def clear_pending(self) -> None:
        self._pool.clear()
        self._pending.clear()

    @Slot(str, QImage)
    def _store(self, key: str, image: QImage) -> None:
        self._pending.discard(key)
        if image.isNull():
            self._failed.add(key)
        else:
            QPixmapCache.insert(key, QPixmap.fromImage(image))
            self.decoded_count += 1
        self.thumbnail_ready.emit(key)


PathForIndex = Callable[[int], str]
