"""Model files: ``<stem>.safetensors`` (weights) + ``<stem>.json`` (a :class:`ModelCard`).

The card names the architecture (a key of :data:`posebrowser.nets.registry.NETS`) and its config, the
preprocessing, the posebit vocabulary the model was trained with and the sha256 of the weights file.
:func:`load_model` verifies the hash, the architecture (tensor names and shapes) and the vocabulary.
torch and safetensors are imported inside functions so the card can be read without them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from posebrowser.errors import CheckpointError, VocabularyMismatchError
from posebrowser.fileio import atomic_write_bytes
from posebrowser.nets.registry import build_net, get_spec

if TYPE_CHECKING:
    from torch import nn

CARD_SUFFIX = ".json"
WEIGHTS_SUFFIX = ".safetensors"
_KINDS = ("image", "posebit", "mask")


@dataclass
class ModelCard:
    """Everything needed to rebuild and trust a saved model (stored as ``<stem>.json``)."""

    net: str
    config: dict[str, Any]
    kind: str
    preprocessing: dict[str, Any] = field(default_factory=dict)
    embedding_dim: int = 128
    posebit_version: str | None = None
    posebit_names: list[str] | None = None
    training_data_hash: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    sha256: str = ""
    created: str = ""
    notes: str = ""

    def to_json(self) -> str:
        """Pretty JSON text of the card."""
        return json.dumps(asdict(self), indent=2, sort_keys=True, default=_json_default)

    @classmethod
    def from_json(cls, text: str, *, path: str | Path | None = None) -> ModelCard:
        """Parse and validate card JSON; raises :class:`CheckpointError` naming ``path``."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise CheckpointError(f"The model card is not valid JSON ({error}).", path=path) from error
        if not isinstance(data, dict):
            raise CheckpointError("The model card must be a JSON object.", path=path)
        names = {f.name for f in fields(cls)}
        missing = sorted({"net", "config", "kind"} - set(data))
        if missing:
            raise CheckpointError(f"The model card lacks the fields {', '.join(missing)}.", path=path)
        unknown = sorted(set(data) - names)
        if unknown:
            raise CheckpointError(f"The model card has unknown fields {', '.join(unknown)}.", path=path)
        card = cls(**data)
        card.validate(path=path)
        return card

    def validate(self, *, path: str | Path | None = None) -> None:
        """Check field types and values; raises :class:`CheckpointError`."""
        checks: list[tuple[bool, str]] = [
            (isinstance(self.net, str) and bool(self.net), "'net' must be a non-empty string"),
            (isinstance(self.config, dict), "'config' must be an object"),
            (self.kind in _KINDS, f"'kind' must be one of {', '.join(_KINDS)}"),
            (isinstance(self.preprocessing, dict), "'preprocessing' must be an object"),
            (isinstance(self.embedding_dim, int) and self.embedding_dim > 0, "'embedding_dim' must be > 0"),
            (self.posebit_version is None or isinstance(self.posebit_version, str), "bad 'posebit_version'"),
            (
                self.posebit_names is None
                or (
                    isinstance(self.posebit_names, list)
                    and all(isinstance(n, str) for n in self.posebit_names)
                ),
                "'posebit_names' must be a list of strings",
            ),
            (isinstance(self.metrics, dict), "'metrics' must be an object"),
            (isinstance(self.sha256, str), "'sha256' must be a string"),
        ]
        for ok, message in checks:
            if not ok:
                raise CheckpointError(f"The model card is invalid: {message}.", path=path)


