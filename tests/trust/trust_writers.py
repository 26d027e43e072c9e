"""Writers to kill, and how to check what they leave behind.

Run as a script (``python trust_writers.py WRITER FOLDER``) this is a small fork server: it imports the
writer's modules once (torch takes seconds), then for every ``go`` line on stdin forks a child that prints
``ready <pid>`` and writes forever (or until its work is finished), so that the parent can SIGKILL that
child at a random moment of real writing; the server reaps it and prints ``done <wait status>``.

:data:`VERIFIERS` (in-process) check the folder after a kill: every file must be complete and hold one
of the versions the writer wrote; resumable writers must then finish the work and produce exactly what
an uninterrupted run produces. Verifiers return the number of corrupt
files found (0 expected) and raise nothing for a consistent folder.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

PAYLOAD_BYTES = 2 << 20
CACHE_COUNT, CACHE_DIM, CACHE_CHUNK = 600, 128, 50
SYNTH_COUNT, SYNTH_SIZE, SYNTH_SEED = 24, 32, 5


def prepare_kill(writer: str, folder: Path) -> tuple[dict[str, Any], float | None]:
    """(state for the verifier, latest kill delay or None) before killing ``writer`` in ``folder``: for the
    synth generator, a reference gallery to compare with and a delay that kills it while it still works."""
    import time

    if writer != "synth_generator":
        return {}, None
    from posebrowser.synth.generate import generate_gallery

    started = time.monotonic()
    generate_gallery(folder / "reference", SYNTH_COUNT, seed=SYNTH_SEED, size=SYNTH_SIZE, workers=1)
    max_delay_s = 0.8 * (time.monotonic() - started)
    return {"reference": gallery_digest(folder / "reference")}, max_delay_s


def payload(version: int) -> bytes:
    """Version ``version`` of the atomic-write payload: 8-byte header + pseudo-random body."""
    body = np.random.default_rng(version).integers(0, 256, PAYLOAD_BYTES, dtype=np.uint8).tobytes()
    return version.to_bytes(8, "little") + body


def expected_rows(generation: int, start: int, stop: int) -> np.ndarray:
    rows = np.arange(start, stop, dtype=np.float64)[:, None] * CACHE_DIM + np.arange(CACHE_DIM)
    return np.sin(rows + generation).astype(np.float32)


def open_cache(folder: Path, generation: int) -> Any:
    """The embedding cache of one generation (each generation is a different gallery hash)."""
    from posebrowser.core.cache import CacheKey, EmbeddingCache

    return EmbeddingCache(folder, CacheKey("model", f"g{generation}"), CACHE_COUNT, CACHE_DIM, CACHE_CHUNK)


# ------------------------------------------------------------------------------------------ writers
def write_atomic_bytes(folder: Path) -> None:
    from posebrowser.fileio import atomic_write_bytes

    versions = [payload(v) for v in range(4)]
    for step in range(10**9):
        atomic_write_bytes(folder / "target.bin", versions[step % 4])


def write_annotations(folder: Path) -> None:
    from posebrowser.data.gallery_format import save_annotations

    for step in range(10**9):
        count = 20000 + step % 7
        save_annotations(folder / "annotations.npz", {
            "files": np.array([f"images/{i:06d}.jpg" for i in range(count)]),
            "ids": np.arange(count, dtype=np.int64) + step,
            "joints_3d": np.full((count, 16, 3), step, dtype=np.float32)})


def write_settings(folder: Path) -> None:
    """The app's own settings (gui/settings_store.py, QSettings INI), two related keys per sync."""
    from posebrowser.gui.settings_store import SettingsStore

    store = SettingsStore(folder / "settings.ini")
    saved = store.value("results/k", "")
    start = int(saved) + 1 if saved.isdigit() else 0  # carry on from what survived the last kill
    for step in range(start, 10**9):
        store.set_value("results/k", str(step))
        store.set_value("results/check", "x" * (step % 5000) + str(step))
        store.sync()


def write_session(folder: Path) -> None:
    from posebrowser.core.query import ImageTerm, Query
    from posebrowser.gui.frames import FrameCriterion
    from posebrowser.gui.session_io import save_session
    from posebrowser.gui.state import ViewSettings

    for step in range(10**9):  # the app's own settings and criterion types, so the writer keeps up with them
        fake = types.SimpleNamespace(
            query=Query((ImageTerm(gallery_index=step % 50, path=None, weight=1.0),)),
            settings=ViewSettings(k=1 + step % 100, projection_params={"tsne": {"perplexity": 5 + step % 9}}),
            frame_criterion=FrameCriterion(kind=("nearest", "threshold", "posebits")[step % 3]),
            ordered_conditions=lambda: (), selection=np.arange(step % 20000), gallery_path=None)
        save_session(fake, folder / "state.pbsession")  # type: ignore[arg-type]


def write_cache(folder: Path) -> None:
    for generation in range(10**6):
        cache = open_cache(folder, generation)
        cache.fill(lambda start, stop, g=generation: expected_rows(g, start, stop))


