"""Where the shipped models and the embedding cache live by default (standard library only, so the app can
ask before torch and the engine are imported)."""

from __future__ import annotations

import os
from pathlib import Path


def default_models_dir() -> Path:
    """The repository's ``models/`` folder, next to the package."""
    import posebrowser

    return Path(posebrowser.__file__).resolve().parent.parent / "models"


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/posebrowser/embeddings`` (``~/.cache`` without XDG_CACHE_HOME)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "posebrowser" / "embeddings"