def card_and_weights_paths(path: str | Path) -> tuple[Path, Path]:
    """``stem``, ``stem.json`` or ``stem.safetensors`` → (card path, weights path)."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix in (CARD_SUFFIX, WEIGHTS_SUFFIX) else path
    return stem.with_name(stem.name + CARD_SUFFIX), stem.with_name(stem.name + WEIGHTS_SUFFIX)


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_card(path: str | Path) -> ModelCard:
    """Read and validate the card of a model (``stem``, ``.json`` or ``.safetensors`` path)."""
    card_path, _ = card_and_weights_paths(path)
    try:
        text = card_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CheckpointError("The model card file does not exist.", path=card_path) from None
    except (OSError, UnicodeDecodeError) as error:
        raise CheckpointError(f"The model card cannot be read ({error}).", path=card_path) from error
    return ModelCard.from_json(text, path=card_path)


def save_model(stem: str | Path, module: nn.Module, card: ModelCard) -> ModelCard:
    """Write ``<stem>.safetensors`` and ``<stem>.json`` atomically; returns the card as written.

    The returned card has ``sha256`` (of the weights file) and ``created`` (UTC ISO time, if empty) set.
    """
    from safetensors.torch import save

    card.validate()
    get_spec(card.net)
    card_path, weights_path = card_and_weights_paths(stem)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {name: value.detach().cpu().contiguous() for name, value in module.state_dict().items()}
    # One metadata key: safetensors writes the metadata from a hash map whose order varies from map to
    # map, so two keys made the same weights save to different bytes (and a different sha256).
    payload = save(tensors, metadata={"model": f"{card.kind}:{card.net}"})
    digest = hashlib.sha256(payload).hexdigest()
    atomic_write_bytes(weights_path, payload)
    created = card.created or datetime.now(UTC).isoformat(timespec="seconds")
    text = replace(card, sha256=digest, created=created).to_json()
    atomic_write_bytes(card_path, (text + "\n").encode())
    return ModelCard.from_json(text, path=card_path)  # as a reader will see it (tuples become lists)


def load_model(
    path: str | Path,
    expect_kind: str | None = None,
    expect_posebit_version: str | None = None,
    map_location: str = "cpu",
) -> tuple[nn.Module, ModelCard]:
    """Load a model saved by :func:`save_model`; returns (module in eval mode, card).

    Raises :class:`CheckpointError` (missing/corrupt/modified file, other kind or architecture) and
    :class:`VocabularyMismatchError` (trained on another posebit vocabulary version).
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    card = read_card(path)
    card_path, weights_path = card_and_weights_paths(path)
    if expect_kind is not None and card.kind != expect_kind:
        raise CheckpointError(
            f"This is a {card.kind} model, but a {expect_kind} model is needed here.", path=card_path
        )
    if expect_posebit_version is not None and card.posebit_version != expect_posebit_version:
        raise VocabularyMismatchError(
            f"The model was trained with posebit vocabulary {card.posebit_version!r}, but "
            f"{expect_posebit_version!r} is in use; retrain the model or use the matching vocabulary.",
            path=card_path,
        )
    if not weights_path.is_file():
        raise CheckpointError("The weights file does not exist.", path=weights_path)
    if file_sha256(weights_path) != card.sha256:
        raise CheckpointError(
            "The weights file is corrupt or was modified (its sha256 does not match the model card).",
            path=weights_path,
        )
    try:
        tensors = load_file(str(weights_path), device=map_location)
    except (SafetensorError, OSError, ValueError) as error:
        raise CheckpointError(f"The weights file cannot be read ({error}).", path=weights_path) from error
    module = build_net(card.net, **card.config)
    check_state_dict_matches(module, tensors, path=weights_path)
    module.load_state_dict(tensors, strict=True)
    module.to(map_location)
    module.eval()
    return module, card


def check_state_dict_matches(
    module: nn.Module, tensors: Mapping[str, Any], *, path: str | Path | None
) -> None:
    """Raise :class:`CheckpointError` naming expected vs found keys/shapes if ``tensors`` do not fit."""
    expected = {name: tuple(value.shape) for name, value in module.state_dict().items()}
    found = {name: tuple(value.shape) for name, value in tensors.items()}
    problems: list[str] = []
    missing = sorted(set(expected) - set(found))
    unexpected = sorted(set(found) - set(expected))
    if missing:
        problems.append(f"missing {_preview(missing)}")
    if unexpected:
        problems.append(f"unexpected {_preview(unexpected)}")
    wrong = [
        f"{name} expected {expected[name]} found {found[name]}"
        for name in sorted(set(expected) & set(found))
        if expected[name] != found[name]
    ]
    if wrong:
        problems.append(f"wrong shapes: {_preview(wrong)}")
    if problems:
        raise CheckpointError(
            f"The weights do not fit the {type(module).__name__} architecture: {'; '.join(problems)}.",
            path=path,
        )


def _preview(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"


def _json_default(value: Any) -> Any:
    if isinstance(value, tuple | set):
        return list(value)
    if hasattr(value, "item") and callable(value.item):  # numpy / torch scalars
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
