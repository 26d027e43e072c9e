"""User preferences as a versioned, Qt-free dataclass stored as JSON.

Window geometry and dock layout live in QSettings (GUI only); everything a command-line run could
also use (device, k, partial-query method, last gallery) lives here.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from posebrowser.fileio import atomic_write_bytes

SETTINGS_VERSION = 1
DEVICES = ("auto", "cuda", "cpu")
PARTIAL_METHODS = ("conditional", "mask")


@dataclass(frozen=True)
class Settings:
    version: int = SETTINGS_VERSION
    device: str = "auto"
    results_k: int = 50
    partial_method: str = "conditional"
    projection_method: str = "pca"
    thumbnail_size: int = 96
    last_gallery: str | None = None
    models_dir: str | None = None

    def validated(self) -> Settings:
        """A copy with out-of-range values replaced by defaults (a hand-edited file never breaks start-up)."""
        default = Settings()
        changes: dict[str, Any] = {}
        if self.device not in DEVICES:
            changes["device"] = default.device
        if self.partial_method not in PARTIAL_METHODS:
            changes["partial_method"] = default.partial_method
        if not (1 <= self.results_k <= 1000):
            changes["results_k"] = default.results_k
        if not (32 <= self.thumbnail_size <= 256):
            changes["thumbnail_size"] = default.thumbnail_size
        return replace(self, **changes)


def settings_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "posebrowser" / "settings.json"


def load_settings(path: Path | None = None) -> Settings:
    """Read settings; a missing, unreadable or foreign file gives the defaults (never raises)."""
    path = path or settings_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return Settings()
    if not isinstance(raw, dict) or raw.get("version") != SETTINGS_VERSION:
        return Settings()
    known = {f.name for f in fields(Settings)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            continue
        expected = type(getattr(Settings(), key))
        if value is None or isinstance(value, expected) or expected is type(None):
            values[key] = value
    try:
        return Settings(**values).validated()
    except TypeError:
        return Settings()


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write settings atomically (a kill mid-write leaves the previous file)."""
    path = path or settings_path()
    atomic_write_bytes(path, (json.dumps(asdict(settings), indent=2) + "\n").encode())
