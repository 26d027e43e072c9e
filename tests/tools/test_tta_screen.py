"""tools/tta_screen.py: the plain crop window is the product's own reading of an image, and a grown
window is a different view."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from PIL import Image
from script_loader import load_script

from posebrowser.core.embedder import Embedder
from posebrowser.nets.checkpoint import ModelCard, save_model
from posebrowser.nets.compact import CompactImageNet
from posebrowser.nets.preprocessing import lite_preprocessing


def test_the_plain_window_gives_the_embedder_s_rows_and_a_zoom_another_view(tmp_path, rng) -> None:
    tool = load_script("tools/tta_screen.py")
    card = ModelCard(net="compact_resnet", config={"width": 0.25, "blocks": [1, 1, 1, 1]}, kind="image",
                     preprocessing=lite_preprocessing(80).to_dict())
    save_model(tmp_path / "net", CompactImageNet(width=0.25, blocks=(1, 1, 1, 1)), card)
    embedder = Embedder.from_checkpoint(tmp_path / "net", "cpu")
    images = [Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)) for _ in range(5)]
    gallery = SimpleNamespace(load_image=lambda row: images[row])
    rows = np.arange(5)
    plain = tool.view_rows(embedder, gallery, rows, (0, 0, 0))
    np.testing.assert_allclose(plain, embedder.embed_images(images), atol=2e-3)
    zoomed = tool.view_rows(embedder, gallery, rows, (6, 0, 0))
    assert np.abs(zoomed - plain).max() > 1e-2
