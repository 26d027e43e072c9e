"""The shared epoch loop: both trainers run it, and a posebit run SIGKILLed mid-epoch resumes exactly."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from numpy.typing import NDArray
from test_training_trainers import TinyImageNet, TinyPosebitNet, _config, make_data, to_tensor

from posebrowser.errors import CheckpointError
from posebrowser.training.image_trainer import train_image_net
from posebrowser.training.loop import EpochLoop, TrainResult
from posebrowser.training.posebit_trainer import PosebitTrainConfig, train_posebit_net

ROOT = Path(__file__).resolve().parents[2]


def posebit_data() -> tuple[NDArray[np.int8], NDArray[np.float32]]:
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2, size=(64, 10)).astype(np.int8)
    bits[::7, 2] = -1
    targets = (bits.clip(0, 1) @ rng.normal(size=(10, 128))).astype(np.float32)
    return bits, targets / np.linalg.norm(targets, axis=1, keepdims=True)


#: 64 posebytes in batches of 16: 4 batches per epoch, 16 in all.
POSEBIT_CONFIG = {"loss": "ranking", "epochs": 4, "batch_size": 16, "lr": 1e-2, "device": "cpu"}


def _plain_loop(net: torch.nn.Module, tmp_path: Path) -> EpochLoop:
    """An epoch loop with plain SGD and its files in ``tmp_path``."""
    return EpochLoop(
        name="test",
        net=net,
        optimizer=torch.optim.SGD(net.parameters(), lr=0.1),
        numpy_rng=np.random.default_rng(0),
        config={},
        state_path=tmp_path / "state.pt",
        curve_path=tmp_path / "curve.png",
        curve_title="test",
    )


def test_both_trainers_run_the_shared_epoch_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs: list[tuple[str, int]] = []
    original = EpochLoop.run

    def spy(self: EpochLoop, *args: Any, **kwargs: Any) -> TrainResult:
        result = original(self, *args, **kwargs)
        runs.append((self.name, len(result.history.train)))
        return result

    monkeypatch.setattr(EpochLoop, "run", spy)
    images, gt, _ = make_data(seed=5)
    train_image_net(TinyImageNet(), images, gt, to_tensor, _config(epochs=2), tmp_path / "image")
    bits, targets = posebit_data()
    config = PosebitTrainConfig(**POSEBIT_CONFIG | {"epochs": 3})  # type: ignore[arg-type]
    train_posebit_net(TinyPosebitNet(10), bits, targets, config, tmp_path / "posebit")
    assert runs == [("image", 2), ("posebit", 3)]


def test_posebit_training_killed_mid_epoch_resumes_exactly(tmp_path: Path) -> None:
    """SIGKILL in the 3rd epoch (batch 10 of 16); the resumed run ends with a straight run's weights."""
    work = tmp_path / "killed"
    child = textwrap.dedent(
        f"""
        import os, signal, sys
        from pathlib import Path
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import torch
        from test_training_loop import POSEBIT_CONFIG, posebit_data
        from test_training_trainers import TinyPosebitNet
        from posebrowser.training.posebit_trainer import PosebitTrainConfig, train_posebit_net

        def kill_at_batch_10(done, total):
            if done == 10:
                os.kill(os.getpid(), signal.SIGKILL)

        torch.manual_seed(0)
        bits, targets = posebit_data()
        train_posebit_net(TinyPosebitNet(10), bits, targets, PosebitTrainConfig(**POSEBIT_CONFIG),
                          Path({str(work)!r}), progress=kill_at_batch_10)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", child], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == -9, done.stderr[-2000:]
    assert (work / "posebit_train_state.pt").exists()
    bits, targets = posebit_data()
    config = PosebitTrainConfig(**POSEBIT_CONFIG)  # type: ignore[arg-type]
    torch.manual_seed(1)  # another init: the resume must replace it with the saved weights
    resumed_net = TinyPosebitNet(10)
    resumed = train_posebit_net(resumed_net, bits, targets, config, work, resume=True)
    torch.manual_seed(0)
    straight_net = TinyPosebitNet(10)
    straight = train_posebit_net(straight_net, bits, targets, config, tmp_path / "straight")
    assert resumed.start_epoch == 2 and resumed.images_seen == 2 * 64 and straight.images_seen == 4 * 64
    assert resumed.history.train == straight.history.train
    for name, value in straight_net.state_dict().items():
        np.testing.assert_array_equal(resumed_net.state_dict()[name].numpy(), value.numpy(), err_msg=name)


def test_resume_refuses_a_state_saved_with_other_settings(tmp_path: Path) -> None:
    net = TinyPosebitNet(4)

    def loop(config: dict[str, Any]) -> EpochLoop:
        return EpochLoop(
            name="test",
            net=net,
            optimizer=torch.optim.SGD(net.parameters(), lr=0.1),
            numpy_rng=np.random.default_rng(0),
            config=config,
            state_path=tmp_path / "state.pt",
            curve_path=tmp_path / "curve.png",
            curve_title="test",
        )

    def one_batch(epoch: int) -> Any:
        return iter([torch.ones(2, 4)])

    first = loop({"loss": "a", "lr": 0.1}).run(1, 1, one_batch, lambda x: (net(x).sum(), len(x)))
    assert first.images_seen == 2 and not net.training and (tmp_path / "curve.png").exists()
    assert loop({"loss": "a", "lr": 0.5}).restore(True, ("loss",)) == 1  # lr may change
    assert loop({"loss": "b"}).restore(False, ("loss",)) == 0  # without resume the state is ignored
    with pytest.raises(CheckpointError, match="loss"):
        loop({"loss": "b"}).restore(True, ("loss",))


def test_resume_names_a_changed_head_setting_and_leaves_the_net_alone(tmp_path: Path) -> None:
    """Before, a setting that adds or drops an auxiliary head (aux_posebits 5 → 0) failed on the state
    dict's missing keys, and settings that kept the keys loaded the saved weights into the net first."""
    images, gt, _ = make_data()
    bits = np.random.default_rng(0).integers(0, 2, size=(len(images), 6)).astype(np.int8)
    names = tuple(f"bit {i}" for i in range(6))
    torch.manual_seed(0)
    train_image_net(TinyImageNet(), images, gt, to_tensor, _config(epochs=1, aux_posebits=5.0), tmp_path,
                    posebits=bits, posebit_names=names)
    torch.manual_seed(1)
    fresh = TinyImageNet()
    before = {key: value.clone() for key, value in fresh.state_dict().items()}
    with pytest.raises(CheckpointError, match=r"different settings \(aux_posebits\)"):
        train_image_net(fresh, images, gt, to_tensor, _config(epochs=2), tmp_path, resume=True)
    assert all(torch.equal(before[key], value) for key, value in fresh.state_dict().items())


def test_the_loop_closes_a_batch_stream_it_stops_early(tmp_path: Path) -> None:
    from posebrowser.errors import JobCancelledError

    net = TinyPosebitNet(4)
    closed: list[int] = []

    def stream(epoch: int) -> Any:
        try:
            for _ in range(5):
                yield torch.ones(2, 4)
        finally:
            closed.append(epoch)

    loop = _plain_loop(net, tmp_path)
    checks = iter(range(100))
    try:
        loop.run(2, 5, stream, lambda x: (net(x).sum(), len(x)), cancel=lambda: next(checks) == 2)
    except JobCancelledError:
        assert closed == [0]  # closed when the cancel left the loop, not later by the garbage collector
    else:
        pytest.fail("the cancel did not stop the loop")


def test_the_result_times_the_end_of_epoch_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    net = TinyPosebitNet(4)
    original = EpochLoop._end_epoch

    def slow_end(self: EpochLoop, *args: Any) -> None:
        time.sleep(0.05)
        original(self, *args)

    monkeypatch.setattr(EpochLoop, "_end_epoch", slow_end)
    loop = _plain_loop(net, tmp_path)
    result = loop.run(3, 2, lambda epoch: iter([torch.ones(2, 4)] * 2), lambda x: (net(x).sum(), len(x)))
    assert result.images_seen == 12
    assert 3 * 0.05 <= result.end_of_epoch_seconds < result.seconds
