"""Cross-batch memory: its loss against a brute-force loop over triplets, its queues, and training with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.typing import NDArray
from test_training_trainers import TinyImageNet, _config, make_data, to_tensor

from posebrowser.training.image_trainer import train_image_net
from posebrowser.training.losses import THESIS_EPS
from posebrowser.training.memory import CrossBatchMemory
from posebrowser.training.sampling import neighbour_radii


def _setting(seed: int = 0, items: int = 40) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    rng = np.random.default_rng(seed)
    poses = rng.normal(size=(items, 3)).astype(np.float32)
    distances = np.linalg.norm(poses[:, None] - poses[None], axis=2).astype(np.float32)
    return distances, neighbour_radii(distances, 6, 2)


def _unit(rng: np.random.Generator, count: int) -> torch.Tensor:
    vectors = torch.from_numpy(rng.normal(size=(count, 8)).astype(np.float32))
    return torch.nn.functional.normalize(vectors, dim=1)


def _batch_positive(
    distances: NDArray[np.float32], radii: NDArray[np.float32], rows: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """The batch's positive layout as the neighbour-group sampler makes it."""
    inside = distances[np.ix_(rows, rows)] <= radii[rows][:, None]
    return inside & ~np.eye(len(rows), dtype=bool)


def _brute_force(
    distances: NDArray[np.float32],
    radii: NDArray[np.float32],
    batch: torch.Tensor,
    rows: NDArray[np.int64],
    memory: torch.Tensor,
    memory_rows: NDArray[np.int64],
    margin: float,
) -> float:
    """Every (anchor in batch, positive in batch ∪ memory, negative in memory) triplet, one at a time."""
    everything = [(batch[j], rows[j], j) for j in range(len(rows))]
    everything += [(memory[j], memory_rows[j], None) for j in range(len(memory_rows))]
    gaps = []
    for a in range(len(rows)):
        for p_vector, p_row, p_batch in everything:
            if p_batch == a or p_row == rows[a] or distances[rows[a], p_row] > radii[rows[a]]:
                continue
            if p_batch is not None:  # batch positives: the thesis' pair distance (with its epsilon)
                d_ap = float(torch.linalg.vector_norm(batch[a] - p_vector + THESIS_EPS))
            else:
                d_ap = float(torch.linalg.vector_norm(batch[a] - p_vector))
            for n_vector, n_row in zip(memory, memory_rows, strict=True):
                if n_row == rows[a] or distances[rows[a], n_row] <= radii[rows[a]]:
                    continue
                gap = d_ap - float(torch.linalg.vector_norm(batch[a] - n_vector)) + margin
                if gap > 0:
                    gaps.append(gap)
    return float(np.mean(gaps)) if gaps else 0.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_memory_loss_equals_the_brute_force_triplet_mean(seed: int) -> None:
    distances, radii = _setting(seed)
    rng = np.random.default_rng(seed + 10)
    memory = CrossBatchMemory(distances, radii, size=16, margin=0.3)
    for _ in range(3):  # 24 pushed, the oldest 8 dropped
        memory.push(_unit(rng, 8), rng.choice(40, 8, replace=False).astype(np.int64), flipped=False)
    rows = rng.choice(40, 8, replace=False).astype(np.int64)
    batch = _unit(rng, 8).requires_grad_(True)
    loss = memory.loss(batch, rows, False, _batch_positive(distances, radii, rows))
    expected = _brute_force(
        distances, radii, batch.detach(), rows, memory._vectors[False], memory._rows[False], 0.3
    )
    assert expected > 0
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-5)
    loss.backward()
    assert batch.grad is not None and float(batch.grad.abs().sum()) > 0


def test_memory_keeps_the_newest_items_per_mirror_state() -> None:
    distances, radii = _setting()
    rng = np.random.default_rng(0)
    memory = CrossBatchMemory(distances, radii, size=10)
    for start in (0, 6, 12):
        memory.push(_unit(rng, 6), np.arange(start, start + 6, dtype=np.int64), flipped=False)
    memory.push(_unit(rng, 6), np.arange(30, 36, dtype=np.int64), flipped=True)
    assert memory._rows[False].tolist() == list(range(8, 18))
    assert memory._rows[True].tolist() == list(range(30, 36))
    assert len(memory) == 16 and len(memory._vectors[False]) == 10


def test_memory_loss_is_zero_while_warming_up_or_empty_for_the_mirror_state() -> None:
    distances, radii = _setting()
    rng = np.random.default_rng(0)
    memory = CrossBatchMemory(distances, radii, size=32, start=2)
    batch = _unit(rng, 8).requires_grad_(True)
    rows = np.arange(8, dtype=np.int64)
    layout = _batch_positive(distances, radii, rows)
    memory.push(_unit(rng, 8), np.arange(8, 16, dtype=np.int64), flipped=False)
    assert float(memory.loss(batch, rows, False, layout).detach()) == 0.0  # 1 of 2 warm-up batches
    memory.push(_unit(rng, 8), np.arange(16, 24, dtype=np.int64), flipped=False)
    assert float(memory.loss(batch, rows, True, layout).detach()) == 0.0  # nothing mirrored in memory yet
    loss = memory.loss(batch, rows, False, layout)
    assert float(loss.detach()) > 0
    loss.backward()  # connected to the graph either way


def test_a_memory_of_no_items_is_a_clear_error() -> None:
    distances, radii = _setting()
    with pytest.raises(ValueError, match="memory size"):
        CrossBatchMemory(distances, radii, size=0)


def _trained_weights(tmp_path: Path, **changes: object) -> tuple[list[float], torch.Tensor]:
    images, gt, _ = make_data(count=64, seed=3)
    torch.manual_seed(0)
    net = TinyImageNet()
    result = train_image_net(net, images, gt, to_tensor, _config(epochs=3, **changes), tmp_path)
    return result.history.train, net.fc7.weight.detach().clone()


def test_the_memory_term_reaches_training_only_after_its_warm_up(tmp_path: Path) -> None:
    plain_losses, plain = _trained_weights(tmp_path / "plain")
    losses, with_memory = _trained_weights(tmp_path / "memory", memory_size=32)
    _, warming = _trained_weights(tmp_path / "warming", memory_size=32, memory_start=1000)
    assert all(np.isfinite(losses)) and losses != plain_losses
    assert not torch.allclose(with_memory, plain)
    assert torch.equal(warming, plain)  # never past the warm-up: exactly the run without a memory


def test_the_memory_needs_neighbour_group_batches(tmp_path: Path) -> None:
    images, gt, _ = make_data()
    config = _config(miner="thin-slicing", memory_size=16)
    with pytest.raises(ValueError, match="neighbour-group"):
        train_image_net(TinyImageNet(), images, gt, to_tensor, config, tmp_path)
