"""Files posebrowser writes atomically (temp file + rename) get the usual permissions (0666 & ~umask),
not mkstemp's 0600: galleries, models and caches are shared between users and bundled into packages."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest


def written_files(folder: Path) -> dict[str, Callable[[], Path]]:
    def gallery_bytes() -> Path:
        from posebrowser.fileio import atomic_write_bytes

        atomic_write_bytes(folder / "manifest.json", b"{}")
        return folder / "manifest.json"

    def model_weights() -> Path:
        from posebrowser.nets.checkpoint import ModelCard, save_model
        from posebrowser.nets.registry import build_net

        save_model(folder / "mask", build_net("embedding_mask", dim=8),
                   ModelCard(net="embedding_mask", config={"dim": 8}, kind="mask"))
        return folder / "mask.safetensors"

    def model_card() -> Path:
        model_weights()
        return folder / "mask.json"

    def training_checkpoint() -> Path:
        import torch

        from posebrowser.training.loop import LossHistory, save_training_state

        model = torch.nn.Linear(2, 2)
        save_training_state(folder / "train.pt", epoch=0, model=model,
                            optimizer=torch.optim.SGD(model.parameters(), lr=0.1), scheduler=None,
                            history=LossHistory(), numpy_rng=np.random.default_rng(0), config={})
        return folder / "train.pt"

    return {"gallery file": gallery_bytes, "model weights": model_weights, "model card": model_card,
            "training checkpoint": training_checkpoint}


@pytest.mark.parametrize("kind", ["gallery file", "model weights", "model card", "training checkpoint"])
def test_written_files_follow_the_umask(kind: str, tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        path = written_files(tmp_path)[kind]()
    finally:
        os.umask(previous)
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o644, f"{kind} {path.name} was written with mode {oct(mode)}, expected 0o644"
