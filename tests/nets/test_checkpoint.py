"""Model files: round trip, tamper detection, architecture and vocabulary checks, thesis formats."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from posebrowser.errors import CheckpointError, UnsafeFileError, VocabularyMismatchError
from posebrowser.nets.checkpoint import ModelCard, load_model, read_card, save_model
from posebrowser.nets.registry import build_net
from posebrowser.nets.thesis_checkpoint import (
    IMAGE_KEYS,
    load_thesis_image_checkpoint,
    load_thesis_mask,
    load_thesis_posebit_checkpoint,
    load_thesis_state_dict,
)
from posebrowser.nets.thesis_vggs import ThesisImageNet


def _posebit_card(version: str = "v1") -> ModelCard:
    return ModelCard(
        net="posebit_mlp",
        config={"num_bits": 5, "hidden": 16, "hidden2": 8},
        kind="posebit",
        posebit_version=version,
        posebit_names=[f"bit{i}" for i in range(5)],
    )


def test_save_load_round_trip(tmp_path: Path) -> None:
    net = build_net("posebit_mlp", num_bits=5, hidden=16, hidden2=8)
    written = save_model(tmp_path / "models" / "posebit_net", net, _posebit_card())
    assert len(written.sha256) == 64 and written.created
    assert read_card(tmp_path / "models" / "posebit_net.json") == written
    loaded, card = load_model(
        tmp_path / "models" / "posebit_net.safetensors", expect_kind="posebit", expect_posebit_version="v1"
    )
    assert card == written and not loaded.training
    x = torch.rand(4, 5)
    net.eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), net(x))
    assert not list((tmp_path / "models").glob("*.tmp"))


def test_the_weights_file_is_a_function_of_the_weights_only(tmp_path: Path) -> None:
    """Saving the same weights again gives the same bytes and sha256 (the embedding caches and a resumed
    fine-tune's ``init_from`` are keyed by it). safetensors writes its header metadata from a Rust hash
    map whose order changes between maps, so more than one metadata key made the bytes vary."""
    net = build_net("posebit_mlp", num_bits=5, hidden=16, hidden2=8)
    digests = {save_model(tmp_path / f"net{i}", net, _posebit_card()).sha256 for i in range(8)}
    assert len(digests) == 1


def test_compact_round_trip_with_tuple_config(tmp_path: Path) -> None:
    config = {"width": 0.25, "blocks": (1, 1, 1, 1)}
    net = build_net("compact_resnet", **config)
    card = ModelCard(net="compact_resnet", config=config, kind="image", preprocessing={"input_size": 112})
    written = save_model(tmp_path / "image_net", net, card)
    assert written.config == {"width": 0.25, "blocks": [1, 1, 1, 1]}
    loaded, loaded_card = load_model(tmp_path / "image_net", expect_kind="image")
    assert loaded_card == written
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), net.eval()(x))


def test_tampered_weights_are_refused(tmp_path: Path) -> None:
    save_model(
        tmp_path / "m", build_net("embedding_mask", dim=8), ModelCard("embedding_mask", {"dim": 8}, "mask")
    )
    weights = tmp_path / "m.safetensors"
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="corrupt or was modified"):
        load_model(tmp_path / "m")


def test_other_architecture_is_refused_naming_expected_and_found(tmp_path: Path) -> None:
    save_model(
        tmp_path / "m", build_net("embedding_mask", dim=8), ModelCard("embedding_mask", {"dim": 8}, "mask")
    )
    card_path = tmp_path / "m.json"
    card = json.loads(card_path.read_text())
    card["config"] = {"dim": 16}
    card_path.write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match=r"mask expected \(16,\) found \(8,\)"):
        load_model(tmp_path / "m")
    card["net"], card["config"] = "posebit_mlp", {"num_bits": 3, "hidden": 4, "hidden2": 4}
    card_path.write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match=r"missing fc1\.bias"):
        load_model(tmp_path / "m")


def test_wrong_kind_and_posebit_version(tmp_path: Path) -> None:
    save_model(
        tmp_path / "p", build_net("posebit_mlp", num_bits=5, hidden=16, hidden2=8), _posebit_card("v1")
    )
    with pytest.raises(VocabularyMismatchError, match="'v1'"):
        load_model(tmp_path / "p", expect_posebit_version="v2")
    with pytest.raises(CheckpointError, match="image model is needed"):
        load_model(tmp_path / "p", expect_kind="image")


def test_bad_cards(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_model(tmp_path / "absent")
    (tmp_path / "a.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        read_card(tmp_path / "a")
    (tmp_path / "b.json").write_text(json.dumps({"net": "x", "config": {}, "kind": "sound"}))
    with pytest.raises(CheckpointError, match="'kind'"):
        read_card(tmp_path / "b")
    with pytest.raises(CheckpointError, match="Unknown network"):
        save_model(tmp_path / "c", build_net("embedding_mask"), ModelCard("nope", {}, "mask"))


def _random_thesis_state() -> dict[str, torch.Tensor]:
    reference = ThesisImageNet()
    return {key: torch.randn_like(value) * 0.05 for key, value in reference.state_dict().items()}


def test_thesis_image_checkpoint_loads_and_reproduces_outputs(tmp_path: Path) -> None:
    state = _random_thesis_state()
    assert tuple(state) == IMAGE_KEYS
    torch.save(state, tmp_path / "model_6.pth")
    torch.save(state, tmp_path / "legacy.pth", _use_new_zipfile_serialization=False)
    reference = ThesisImageNet(lrn="thesis")
    reference.load_state_dict(state)
    reference.eval()
    x = torch.randn(2, 3, 112, 112) * 60
    with torch.no_grad():
        expected = reference(x)
        for name in ("model_6.pth", "legacy.pth"):
            net = load_thesis_image_checkpoint(tmp_path / name)
            assert not net.training
            torch.testing.assert_close(net(x), expected, rtol=0, atol=0)


def test_vggs_sequential_keys_map_to_convs(tmp_path: Path) -> None:
    state = _random_thesis_state()
    numbering = {"conv1": "0", "conv2": "4", "conv3": "7", "conv4": "9", "conv5": "11"}
    vggs = {
        f"{numbering[k.split('.')[0]]}.{k.split('.')[1]}": v for k, v in state.items() if k.startswith("conv")
    }
    vggs["15.1.weight"] = torch.zeros(4, 2)
    vggs["21.1.bias"] = torch.zeros(3)
    torch.save(vggs, tmp_path / "vgg.pth")
    with pytest.raises(CheckpointError, match=r"missing fc6\.bias"):
        load_thesis_image_checkpoint(tmp_path / "vgg.pth")
    net = load_thesis_image_checkpoint(tmp_path / "vgg.pth", allow_conv_only=True)
    torch.testing.assert_close(net.conv4.weight, state["conv4.weight"])


def test_thesis_image_checkpoint_of_other_architecture_is_refused(tmp_path: Path) -> None:
    state = _random_thesis_state()
    state["fc7.weight"] = torch.zeros(64, 2048)
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(CheckpointError, match=r"fc7.weight expected \(128, 2048\) found \(64, 2048\)"):
        load_thesis_image_checkpoint(tmp_path / "bad.pth")


def test_thesis_language_and_mask_checkpoints(tmp_path: Path) -> None:
    bits = 7
    state = {
        "fc1.weight": torch.randn(4608, bits),
        "fc1.bias": torch.randn(4608),
        "fc2.weight": torch.randn(2048, 4608) * 0.01,
        "fc2.bias": torch.randn(2048),
        "fc3.weight": torch.randn(128, 2048) * 0.01,
        "fc3.bias": torch.randn(128),
    }
    torch.save(state, tmp_path / "model_20.pth")
    net, mask = load_thesis_posebit_checkpoint(tmp_path / "model_20.pth")
    assert net.num_bits == bits and mask is None
    state["masklayer.mask"] = torch.linspace(-1, 2, 128).reshape(1, 128)
    torch.save(state, tmp_path / "mask_model.pth")
    net, mask = load_thesis_posebit_checkpoint(tmp_path / "mask_model.pth")
    assert mask is not None
    torch.testing.assert_close(mask.mask.detach(), torch.linspace(-1, 2, 128))
    torch.testing.assert_close(
        load_thesis_mask(tmp_path / "mask_model.pth").mask.detach(), torch.linspace(-1, 2, 128)
    )


@pytest.mark.parametrize("shape", [(1, 128), (128,)])
def test_npy_masks(tmp_path: Path, shape: tuple[int, ...]) -> None:
    values = np.arange(128, dtype=np.float32).reshape(shape)
    np.save(tmp_path / "mask.npy", values)
    np.testing.assert_array_equal(
        load_thesis_mask(tmp_path / "mask.npy").mask.detach().numpy(), values.ravel()
    )


def test_object_npy_mask_is_refused(tmp_path: Path) -> None:
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(UnsafeFileError):
        load_thesis_mask(tmp_path / "obj.npy")


class _Malicious:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str, str]]:
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("container", ["raw_pickle", "torch_zip"])
def test_malicious_pickle_is_refused_without_running(tmp_path: Path, container: str) -> None:
    marker = tmp_path / "pwned"
    evil = {"conv1.weight": torch.zeros(1), "payload": _Malicious(marker)}
    path = tmp_path / "evil.pth"
    if container == "raw_pickle":
        path.write_bytes(pickle.dumps(evil, protocol=2))
    else:
        torch.save(evil, path)
    assert not marker.exists()
    with pytest.raises(UnsafeFileError, match="refused"):
        load_thesis_state_dict(path)
    with pytest.raises(UnsafeFileError):
        load_thesis_image_checkpoint(path)
    assert not marker.exists()


def test_garbage_checkpoint_is_a_checkpoint_error(tmp_path: Path) -> None:
    (tmp_path / "junk.pth").write_bytes(b"\x00\x01not a checkpoint at all")
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_thesis_state_dict(tmp_path / "junk.pth")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_thesis_state_dict(tmp_path / "missing.pth")


def test_malicious_payload_is_real_when_unpickled_unsafely(tmp_path: Path) -> None:
    """Control for the refusal test: plain pickle.loads of the same payload does create the file."""
    marker = tmp_path / "created"
    handle = pickle.loads(pickle.dumps({"payload": _Malicious(marker)}, protocol=2))["payload"]
    handle.close()
    assert marker.exists()
