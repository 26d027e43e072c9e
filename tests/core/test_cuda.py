"""CUDA: the device switch and embeddings on the GPU, checked against the CPU. Selected by ``-m cuda``;
skipped, with the reason, on a machine without a CUDA GPU (``make test`` lists the skips)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from core_fakes import make_gallery, posebit_world
from PIL import Image

from posebrowser.core.device import _cuda_unavailable_reason, resolve_device
from posebrowser.core.embedder import Embedder, PosebitEmbedder
from posebrowser.core.engine import RetrievalEngine
from posebrowser.core.query import ImageTerm
from posebrowser.nets.preprocessing import Preprocessing
from posebrowser.pose.posebits import get_vocabulary

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_IMAGE_NET = ROOT / "models" / "image_net"
GALLERY_IMAGES = ROOT / "resources" / "gallery" / "images"

NO_CUDA = _cuda_unavailable_reason()  # e.g. "no CUDA device found", "torch built without CUDA"
pytestmark = [pytest.mark.cuda, pytest.mark.skipif(NO_CUDA is not None, reason=f"needs CUDA: {NO_CUDA}")]


def test_auto_picks_the_gpu() -> None:
    choice = resolve_device("auto")
    assert choice.name == "cuda" and not choice.fell_back and choice.reason.startswith("CUDA: ")


def _engine(tmp_path: Path) -> RetrievalEngine:
    torch.manual_seed(0)
    names = get_vocabulary().names[:6]
    posebits, emb = posebit_world(200, bits=6, seed=4)
    gallery = make_gallery(tmp_path, 200, posebits, names)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, stride=2), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(), torch.nn.Linear(8, 128),
    )
    image = Embedder(net, Preprocessing(input_size=32), "cpu", precision="fp32")
    language = PosebitEmbedder(torch.nn.Linear(6, 128), "cpu", posebit_names=names)
    return RetrievalEngine.from_arrays(gallery, emb, image, language, vocabulary=get_vocabulary())


def test_device_switch_moves_the_nets_and_keeps_the_answers(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(1).integers(0, 256, (48, 40, 3), dtype=np.uint8)).save(photo)
    term = ImageTerm(path=str(photo))
    on_cpu = engine.term_vector(term)
    assert engine.set_device("cuda").name == "cuda" and engine.device.name == "cuda"
    assert engine.image_embedder is not None
    assert all(p.device.type == "cuda" for p in engine.image_embedder.module.parameters())
    on_gpu = engine.term_vector(term)
    assert float(on_cpu @ on_gpu) > 0.999  # TF32 convolutions differ from the CPU in the 4th digit
    assert engine.set_device("cpu").name == "cpu"
    np.testing.assert_allclose(engine.term_vector(term), on_cpu, atol=1e-5)


@pytest.mark.parametrize(("precision", "least_cosine"), [("fp32", 0.999), ("auto", 0.995)])
def test_shipped_net_embeds_gallery_files_on_cuda_as_on_cpu(precision: str, least_cosine: float) -> None:
    """The built-in gallery's JPEGs through the shipped net: GPU (fp32, or the fp16 autocast that "auto"
    picks on CUDA) against the CPU in fp32."""
    if not SHIPPED_IMAGE_NET.with_suffix(".safetensors").exists():
        pytest.skip("no shipped image net in models/")
    files = sorted(GALLERY_IMAGES.glob("*.jpg"))[:64]
    cpu = Embedder.from_checkpoint(SHIPPED_IMAGE_NET, "cpu", "fp32").embed_images(files, batch_size=32)
    gpu = Embedder.from_checkpoint(SHIPPED_IMAGE_NET, "cuda", precision).embed_images(files, batch_size=32)
    assert gpu.dtype == np.float32 and gpu.shape == cpu.shape == (len(files), 128)
    cosine = np.sum(cpu * gpu, axis=1)
    assert cosine.min() > least_cosine, f"worst cosine {cosine.min():.5f}"
    same_nearest = np.argsort(-(cpu @ cpu.T), axis=1)[:, 1] == np.argsort(-(gpu @ gpu.T), axis=1)[:, 1]
    assert same_nearest.mean() >= 0.9
