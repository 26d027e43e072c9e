"""benchmarks/bench_training.py: the rate at the recipe's shares charges decoding once per recipe epochs
and the end-of-epoch work once per recipe epoch, and equals the bench's own rate when those match it."""

from __future__ import annotations

from types import ModuleType

import pytest
from script_loader import load_script


def _bench() -> ModuleType:
    return load_script("benchmarks/bench_training.py")


def test_the_recipe_shares_charge_decoding_per_epochs_and_the_checkpoint_per_recipe_batches() -> None:
    rate = _bench().rate_at_recipe_shares(640, 0.002, 13.0, 0.5, 10, 8, 288)
    # 640 images: 1.28 s of decoding over 8 passes, 12.5 s of batches, 0.5 s of epoch end over 28.8 epochs
    assert rate == pytest.approx(640 / (0.16 + 12.5 + 0.5 / 28.8))


def test_the_recipe_shares_equal_the_bench_rate_when_the_recipe_is_the_bench() -> None:
    images, decode, seconds = 640, 0.002, 13.0
    rate = _bench().rate_at_recipe_shares(images, decode, seconds, 0.5, 10, 1, 10)
    assert rate == pytest.approx(images / (decode * images + seconds))
