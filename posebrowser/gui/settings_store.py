"""Remembered preferences and window layout (QSettings, INI format)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

#: Bump when the dock layout changes so an old saved state is not restored into a new layout.
LAYOUT_VERSION = 1


class SettingsStore:
    """Typed access to the few things posebrowser remembers between runs.

    ``path`` = an INI file (tests use a temporary one); None = the platform's user settings.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            self._settings = QSettings(
                QSettings.Format.IniFormat, QSettings.Scope.UserScope, "posebrowser", "posebrowser"
            )
        else:
            self._settings = QSettings(str(path), QSettings.Format.IniFormat)

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        """(geometry, dock state) saved by :meth:`save_window_state`, or Nones."""
        geometry = self._settings.value("window/geometry")
        state = self._settings.value("window/state")
        return (
            geometry if isinstance(geometry, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self._settings.setValue("window/geometry", geometry)
        self._settings.setValue("window/state", state)
        self._settings.setValue("window/layout_version", LAYOUT_VERSION)

    def value(self, key: str, default: str = "") -> str:
        value = self._settings.value(key, default)
        return str(value) if value is not None else default

    def set_value(self, key: str, value: str) -> None:
        self._settings.setValue(key, value)

    def sync(self) -> None:
        self._settings.sync()
