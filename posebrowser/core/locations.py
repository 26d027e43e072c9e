"""Where the shipped models and the embedding cache live by default, and which image model a models folder
opens with (standard library only, so the app can ask before torch and the engine are imported)."""

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


CNN_IMAGE_MODEL = "image_net"  # the image CNN: the posebit net and the masks were trained in its space
FUSED_IMAGE_MODEL = "fused_net"  # the CNN blended with the pose estimator's reading, in the CNN's space
DEFAULT_IMAGE_MODEL = FUSED_IMAGE_MODEL  # falls back to the CNN in a models folder without it
JOINTS_MODEL = "joints_net"  # the pose estimator's joints, facing frame (the lean kept) → joints net
#: The fused model's estimator readers and their weights (chosen on the validation halves; a second,
#: torso-frame reader was screened and not taken: models/README.md).
DEFAULT_READERS: tuple[tuple[str, float], ...] = ((JOINTS_MODEL, 0.3),)


def resolve_image_model(models: Path, name: str) -> str:
    """``name``, or the CNN when ``name`` is the default fused model and the folder has none (a folder
    trained before the fusion, or a test's tiny models)."""
    if name == FUSED_IMAGE_MODEL and not (models / f"{FUSED_IMAGE_MODEL}.json").is_file():
        return CNN_IMAGE_MODEL
    return name