def _tiny_image_net() -> Any:
    """The small embedding net the training-writer kill test trains (seeded)."""
    import torch

    class TinyEmbedding(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3, stride=2)
            self.embedding = torch.nn.Linear(8, 128)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            pooled = torch.relu(self.conv(x)).mean(dim=(2, 3))
            return torch.nn.functional.normalize(self.embedding(pooled), dim=1)

    torch.manual_seed(0)
    return TinyEmbedding()


def _training_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, size=(24, 20, 20, 3), dtype=np.uint8)
    points = rng.normal(size=(24, 3))
    distances = np.linalg.norm(points[:, None] - points[None], axis=-1).astype(np.float32)
    return images, distances


def _to_tensor(images: Any) -> Any:
    import torch

    return torch.from_numpy(np.stack(images).astype(np.float32) / 255.0).permute(0, 3, 1, 2).contiguous()


def write_training(folder: Path) -> None:
    """The real image trainer (``train_image_net``), checkpointing after every epoch; each start resumes."""
    from posebrowser.training.image_trainer import ImageTrainConfig, train_image_net

    images, distances = _training_data()
    config = ImageTrainConfig(miner="distance-weighted", epochs=10**6, batch_size=12, augment=False,
                              device="cpu", val_batches=1)
    train_image_net(_tiny_image_net(), images, distances, _to_tensor, config, folder, resume=True)


def write_synth(folder: Path) -> None:
    from posebrowser.synth.generate import generate_gallery

    generate_gallery(folder / "gallery", SYNTH_COUNT, seed=SYNTH_SEED, size=SYNTH_SIZE, workers=1)


WRITERS: dict[str, Callable[[Path], None]] = {
    "atomic_write_bytes": write_atomic_bytes, "save_annotations": write_annotations,
    "settings": write_settings, "session": write_session, "embedding_cache": write_cache,
    "training_checkpoint": write_training, "synth_generator": write_synth,
}
#: The module each writer needs (the kill test skips writers whose module does not exist yet).
WRITER_MODULES: dict[str, str] = {
    "atomic_write_bytes": "posebrowser.data.gallery_format",
    "save_annotations": "posebrowser.data.gallery_format",
    "settings": "posebrowser.gui.settings_store", "session": "posebrowser.gui.session_io",
    "embedding_cache": "posebrowser.core.cache", "training_checkpoint": "posebrowser.training.image_trainer",
    "synth_generator": "posebrowser.synth.generate",
}


# ---------------------------------------------------------------------------------------- verifiers
def verify_atomic_bytes(folder: Path, state: dict[str, Any]) -> int:
    path = folder / "target.bin"
    if not path.exists():
        return 0
    data = path.read_bytes()
    version = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    return 0 if 0 <= version < 4 and data == payload(version) else 1


def verify_annotations(folder: Path, state: dict[str, Any]) -> int:
    path = folder / "annotations.npz"
    if not path.exists():
        return 0
    try:
        with np.load(path, allow_pickle=False) as archive:
            files, ids, joints = archive["files"], archive["ids"], archive["joints_3d"]
    except Exception:
        return 1
    step = int(ids[0])
    ok = len(files) == len(ids) == len(joints) == 20000 + step % 7 and bool((joints == step).all())
    return 0 if ok else 1


def verify_settings(folder: Path, state: dict[str, Any]) -> int:
    from posebrowser.gui.settings_store import SettingsStore

    path = folder / "settings.ini"
    if not path.exists():
        return 0
    store = SettingsStore(path)
    step = store.value("results/k", "")
    if not step:
        return 1
    ok = store.value("results/check", "") == "x" * (int(step) % 5000) + step
    ok = ok and int(step) >= state.get("last_step", -1)
    state["last_step"] = int(step)
    return 0 if ok else 1


def verify_session(folder: Path, state: dict[str, Any]) -> int:
    from posebrowser.errors import PosebrowserError
    from posebrowser.gui.session_io import read_session

    path = folder / "state.pbsession"
    if not path.exists():
        return 0
    try:
        data = read_session(path)
    except PosebrowserError:
        return 1
    return 0 if data["query"][0]["gallery_index"] < 50 else 1


def verify_cache(folder: Path, state: dict[str, Any]) -> int:
    """Every present chunk / merged file holds exactly the expected rows; then resume each generation."""
    from posebrowser.core.cache import MERGED_NAME, CacheKey

    corrupt = 0
    generation = 0
    while (folder / CacheKey("model", f"g{generation}").folder_name()).exists():
        cache = open_cache(folder, generation)
        if (cache.directory / MERGED_NAME).exists():
            merged = np.load(cache.directory / MERGED_NAME, allow_pickle=False)
            corrupt += int(not np.array_equal(merged, expected_rows(generation, 0, CACHE_COUNT)))
        for chunk in range(cache.chunk_count):
            if cache.chunk_path(chunk).exists():
                start, stop = cache.chunk_range(chunk)
                try:
                    rows = np.load(cache.chunk_path(chunk), allow_pickle=False)
                    corrupt += int(not np.array_equal(rows, expected_rows(generation, start, stop)))
                except ValueError:
                    corrupt += 1
        generation += 1
    # Resuming is cheap here: finish the work after every kill (the next writer starts a new generation).
    state["resumed"] = state.get("resumed", 0) + resume_cache(folder, generation)
    return corrupt


