"""Device choice, thread configuration and the image / posebit embedders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from posebrowser.core import device as device_module
from posebrowser.core.device import configure_threads, resolve_device
from posebrowser.core.embedder import Embedder, PosebitEmbedder
from posebrowser.errors import CorruptFileError, DeviceError, JobCancelledError
from posebrowser.nets.preprocessing import Preprocessing


def test_resolve_device_falls_back_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_device("cpu").name == "cpu"
    monkeypatch.setattr(device_module, "_cuda_unavailable_reason", lambda: "torch built without CUDA")
    choice = resolve_device("cuda")
    assert choice.name == "cpu" and choice.fell_back
    assert choice.reason == "CUDA requested but not available (torch built without CUDA); using CPU"
    assert not resolve_device("auto").fell_back
    with pytest.raises(DeviceError):
        resolve_device("tpu")


def test_configure_threads_is_idempotent() -> None:
    first = configure_threads()
    assert first["faiss"] == 1
    assert configure_threads(torch_threads=99) == first


def tiny_net() -> torch.nn.Module:
    torch.manual_seed(1)
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, stride=2),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(4, 16),
    )


def test_embed_images_matches_bare_forward_and_reports(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (40, 30, 3), dtype=np.uint8) for _ in range(37)]
    prep = Preprocessing(input_size=24)
    embedder = Embedder(tiny_net(), prep, "cpu", precision="fp32", decode_workers=2)
    seen: list[tuple[int, int]] = []
    out = embedder.embed_images(images, batch_size=8, progress=lambda d, t: seen.append((d, t)))
    with torch.inference_mode():
        bare = torch.nn.functional.normalize(embedder.module(prep.to_tensor(images)), dim=1).numpy()
    np.testing.assert_allclose(out, bare, atol=1e-5)
    assert seen[-1] == (37, 37) and len(seen) == 5
    with pytest.raises(JobCancelledError):
        embedder.embed_images(images, batch_size=8, cancel=lambda: True)
    bf16 = Embedder(tiny_net(), prep, "cpu", precision="bf16").embed_images(images[:4])
    assert np.all(np.sum(bf16 * out[:4], axis=1) > 0.98)


def test_mirrored_view_is_the_bare_forward_of_the_mirrored_prepared_images() -> None:
    rng = np.random.default_rng(4)
    images = [rng.integers(0, 256, (40, 30, 3), dtype=np.uint8) for _ in range(11)]
    prep = Preprocessing(input_size=24)
    embedder = Embedder(tiny_net(), prep, "cpu", precision="fp32", decode_workers=2)
    mirrored = embedder.embed_images(images, batch_size=4, mirror=True)
    flipped_inputs = prep.to_tensor(images).flip(3)  # NCHW: mirror the width axis after preparation
    with torch.inference_mode():
        bare = torch.nn.functional.normalize(embedder.module(flipped_inputs), dim=1).numpy()
    np.testing.assert_allclose(mirrored, bare, atol=1e-5)
    assert not np.allclose(mirrored, embedder.embed_images(images, batch_size=4), atol=1e-3)


def test_bad_files_are_nan_rows_or_raise_when_strict(tmp_path: Path) -> None:
    good = tmp_path / "good.png"
    Image.fromarray(np.full((30, 30, 3), 200, np.uint8)).save(good)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 truncated")
    embedder = Embedder(tiny_net(), Preprocessing(input_size=24), "cpu")
    out = embedder.embed_images([good, bad, str(good)])
    assert np.isnan(out[1]).all() and np.allclose(np.linalg.norm(out[[0, 2]], axis=1), 1, atol=1e-5)
    assert [row for row, _ in embedder.failures] == [1] and "bad.jpg" in embedder.failures[0][1]
    with pytest.raises(CorruptFileError):
        embedder.embed_images([bad], strict=True)


def test_posebit_embedder_unit_rows() -> None:
    embedder = PosebitEmbedder(torch.nn.Linear(5, 16), "cpu")
    out = embedder.embed(np.array([[1, 0, -1, 1, 0], [0, 0, 0, 0, 1]], np.int8))
    assert out.shape == (2, 16) and out.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
