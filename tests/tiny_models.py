"""Tiny saved models for tests that need a models folder (no training)."""

from __future__ import annotations

from pathlib import Path

from posebrowser.nets.checkpoint import ModelCard, save_model
from posebrowser.nets.compact import CompactImageNet
from posebrowser.nets.preprocessing import compact_preprocessing


def save_tiny_cnn(stem: Path) -> ModelCard:
    """A narrow one-block-per-stage compact image net saved at ``stem`` (random weights)."""
    card = ModelCard(
        net="compact_resnet",
        config={"width": 0.25, "blocks": [1, 1, 1, 1]},
        kind="image",
        preprocessing=compact_preprocessing().to_dict(),
    )
    return save_model(stem, CompactImageNet(width=0.25, blocks=(1, 1, 1, 1)), card)
