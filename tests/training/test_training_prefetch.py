"""Batch prefetching: same order and results as a serial loop, errors surface, early stops join the thread."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from test_training_trainers import TinyImageNet, _config, make_data, to_tensor

from posebrowser.training.image_trainer import train_image_net
from posebrowser.training.prefetch import auto_depth, prefetched


def _prefetch_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "posebrowser-prefetch"]


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_items_come_in_order_and_prepared(depth: int) -> None:
    assert list(prefetched(iter(range(50)), lambda x: x * x, depth)) == [x * x for x in range(50)]


def test_a_producer_error_is_raised_in_the_consumer_at_its_item() -> None:
    def prepare(x: int) -> int:
        if x == 3:
            raise ValueError("bad item 3")
        return x

    got: list[int] = []
    with pytest.raises(ValueError, match="bad item 3"):
        for value in prefetched(iter(range(10)), prepare, 2):
            got.append(value)
    assert got == [0, 1, 2]
    assert not _prefetch_threads()


def test_stopping_early_stops_and_joins_the_producer() -> None:
    pulled: list[int] = []

    def source() -> Iterator[int]:
        for i in range(10_000):
            pulled.append(i)
            yield i

    stream = prefetched(source(), lambda x: x, 2)
    assert next(stream) == 0
    stream.close()
    assert not _prefetch_threads()
    assert len(pulled) <= 5  # at most depth + a couple ahead, not the whole source


def test_training_with_prefetch_equals_serial_training(tmp_path: Path) -> None:
    """Random draws of sampling and augmentation happen in the serial order, so weights are identical."""
    images, gt, _ = make_data(seed=4)
    weights = []
    for depth in (0, 2):
        torch.manual_seed(0)
        net = TinyImageNet()
        config = _config(epochs=2, augment=True, prefetch=depth)
        train_image_net(net, images, gt, to_tensor, config, tmp_path / f"d{depth}")
        weights.append([p.detach().clone() for p in net.parameters()])
    for serial, ahead in zip(*weights, strict=True):
        np.testing.assert_array_equal(serial.numpy(), ahead.numpy())


@pytest.mark.parametrize(
    ("on_gpu", "threads", "cores", "depth"),
    [(True, 2, 2, 2), (False, 2, 2, 0), (False, 2, 4, 2), (False, 16, 16, 0), (True, 16, 16, 2)],
)
def test_auto_depth_prefetches_on_a_gpu_or_with_a_core_left_free(
    on_gpu: bool, threads: int, cores: int, depth: int
) -> None:
    assert auto_depth(on_gpu, threads, cores) == depth


def test_the_trainer_prefetches_as_auto_depth_says_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from posebrowser.training import image_trainer

    depths: list[int] = []
    original = image_trainer.prefetched

    def spy(items: Any, prepare: Any, depth: int = 2) -> Any:
        depths.append(depth)
        return original(items, prepare, depth)

    monkeypatch.setattr(image_trainer, "prefetched", spy)
    monkeypatch.setattr(image_trainer, "auto_depth", lambda on_gpu, threads: 7 if not on_gpu else -1)
    images, gt, _ = make_data(seed=4)
    for told in (None, 0, 2):
        config = _config(epochs=1, prefetch=told)
        train_image_net(TinyImageNet(), images, gt, to_tensor, config, tmp_path / f"t{told}")
    assert depths == [7, 0, 2]
