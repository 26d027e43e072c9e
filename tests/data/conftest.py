"""Fixtures for the data tests: tiny galleries in every supported layout, built by hand."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from posebrowser.data import gallery_format as fmt

THESIS_DIRS = ("abseiling/clip_a", "playing basketball/clip b", "tai chi/x y z")


def png_bytes(width: int, height: int, bit_depth: int, color_type: int, raw_rows: bytes) -> bytes:
    """Hand-made PNG (lets tests write 16-bit RGB and header-only decompression bombs)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw_rows))
            + chunk(b"IEND", b""))


def gradient(width: int, height: int, seed: int = 0) -> np.ndarray:
    """(H, W, 3) uint8 test picture that differs per seed."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([(x * 7 + seed * 31) % 256, (y * 5 + seed * 17) % 256, (x + y + seed) % 256],
                    axis=-1).astype(np.uint8)


def write_image(path: Path, width: int = 24, height: int = 16, seed: int = 0, **save: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(gradient(width, height, seed)).save(path, **save)
    return path


@pytest.fixture
def posebrowser_arrays(rng: np.random.Generator) -> dict[str, np.ndarray]:
    n, b = 5, 4
    return {
        "files": np.array([f"images/{i:03d}.jpg" if i % 2 else f"images/{i:03d}.png" for i in range(n)]),
        "ids": np.array([10, 11, 12, 20, 21], dtype=np.int64),
        "split": np.array([0, 0, 1, 2, 2], dtype=np.uint8),
        "posebits": rng.integers(-1, 2, size=(n, b)).astype(np.int8),
        "posebit_names": np.array([f"bit_{k}" for k in range(b)]),
        "joints_3d": rng.normal(size=(n, 16, 3)).astype(np.float32),
        "joints_2d": rng.uniform(0, 24, size=(n, 16, 2)).astype(np.float32),
        "visibility": rng.random((n, 16)) > 0.3,
        "camera_rotation": np.tile(np.eye(3, dtype=np.float32), (n, 1, 1)),
        "camera_translation": rng.normal(size=(n, 3)).astype(np.float32),
        "camera_focal": np.full(n, 120.0, dtype=np.float32),
        "body_id": np.arange(n, dtype=np.int16),
        "source": np.array(["clip:walk:1", "perturb", "random", "clip:run:2", "random"]),
    }


@pytest.fixture
def make_posebrowser_gallery(tmp_path: Path, posebrowser_arrays: dict[str, np.ndarray]
                             ) -> Callable[..., Path]:
    def make(name: str = "tiny", **overrides: Any) -> Path:
        root = tmp_path / name
        arrays = {**posebrowser_arrays, **overrides}
        for i, rel in enumerate(arrays["files"]):
            write_image(root / str(rel), seed=i)
        fmt.save_annotations(root / fmt.ANNOTATIONS_NAME, arrays)
        fmt.write_manifest(root, name="Tiny gallery", image_size=24, posebit_version="test-1", seed=3)
        return root

    return make


@pytest.fixture
def make_thesis_dataset(tmp_path: Path, rng: np.random.Generator) -> Callable[..., dict[str, Any]]:
    """Thesis layout: train 3 rows, valtest ``n_valtest`` rows; images only for the first rows."""

    def make(n_valtest: int = 4, with_questions: bool = True, image_side: int = 144,
             coords_frame: int = 288) -> dict[str, Any]:
        root = tmp_path / "thesis data"
        rows = {"train": 3, "valtest": n_valtest}
        expected: dict[str, Any] = {"files": [], "j2d": [], "j3d": [], "bits": []}
        for split, n in rows.items():
            lines = []
            for i in range(n):
                clip = THESIS_DIRS[i % len(THESIS_DIRS)] + f"_{split}{i}"
                frame = f"{i + 1:05d}"
                tokens = [f"f_{frame}_0"] + [f"f_{int(frame) + k:05d}_{k}" for k in range(1, 16)]
                lines.append(" ".join([clip, *tokens]))
                rel = f"images_single/{clip}/{frame}.png"
                expected["files"].append(rel)
                if i < 4:
                    write_image(root / rel, image_side, image_side, seed=i)
            (root / "split").mkdir(parents=True, exist_ok=True)
            (root / "split" / f"kinetics_frames_{split}.txt").write_text("\n".join(lines) + "\n")
            j2d = rng.uniform(0, coords_frame, size=(n, 2, 2, 16)).astype(np.float32)
            j3d = rng.normal(size=(n, 2, 3, 16)).astype(np.float32)
            (root / "annotations/2d").mkdir(parents=True, exist_ok=True)
            (root / "annotations/3d").mkdir(parents=True, exist_ok=True)
            np.save(root / f"annotations/2d/{split}.npy", j2d)
            np.save(root / f"annotations/3d/{split}_rescaled.npy", j3d)
            expected["j2d"].append(np.transpose(j2d[:, 0], (0, 2, 1)))
            expected["j3d"].append(np.transpose(j3d[:, 0], (0, 2, 1)))
            ham = root / "annotations/hamming"
            ham.mkdir(parents=True, exist_ok=True)
            groups = []
            for group, width in (("angles", 2), ("distances", 3), ("reldistances", 2)):
                bits = rng.integers(0, 2, size=(n, width)).astype(np.uint8)
                np.save(ham / f"{split}_{group}_0.npy", bits)
                groups.append(bits)
            expected["bits"].append(np.concatenate(groups, axis=1))
        if with_questions:
            np.save(ham / "questions_angles.npy", np.array(["angle: l_elbw", "angle: r_elbw"]))
            np.save(ham / "questions_distances.npy",
                    np.array(["distance: l_wrst <-> hd", "distance: r_elbw <-> r_hp", "distance: x <-> y"]))
            np.save(ham / "questions_reldistances.npy",
                    np.array(["beyond: a -> b", "beyond: r_wrst -> r_shldr", "beyond: c -> d",
                              "beyond: l_wrst -> neck"]))
            np.save(ham / "keep_bits_idx_reldistance.npy", np.array([1, 3]))
        expected = {k: (v if k == "files" else np.concatenate(v)) for k, v in expected.items()}
        return {"root": root, "rows": rows, **expected}

    return make
