"""Shared train-loop utilities: seeding, device choice, resumable checkpoints, progress, loss curves, and
:class:`EpochLoop`, the one epoch/batch/checkpoint/resume loop every trainer runs.

Resumable checkpoints are ``torch.save`` dicts written atomically (temp file + ``os.replace``) holding
``{"epoch": last finished epoch (int), "model": state_dict, "optimizer": state_dict, "scheduler":
state_dict | None, "history": {"train": [float], "val": [float]}, "rng": {...}, "config": dict}``; they
are loaded with ``weights_only=True`` (plain tensors, numbers, strings and containers only).
"""

from __future__ import annotations

import io
import pickle
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from posebrowser.errors import CheckpointError, DeviceError, JobCancelledError
from posebrowser.fileio import atomic_write_bytes, remove_stale_temporaries

Progress = Callable[[int, int], None]
Cancel = Callable[[], bool]


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, numpy's legacy global RNG and torch; returns a fresh ``np.random.Generator(seed)``."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return np.random.default_rng(seed)


def choose_device(requested: str) -> torch.device:
    """``"auto"`` → cuda if available else cpu; ``"cuda"`` without a GPU raises :class:`DeviceError`."""
    try:
        from posebrowser.core.device import resolve_device
    except ImportError:  # core not installed in a stripped-down build: decide here
        pass
    else:
        return torch.device(resolve_device(requested).name)
    if requested == "cpu":
        return torch.device("cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise DeviceError("CUDA was requested but no CUDA GPU is available; use --device cpu or auto.")
    if requested not in ("auto", "cuda"):
        raise DeviceError(f"Unknown device {requested!r}; use auto, cpu or cuda.")
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def autocast_context(device: torch.device, enabled: bool) -> Any:
    """bf16 autocast on CPU / fp16-free bf16 autocast on CUDA when ``enabled``, else a no-op context."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=enabled)


def check_cancel(cancel: Cancel | None) -> None:
    """Raise :class:`JobCancelledError` when the user asked to stop."""
    if cancel is not None and cancel():
        raise JobCancelledError("Training was cancelled.")


@dataclass
class LossHistory:
    """Mean training loss per epoch (and optional validation loss per epoch)."""

    train: list[float] = field(default_factory=list)
    val: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, list[float]]:
        return {"train": list(self.train), "val": list(self.val)}

    @classmethod
    def from_dict(cls, data: dict[str, list[float]]) -> LossHistory:
        return cls(
            train=[float(v) for v in data.get("train", [])], val=[float(v) for v in data.get("val", [])]
        )


def _rng_state(numpy_rng: np.random.Generator) -> dict[str, Any]:
    state: dict[str, Any] = {"torch": torch.get_rng_state(), "numpy": numpy_rng.bit_generator.state}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def save_training_state(
    path: Path,
    *,
    epoch: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    history: LossHistory,
    numpy_rng: np.random.Generator,
    config: dict[str, Any],
    generators: dict[str, torch.Generator] | None = None,
) -> None:
    """Write a resumable checkpoint atomically (see module doc). ``epoch`` = the epoch just finished;
    ``generators`` are extra torch generators (e.g. a miner's) whose states a resume must continue."""
    state = {
        "generators": {name: g.get_state() for name, g in (generators or {}).items()},
        "epoch": epoch,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "history": history.to_dict(),
        "rng": _rng_state(numpy_rng),
        "config": config,
    }
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())
    remove_stale_temporaries(path.parent, older_than_s=3600)  # left by earlier runs that were killed


#: What reading a missing, truncated, foreign or mismatched training state raises.
UNREADABLE_STATE = (OSError, RuntimeError, KeyError, ValueError, TypeError, pickle.UnpicklingError, EOFError)


#: Settings added after training states were first saved, with the value those states were trained with
#: (so they still resume).
SETTINGS_BEFORE_THEY_WERE_SAVED: dict[str, Any] = {"grey_share": 0.0}


def read_training_state(path: Path) -> dict[str, Any]:
    """The saved training state as a dict, its ``config`` present, with the value of each setting the state
    predates (:data:`SETTINGS_BEFORE_THEY_WERE_SAVED`) filled in (a :class:`CheckpointError` when it cannot
    be read); :func:`load_training_state` applies it."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        state["config"] = {**SETTINGS_BEFORE_THEY_WERE_SAVED, **state["config"]}
        return dict(state)
    except UNREADABLE_STATE as error:
        raise CheckpointError(f"The training checkpoint cannot be resumed ({error}).", path=path) from error


def load_training_state(
    path: Path,
    *,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None,
    numpy_rng: np.random.Generator,
    generators: dict[str, torch.Generator] | None = None,
    state: dict[str, Any] | None = None,
) -> tuple[int, LossHistory, dict[str, Any]]:
    """Restore model, optimiser, scheduler and RNG states (and those of ``generators``) from ``path``, or
    from its ``state`` already read by :func:`read_training_state`; returns (next epoch, history, saved
    config)."""
    try:
        if state is None:
            state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state["scheduler"] is not None:
            scheduler.load_state_dict(state["scheduler"])
        torch.set_rng_state(state["rng"]["torch"])
        if "cuda" in state["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        numpy_rng.bit_generator.state = state["rng"]["numpy"]
        for name, generator in (generators or {}).items():
            if name in state.get("generators", {}):
                generator.set_state(state["generators"][name])
        return int(state["epoch"]) + 1, LossHistory.from_dict(state["history"]), dict(state["config"])
    except UNREADABLE_STATE as error:
        raise CheckpointError(f"The training checkpoint cannot be resumed ({error}).", path=path) from error


def progress_iter(
    items: Iterator[Any],
    total: int,
    *,
    description: str,
    show_bar: bool,
    progress: Progress | None,
    cancel: Cancel | None,
    offset: int = 0,
    grand_total: int | None = None,
) -> Iterator[Any]:
    """Yield ``items`` with a tqdm bar on stderr (if ``show_bar``), progress callbacks and cancel checks."""
    bar = None
    if show_bar:
        from tqdm import tqdm

        bar = tqdm(total=total, desc=description, leave=False, dynamic_ncols=True)
    try:
        for done, item in enumerate(items, start=1):
            check_cancel(cancel)
            yield item
            if bar is not None:
                bar.update(1)
            if progress is not None:
                progress(offset + done, grand_total if grand_total is not None else total)
    finally:
        if bar is not None:
            bar.close()


def save_loss_curve(history: LossHistory, path: Path, title: str) -> None:
    """Plot train (and val) loss per epoch into a PNG with matplotlib's Agg backend."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5, 3.2), dpi=100)
    axes = figure.add_subplot(1, 1, 1)
    epochs = np.arange(1, len(history.train) + 1)
    axes.plot(epochs, history.train, marker="o", label="train")
    if history.val:
        axes.plot(np.arange(1, len(history.val) + 1), history.val, marker="s", label="val")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    axes.legend()
    figure.tight_layout()
    image = io.BytesIO()
    figure.savefig(image, format="png")
    atomic_write_bytes(path, image.getvalue())


@dataclass
class TrainResult:
    """What a training run produced: loss history, wall time and throughput."""

    history: LossHistory
    start_epoch: int
    seconds: float
    images_seen: int
    #: of ``seconds``, the time spent after each epoch's batches: validation, checkpoint and loss curve
    end_of_epoch_seconds: float = 0.0

    @property
    def images_per_second(self) -> float:
        return self.images_seen / self.seconds if self.seconds > 0 else 0.0


#: ``batch_loss(batch)`` → (scalar loss tensor with a graph, number of items in the batch).
BatchLoss = Callable[[Any], tuple[torch.Tensor, int]]


@dataclass
class EpochLoop:
    """The epoch/batch/checkpoint/resume loop shared by the trainers.

    A trainer builds its net, optimiser and scheduler, calls :meth:`restore` (which, with ``resume``, loads
    the last checkpoint at ``state_path`` and refuses one saved with other values of ``resume_keys``), then
    :meth:`run` with two functions of its own: ``epoch_batches(epoch)`` (an iterator over that epoch's
    batches, drawn from ``numpy_rng`` so that a resumed run draws the same ones) and ``batch_loss(batch)``.
    Per batch the loop checks ``cancel``, zeroes the gradients, back-propagates the loss, steps the
    optimiser and reports progress; per epoch it steps the scheduler, appends the mean batch loss (and
    ``validate()`` when given) to the history, writes the checkpoint (``model``'s weights, optimiser,
    scheduler, history, the numpy and torch RNG states and those of ``generators``) and the loss-curve PNG.
    A run killed or cancelled mid-epoch therefore resumes at the start of that epoch with every state as a
    straight run had it there, and ends with the same weights.
    """

    name: str
    net: nn.Module
    optimizer: torch.optim.Optimizer
    numpy_rng: np.random.Generator
    config: dict[str, Any]
    state_path: Path
    curve_path: Path
    curve_title: str
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None
    model: nn.Module | None = None  # what the checkpoint holds (the net and any heads); default: ``net``
    generators: dict[str, torch.Generator] = field(default_factory=dict)
    history: LossHistory = field(default_factory=LossHistory)
    start_epoch: int = 0

    @property
    def checkpointed(self) -> nn.Module:
        return self.model if self.model is not None else self.net

    def restore(self, resume: bool, resume_keys: tuple[str, ...] = ()) -> int:
        """With ``resume`` and a saved state, load it and return the epoch to continue at (else 0)."""
        if not (resume and self.state_path.exists()):
            return self.start_epoch
        state = read_training_state(self.state_path)  # its settings are checked before any weights load
        changed = [key for key in resume_keys if state["config"].get(key) != self.config.get(key)]
        if changed:
            raise CheckpointError(
                f"The saved training state used different settings ({', '.join(changed)}); "
                "start without --resume or use the same settings.",
                path=self.state_path,
            )
        self.start_epoch, self.history, _ = load_training_state(
            self.state_path,
            model=self.checkpointed,
            optimizer=self.optimizer,
            scheduler=self.scheduler,
            numpy_rng=self.numpy_rng,
            generators=self.generators,
            state=state,
        )
        return self.start_epoch

    def run(
        self,
        epochs: int,
        batches_per_epoch: int,
        epoch_batches: Callable[[int], Iterator[Any]],
        batch_loss: BatchLoss,
        *,
        validate: Callable[[], float] | None = None,
        show_bar: bool = False,
        progress: Progress | None = None,
        cancel: Cancel | None = None,
    ) -> TrainResult:
        """Train epochs ``start_epoch … epochs − 1`` (see the class doc); leaves ``net`` in eval mode."""
        items_seen = 0
        end_of_epoch_seconds = 0.0
        began = time.perf_counter()
        for epoch in range(self.start_epoch, epochs):
            self.net.train()
            losses: list[float] = []
            batches = epoch_batches(epoch)
            try:
                for batch in progress_iter(
                    batches,
                    batches_per_epoch,
                    description=f"{self.name} epoch {epoch + 1}/{epochs}",
                    show_bar=show_bar,
                    progress=progress,
                    cancel=cancel,
                    offset=(epoch - self.start_epoch) * batches_per_epoch,
                    grand_total=(epochs - self.start_epoch) * batches_per_epoch,
                ):
                    loss, items = batch_loss(batch)
                    self.optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    self.optimizer.step()
                    losses.append(float(loss.detach()))
                    items_seen += items
            finally:
                close = getattr(batches, "close", None)
                if close is not None:
                    close()  # a prefetching generator stops and joins its thread
            ended = time.perf_counter()
            self._end_epoch(epoch, losses, validate)
            end_of_epoch_seconds += time.perf_counter() - ended
        self.net.eval()
        seconds = time.perf_counter() - began
        return TrainResult(self.history, self.start_epoch, seconds, items_seen, end_of_epoch_seconds)

    def _end_epoch(self, epoch: int, losses: list[float], validate: Callable[[], float] | None) -> None:
        if self.scheduler is not None:
            self.scheduler.step()
        self.history.train.append(float(np.mean(losses)) if losses else float("nan"))
        if validate is not None:
            self.history.val.append(validate())
        save_training_state(
            self.state_path,
            epoch=epoch,
            model=self.checkpointed,
            optimizer=self.optimizer,
            scheduler=self.scheduler,
            history=self.history,
            numpy_rng=self.numpy_rng,
            config=self.config,
            generators=self.generators,
        )
        save_loss_curve(self.history, self.curve_path, self.curve_title)
