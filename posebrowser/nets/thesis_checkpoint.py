"""Load the thesis' PyTorch 0.4 checkpoints (``model_6.pth``, ``model_20.pth``, masks) safely.

Only ``torch.load(..., weights_only=True)`` is used: a pickle that would run code is refused with
:class:`UnsafeFileError`. The key maps below rename the thesis' state_dict keys to posebrowser's modules.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from posebrowser.errors import CheckpointError, UnsafeFileError
from posebrowser.fileio import load_npy_checked
from posebrowser.nets.checkpoint import check_state_dict_matches

if TYPE_CHECKING:
    import torch

    from posebrowser.nets.mask import EmbeddingMask
    from posebrowser.nets.posebit_net import PosebitNet
    from posebrowser.nets.thesis_vggs import LrnVariant, ThesisImageNet

IMAGE_KEYS = tuple(
    f"{layer}.{p}"
    for layer in ("conv1", "conv2", "conv3", "conv4", "conv5", "fc6", "fc7")
    for p in ("weight", "bias")
)
LANGUAGE_KEYS = tuple(f"{layer}.{p}" for layer in ("fc1", "fc2", "fc3") for p in ("weight", "bias"))
MASK_KEY = "masklayer.mask"
VGGS_CONV_MAP = {"0": "conv1", "4": "conv2", "7": "conv3", "9": "conv4", "11": "conv5"}
VGGS_DROPPED_PREFIXES = ("15.1.", "18.1.", "21.1.")


def load_thesis_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a thesis ``.pth`` state_dict with ``weights_only=True`` → {name: CPU tensor}.

    Raises :class:`UnsafeFileError` if the pickle references anything but tensors and containers,
    :class:`CheckpointError` if the file is missing, unreadable or not a flat tensor dict.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError("The checkpoint file does not exist.", path=path)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if "global" in str(error).lower():  # the safe unpickler met a class/function reference
            raise UnsafeFileError(
                "The checkpoint contains code that would run when loaded; it was refused.", path=path
            ) from error
        raise CheckpointError(f"The checkpoint cannot be read ({_first_line(error)}).", path=path) from error
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as error:
        raise CheckpointError(f"The checkpoint cannot be read ({_first_line(error)}).", path=path) from error
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise CheckpointError("The checkpoint is not a state_dict of named tensors.", path=path)
    return {key.removeprefix("module."): value for key, value in state.items()}


def thesis_image_state_dict(
    state: dict[str, torch.Tensor], *, path: str | Path | None = None
) -> dict[str, torch.Tensor]:
    """Normalise an image-net or VGG-S Sequential state_dict to ThesisImageNet key names.

    VGG-S numbering maps ``0/4/7/9/11 → conv1..conv5``; its fc layers (``15.1``, ``18.1``, ``21.1``) are
    dropped because they do not fit fc6/fc7 (the result then has only the 10 conv keys).
    """
    if any(key.split(".")[0] in VGGS_CONV_MAP for key in state):
        converted: dict[str, torch.Tensor] = {}
        for key, value in state.items():
            if key.startswith(VGGS_DROPPED_PREFIXES):
                continue
            index, _, param = key.partition(".")
            if index not in VGGS_CONV_MAP:
                raise CheckpointError(f"Unexpected key {key!r} in a VGG-S checkpoint.", path=path)
            converted[f"{VGGS_CONV_MAP[index]}.{param}"] = value
        return converted
    return dict(state)


def load_thesis_image_checkpoint(
    path: str | Path, *, lrn: LrnVariant = "thesis", allow_conv_only: bool = False
) -> ThesisImageNet:
    """Thesis image net ``model_*.pth`` (14 keys) → :class:`ThesisImageNet` in eval mode.

    ``lrn="thesis"`` reproduces the released embeddings. A VGG-S Sequential checkpoint gives only the
    conv weights; it is accepted (fc6/fc7 left freshly initialised) only with ``allow_conv_only=True``.
    """
    from posebrowser.nets.thesis_vggs import ThesisImageNet

    state = thesis_image_state_dict(load_thesis_state_dict(path), path=path)
    net = ThesisImageNet(lrn=lrn)
    if allow_conv_only and set(state) == set(IMAGE_KEYS[:10]):
        full = dict(net.state_dict())
        full.update(state)
        state = full
    check_state_dict_matches(net, state, path=path)
    net.load_state_dict(state, strict=True)
    return net.eval()


def load_thesis_posebit_checkpoint(path: str | Path) -> tuple[PosebitNet, EmbeddingMask | None]:
    """Thesis language (``fc1..fc3``) or mask (+ ``masklayer.mask``) checkpoint → (net, mask or None).

    The number of bits is read from ``fc1.weight`` (4608, B); both modules are in eval mode.
    """
    from posebrowser.nets.mask import EmbeddingMask
    from posebrowser.nets.posebit_net import PosebitNet

    state = load_thesis_state_dict(path)
    mask_tensor = state.pop(MASK_KEY, None)
    if "fc1.weight" not in state or state["fc1.weight"].ndim != 2:
        raise CheckpointError("This is not a thesis language or mask checkpoint (no fc1.weight).", path=path)
    hidden, num_bits = state["fc1.weight"].shape
    hidden2 = state["fc2.weight"].shape[0] if "fc2.weight" in state else 2048
    embedding_dim = state["fc3.weight"].shape[0] if "fc3.weight" in state else 128
    net = PosebitNet(
        num_bits=int(num_bits), hidden=int(hidden), hidden2=int(hidden2), embedding_dim=int(embedding_dim)
    )
    check_state_dict_matches(net, state, path=path)
    net.load_state_dict(state, strict=True)
    mask = None
    if mask_tensor is not None:
        mask = EmbeddingMask(dim=int(mask_tensor.numel()))
        mask.load_state_dict({"mask": _mask_vector(mask_tensor.numpy(), path)}, strict=True)
        mask.eval()
    return net.eval(), mask


def load_thesis_mask(path: str | Path) -> EmbeddingMask:
    """A mask as ``.npy`` ((1, 128) or (128,), loaded with ``allow_pickle=False``) or a thesis mask
    checkpoint (``masklayer.mask``) → :class:`EmbeddingMask` in eval mode."""
    from posebrowser.nets.mask import EmbeddingMask

    path = Path(path)
    if path.suffix.lower() == ".npy":
        try:
            array = load_npy_checked(path)
        except ValueError as error:
            if "allow_pickle" in str(error):
                raise UnsafeFileError(
                    "The mask file holds Python objects; it was refused.", path=path
                ) from error
            raise CheckpointError(f"The mask file cannot be read ({error}).", path=path) from error
        except OSError as error:
            raise CheckpointError(f"The mask file cannot be read ({error}).", path=path) from error
    else:
        state = load_thesis_state_dict(path)
        if MASK_KEY not in state:
            raise CheckpointError(f"The checkpoint has no {MASK_KEY!r} tensor.", path=path)
        array = state[MASK_KEY].numpy()
    vector = _mask_vector(array, path)
    mask = EmbeddingMask(dim=int(vector.numel()))
    mask.load_state_dict({"mask": vector}, strict=True)
    return mask.eval()


def _mask_vector(array: np.ndarray, path: str | Path) -> torch.Tensor:
    import torch

    if (
        not np.issubdtype(array.dtype, np.floating)
        or array.ndim not in (1, 2)
        or (array.ndim == 2 and array.shape[0] != 1)
    ):
        raise CheckpointError(
            f"A mask must be float (1, D) or (D,), not {array.dtype} {array.shape}.", path=path
        )
    return torch.from_numpy(np.ascontiguousarray(array.reshape(-1), dtype=np.float32))


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
