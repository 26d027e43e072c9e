"""The image model is selectable where an engine is opened: the app (``--image-model``) and the headless
commands that share the engine arguments."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from posebrowser.core.engine import RetrievalEngine


class _Opened(Exception):
    pass


def _record_open(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def fake_open(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        raise _Opened

    monkeypatch.setattr(RetrievalEngine, "open", staticmethod(fake_open))
    return seen


class _Context:
    def progress(self, *args: Any) -> None: ...

    def cancelled(self) -> bool:
        return False


def _default_model() -> str:
    """The app's default: the fused model where the shipped folder has it, else the CNN alone."""
    from posebrowser.core.locations import default_models_dir

    return "fused_net" if (default_models_dir() / "fused_net.safetensors").is_file() else "image_net"


@pytest.mark.parametrize(
    "argv,expected", [([], _default_model()), (["--image-model", "joints_net"], "joints_net")]
)
def test_the_app_opens_the_chosen_image_model(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], expected: str
) -> None:
    from posebrowser.app import RealEngineFactory, parse_args

    args = parse_args(argv)
    seen = _record_open(monkeypatch)
    factory = RealEngineFactory(args.models, args.device, args.cache_dir, args.image_model)
    with pytest.raises(_Opened):
        factory(_Context(), None)  # type: ignore[arg-type]
    assert seen["image_model"] == expected


def test_headless_commands_open_the_chosen_image_model(monkeypatch: pytest.MonkeyPatch) -> None:
    from posebrowser.core import command

    parser = argparse.ArgumentParser()
    command._engine_args(parser)
    args = parser.parse_args(["--image-model", "joints_net"])
    seen = _record_open(monkeypatch)
    with pytest.raises(_Opened):
        command.open_engine(args)
    assert seen["image_model"] == "joints_net"
