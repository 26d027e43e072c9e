"""Preprocessing: the thesis' pipeline by hand, compact pipeline, serialisation."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from posebrowser.errors import CheckpointError
from posebrowser.nets.preprocessing import (
    Preprocessing,
    compact_preprocessing,
    thesis_preprocessing,
)


def test_thesis_preprocessing_matches_hand_computation() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (144, 144, 3), dtype=np.uint8)
    image[20, 30] = (115, 108, 99)  # pad colour inside the crop
    out = thesis_preprocessing().to_array([image])
    assert out.shape == (1, 3, 112, 112) and out.dtype == np.float32
    crop = image[16:128, 16:128].astype(np.float64)
    crop[20 - 16, 30 - 16] = (123, 116, 103)
    mean = np.array([123.68, 116.779, 103.939])
    expected = (crop - mean)[..., ::-1].transpose(2, 0, 1)
    np.testing.assert_allclose(out[0], expected, atol=1e-4)
    assert out[0, 0, 4, 14] == pytest.approx(103 - 103.939, abs=1e-4)  # channel 0 is blue


def test_compact_preprocessing_resizes_and_normalises() -> None:
    image = Image.new("RGB", (200, 160), (255, 0, 128))
    tensor = compact_preprocessing().to_tensor([image, np.zeros((112, 112, 3), dtype=np.uint8)])
    assert tuple(tensor.shape) == (2, 3, 112, 112)
    expected = (np.array([255, 0, 128]) / 255 - np.array([0.485, 0.456, 0.406])) / np.array(
        [0.229, 0.224, 0.225]
    )
    np.testing.assert_allclose(tensor[0, :, 50, 50].numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(
        tensor[1, :, 0, 0].numpy(),
        -np.array([0.485, 0.456, 0.406]) / np.array([0.229, 0.224, 0.225]),
        rtol=1e-5,
    )


def test_grayscale_and_rgba_inputs_become_rgb() -> None:
    prep = compact_preprocessing(32)
    gray = np.full((40, 40), 7, dtype=np.uint8)
    rgba = Image.new("RGBA", (32, 32), (1, 2, 3, 255))
    batch = prep.prepare_batch([gray, rgba])
    assert batch.shape == (2, 32, 32, 3)
    assert (batch[0] == 7).all() and (batch[1] == (1, 2, 3)).all()


def test_bad_arrays_are_rejected() -> None:
    with pytest.raises(ValueError, match="uint8"):
        compact_preprocessing().prepare(np.zeros((4, 4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="RGB"):
        compact_preprocessing().prepare(np.zeros((4, 4, 4), dtype=np.uint8))


@pytest.mark.parametrize("prep", [thesis_preprocessing(), compact_preprocessing(96)])
def test_dict_round_trip(prep: Preprocessing) -> None:
    import json

    assert Preprocessing.from_dict(json.loads(json.dumps(prep.to_dict()))) == prep


def test_from_dict_rejects_unknown_and_invalid() -> None:
    with pytest.raises(CheckpointError, match="unknown"):
        Preprocessing.from_dict({"colour_space": "lab"})
    with pytest.raises(CheckpointError, match="invalid"):
        Preprocessing.from_dict({"channel_order": "GBR"})