def resume_cache(folder: Path, generations: int) -> int:
    """Finish every cache generation in-process; checks only missing chunks are recomputed."""
    resumed = 0
    for generation in range(generations):
        cache = open_cache(folder, generation)
        missing = len(cache.missing_chunks())
        incomplete = not cache.is_complete
        calls: list[int] = []

        def compute(start: int, stop: int, g: int = generation, log: list[int] = calls) -> np.ndarray:
            log.append(start)
            return expected_rows(g, start, stop)

        result = cache.fill(compute)
        assert result is not None and np.array_equal(result, expected_rows(generation, 0, CACHE_COUNT))
        assert len(calls) <= missing, (len(calls), missing)
        resumed += int(incomplete)
    return resumed


def verify_training(folder: Path, state: dict[str, Any]) -> int:
    """The trainer's state file loads into the same net/optimizer and its epoch never goes back."""
    import torch

    from posebrowser.errors import CheckpointError
    from posebrowser.training.image_trainer import STATE_FILE
    from posebrowser.training.loop import load_training_state

    path = folder / STATE_FILE
    if not path.exists():
        return 0
    from posebrowser.training.image_trainer import ImageTrainConfig, build_optimizer

    model = _tiny_image_net()
    optimizer = build_optimizer(model, ImageTrainConfig())
    try:
        next_epoch, history, config = load_training_state(
            path, model=model, optimizer=optimizer, scheduler=None, numpy_rng=np.random.default_rng(0),
            generators={"miner": torch.Generator()},
        )
    except CheckpointError:
        return 1
    epoch = next_epoch - 1
    ok = len(history.train) == epoch + 1 and config.get("miner") == "distance-weighted"
    ok = ok and epoch >= state.get("last_epoch", -1)
    state["last_epoch"] = epoch
    return 0 if ok else 1


def verify_synth(folder: Path, state: dict[str, Any]) -> int:
    """Images and shards present are complete; with ``resume`` the run is finished in-process and must
    equal the uninterrupted reference gallery (``state["reference"]``)."""
    from PIL import Image

    corrupt = 0
    for image in sorted((folder / "gallery" / "images").glob("*.jpg")):
        try:
            with Image.open(image) as handle:
                handle.load()
        except OSError:
            corrupt += 1
    for shard in (folder / "gallery" / ".parts").glob("*.npz"):
        try:
            with np.load(shard, allow_pickle=False) as archive:
                _ = [archive[name] for name in archive.files]
        except Exception:
            corrupt += 1
    if state.get("finished") and not state.get("resume"):
        shutil.rmtree(folder / "gallery")  # finished before the kill: start afresh to catch it mid-work
        return corrupt
    if state.get("resume"):
        from posebrowser.data.loading import open_gallery
        from posebrowser.synth.generate import generate_gallery

        generate_gallery(folder / "gallery", SYNTH_COUNT, seed=SYNTH_SEED, size=SYNTH_SIZE, workers=1)
        gallery = open_gallery(folder / "gallery", verify=True)
        reference = state.get("reference")
        if reference is not None and gallery_digest(folder / "gallery") != reference:
            corrupt += 1
        state["resumed"] = state.get("resumed", 0) + 1
        assert len(gallery) == SYNTH_COUNT
    return corrupt


def gallery_digest(root: Path) -> str:
    """sha256 of a gallery's annotation arrays and image bytes (not the manifest's timestamps)."""
    digest = hashlib.sha256()
    with np.load(root / "annotations.npz", allow_pickle=False) as archive:
        for name in sorted(archive.files):
            digest.update(name.encode() + np.ascontiguousarray(archive[name]).tobytes())
    for image in sorted((root / "images").glob("*")):
        digest.update(image.read_bytes())
    return digest.hexdigest()


VERIFIERS: dict[str, Callable[[Path, dict[str, Any]], int]] = {
    "atomic_write_bytes": verify_atomic_bytes, "save_annotations": verify_annotations,
    "settings": verify_settings, "session": verify_session, "embedding_cache": verify_cache,
    "training_checkpoint": verify_training, "synth_generator": verify_synth,
}


def serve(writer: str, folder: Path) -> None:
    """The fork server (see the module docstring)."""
    importlib.import_module(WRITER_MODULES[writer])
    if writer == "training_checkpoint":
        importlib.import_module("torch")
    print("server-ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "go":
            break
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                print(f"ready {os.getpid()}", flush=True)
                WRITERS[writer](folder)
            except BaseException as error:
                print(f"error {error!r}", file=sys.stderr, flush=True)
                code = 1
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        print(f"done {status}", flush=True)


if __name__ == "__main__":
    serve(sys.argv[1], Path(sys.argv[2]))
