"""A corpus of hand-made bad (and awkward but valid) input files, generated on the fly.

Every case is a :class:`Case`: a category, a name, a reader (a callable that makes posebrowser read the
file the way the app does) and the expected outcome — ``"ok"`` (must be usable), ``"refused"`` (must
raise a typed PosebrowserError) or ``"either"``. ``check`` (optional) verifies the value returned.
Used by ``test_trust_corpus.py`` and ``benchmarks/trust_report.py``.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

IMAGE_COUNT = 3


@dataclass(frozen=True)
class Case:
    category: str
    name: str
    read: Callable[[], Any]
    expect: str = "either"
    check: Callable[[Any], None] | None = None


# ----------------------------------------------------------------------------------------------- images
def encode(image: Image.Image, fmt: str, **options: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def sample_image(width: int = 40, height: int = 24, mode: str = "RGB") -> Image.Image:
    """A small deterministic gradient image in ``mode``."""
    x = np.linspace(0, 255, width, dtype=np.float64)[None, :]
    y = np.linspace(0, 255, height, dtype=np.float64)[:, None]
    rgb = np.stack([x + 0 * y, y + 0 * x, (x + y) / 2], axis=-1).astype(np.uint8)
    return Image.fromarray(rgb).convert(mode)


def exif_rotated_jpeg(orientation: int = 6) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(sample_image(40, 24), "JPEG", exif=exif.tobytes())


def sixteen_bit_png() -> bytes:
    values = (np.arange(24 * 40, dtype=np.uint32).reshape(24, 40) * 67).astype(np.uint16)
    return encode(Image.fromarray(values), "PNG")


def palette_with_transparency() -> bytes:
    image = sample_image().convert("P")
    return encode(image, "PNG", transparency=0)


def bomb_png(side: int = 9000) -> bytes:
    """A 1-bit PNG of side×side pixels (81 M pixels > the 40 M limit) that compresses to a few kB."""
    return encode(Image.new("1", (side, side), 0), "PNG")


def image_files() -> dict[str, tuple[bytes, str, str, tuple[int, int] | None]]:
    """name → (bytes, file suffix, expected outcome, expected RGB size or None)."""
    good_png = encode(sample_image(), "PNG")
    good_jpeg = encode(sample_image(), "JPEG")
    return {
        "zero_bytes": (b"", ".png", "refused", None),
        "truncated_jpeg": (good_jpeg[: len(good_jpeg) // 2], ".jpg", "refused", None),
        "truncated_png": (good_png[: len(good_png) // 2], ".png", "refused", None),
        "header_only_png": (good_png[:33], ".png", "refused", None),
        "text_named_png": (b"this is not an image\n" * 20, ".png", "refused", None),
        "png_named_jpg": (good_png, ".jpg", "ok", (40, 24)),
        "random_bytes": (np.random.default_rng(1).bytes(4096), ".jpg", "refused", None),
        "sixteen_bit": (sixteen_bit_png(), ".png", "ok", (40, 24)),
        "cmyk_jpeg": (encode(sample_image(mode="CMYK"), "JPEG"), ".jpg", "ok", (40, 24)),
        "grayscale": (encode(sample_image(mode="L"), "PNG"), ".png", "ok", (40, 24)),
        "one_bit": (encode(sample_image(mode="1"), "PNG"), ".png", "ok", (40, 24)),
        "rgba": (encode(sample_image(mode="RGBA"), "PNG"), ".png", "ok", (40, 24)),
        "palette_transparent": (palette_with_transparency(), ".png", "ok", (40, 24)),
        "exif_rotated": (exif_rotated_jpeg(6), ".jpg", "ok", (24, 40)),
        "gif": (encode(sample_image().convert("P"), "GIF"), ".gif", "ok", (40, 24)),
        "webp": (encode(sample_image(), "WEBP"), ".webp", "ok", (40, 24)),
        "tiff_float": (encode(Image.fromarray(np.full((24, 40), 0.5, np.float32)), "TIFF"), ".tif",
                       "ok", (40, 24)),
        "bmp_truncated": (encode(sample_image(), "BMP")[:200], ".bmp", "refused", None),
        "decompression_bomb": (bomb_png(), ".png", "refused", None),
    }


def image_cases(folder: Path) -> list[Case]:
    from posebrowser.data.images import decode_image

    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    for name, (data, suffix, expect, size) in image_files().items():
        path = folder / f"{name}{suffix}"
        path.write_bytes(data)

        def check(image: Any, size: tuple[int, int] | None = size) -> None:
            assert image.mode == "RGB", image.mode
            assert size is None or image.size == size, (image.size, size)

        cases.append(Case("image", f"{name} (file)", lambda p=path: decode_image(p), expect, check))
        cases.append(Case("image", f"{name} (bytes)", lambda d=data: decode_image(d, 32), expect))
    cases.append(Case("image", "missing file", lambda: decode_image(folder / "nope.png"), "refused"))
    cases.append(Case("image", "a folder", lambda: decode_image(folder), "refused"))
    return cases


def npy_claiming(shape: tuple[int, ...], dtype: str = "<f4") -> bytes:
    """A .npy whose header claims ``shape`` (hundreds of TiB) but which holds 64 bytes: a memory bomb."""
    from numpy.lib import format as npy_format

    buffer = io.BytesIO()
    npy_format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue() + b"\0" * 64


# ------------------------------------------------------------------------------------- image folders
def make_image_folder(folder: Path, count: int = IMAGE_COUNT) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(count):
        name = f"person_{i}.png"
        (folder / name).write_bytes(encode(sample_image(32 + i, 32), "PNG"))
        names.append(name)
    return names


def metadata_texts(names: list[str]) -> dict[str, tuple[str | bytes, str]]:
    """name → (metadata.csv content, expected outcome of opening the folder)."""
    a, b, c = names[:3]
    return {
        "valid": (f"file,left_knee_bent,split\n{a},1,train\n{b},0,\n{c},,test\n", "ok"),
        "empty": ("", "refused"),
        "header_only": ("file,left_knee_bent\n", "ok"),
        "bad_value": (f"file,x\n{a},2\n", "refused"),
        "word_value": (f"file,x\n{a},yes\n", "refused"),
        "too_many_cells": (f"file,x\n{a},1,0\n", "refused"),
        "too_few_cells": (f"file,x,y\n{a},1\n", "refused"),
        "unknown_image": ("file,x\nghost.png,1\n", "refused"),
        "duplicate_row": (f"file,x\n{a},1\n{a},0\n", "refused"),
        "duplicate_column": (f"file,x,x\n{a},1,0\n", "refused"),
        "unnamed_column": (f"file,,x\n{a},1,0\n", "refused"),
        "escaping_path": ("file,x\n../../etc/passwd,1\n", "refused"),
        "absolute_path": ("file,x\n/etc/passwd,1\n", "refused"),
        "bad_split": (f"file,split\n{a},holdout\n", "refused"),
        "not_utf8": (b"file,x\n\xff\xfe\xfa,1\n", "refused"),
        "nul_bytes": (f"file,x\n{a},1\x00\n", "refused"),
        "unterminated_quote": (f'file,x\n"{a},1\n', "refused"),
        "blank_lines": (f"file,x\n\n{a},1\n\n", "ok"),
        "bom": (f"\ufefffile,x\n{a},1\n", "ok"),
    }


def coco_documents(names: list[str]) -> dict[str, tuple[Any, str]]:
    """name → (COCO json document or raw text, expected outcome of opening the folder)."""
    keypoints = [float(v) for j in range(17) for v in (10 + j, 5 + 2 * j, 2)]
    image = {"id": 1, "file_name": names[0]}
    return {
        "valid": ({"images": [image], "annotations": [{"image_id": 1, "keypoints": keypoints}]}, "ok"),
        "short_keypoints": ({"images": [image], "annotations": [{"image_id": 1, "keypoints": [1, 2]}]},
                            "refused"),
        "string_keypoints": ({"images": [image], "annotations": [{"image_id": 1, "keypoints": "abc"}]},
                             "refused"),
        "nan_keypoints": ({"images": [image], "annotations": [
            {"image_id": 1, "keypoints": [float("nan")] * 51}]}, "either"),
        "image_without_id": ({"images": [{"file_name": names[0]}], "annotations": []}, "refused"),
        "image_not_dict": ({"images": [5], "annotations": []}, "refused"),
        "unknown_image": ({"images": [{"id": 1, "file_name": "ghost.png"}], "annotations": []}, "ok"),
        "escaping_file": ({"images": [{"id": 1, "file_name": "../x.png"}], "annotations": []}, "either"),
        "unhashable_id": ({"images": [{"id": [1], "file_name": names[0]}], "annotations": []}, "either"),
        "annotation_not_dict": ({"images": [image], "annotations": ["x", None]}, "ok"),
        "crowd_only": ({"images": [image], "annotations": [
            {"image_id": 1, "keypoints": keypoints, "iscrowd": 1}]}, "ok"),
        "truncated_json": ('{"images": [{"id": 1, "file_na', "ok"),
        "not_utf8": (b'{"images": [], "annotations": [], "x": "\xff"}', "ok"),
        "area_string": ({"images": [image], "annotations": [
            {"image_id": 1, "keypoints": keypoints, "area": "big"}]}, "either"),
    }


def folder_cases(folder: Path) -> list[Case]:
    from posebrowser.data.loading import open_gallery

    cases: list[Case] = []
    for name, (text, expect) in metadata_texts(["person_0.png", "person_1.png", "person_2.png"]).items():
        root = folder / f"csv_{name}"
        make_image_folder(root)
        (root / "metadata.csv").write_bytes(text if isinstance(text, bytes) else text.encode())
        cases.append(Case("metadata.csv", name, lambda r=root: open_gallery(r), expect))
    for name, (document, expect) in coco_documents(["person_0.png"]).items():
        root = folder / f"coco_{name}"
        make_image_folder(root)
        raw = document if isinstance(document, str | bytes) else json.dumps(document)
        (root / "keypoints.json").write_bytes(raw if isinstance(raw, bytes) else raw.encode())
        cases.append(Case("coco json", name, lambda r=root: open_gallery(r), expect))
    empty = folder / "no_images"
    empty.mkdir(parents=True, exist_ok=True)
    (empty / "readme.txt").write_text("nothing here")
    cases.append(Case("image folder", "no images", lambda: open_gallery(empty), "refused"))
    cases.append(Case("image folder", "missing folder", lambda: open_gallery(folder / "nowhere"), "refused"))
    return cases


# ------------------------------------------------------------------------- posebrowser gallery format
def write_gallery(root: Path, arrays: dict[str, np.ndarray] | None = None, manifest: Any = None,
                  *, count: int = IMAGE_COUNT) -> Path:
    """A valid posebrowser-format gallery of ``count`` images, with ``arrays`` / ``manifest`` overridden."""
    from posebrowser.data import gallery_format as fmt

    names = make_image_folder(root / "images", count)
    base: dict[str, np.ndarray] = {
        "files": np.array([f"images/{n}" for n in names]),
        "ids": np.arange(count, dtype=np.int64),
        "split": np.zeros(count, np.uint8),
        "posebits": np.ones((count, 2), np.int8),
        "posebit_names": np.array(["a", "b"]),
    }
    base.update(arrays or {})
    buffer = io.BytesIO()
    np.savez(buffer, **base)
    (root / fmt.ANNOTATIONS_NAME).write_bytes(buffer.getvalue())
    document = manifest if manifest is not None else {
        "format": fmt.FORMAT_NAME, "format_version": 1, "count": count, "content_hash": "x"}
    (root / fmt.MANIFEST_NAME).write_text(document if isinstance(document, str) else json.dumps(document))
    return root


def gallery_cases(folder: Path) -> list[Case]:
    from posebrowser.data.loading import open_gallery

    n = IMAGE_COUNT
    good_manifest = {"format": "posebrowser-gallery", "format_version": 1, "count": n, "content_hash": "x"}
    variants: dict[str, tuple[dict[str, Any], Any, str]] = {
        "valid": ({}, None, "ok"),
        "object_array_pickle": ({"source": np.array([{"x": 1}] * n, dtype=object)}, None, "refused"),
        "ids_wrong_length": ({"ids": np.arange(n + 1)}, None, "refused"),
        "duplicate_ids": ({"ids": np.zeros(n, np.int64)}, None, "refused"),
        "posebits_wrong_rows": ({"posebits": np.ones((n + 2, 2), np.int8)}, None, "refused"),
        "posebits_values": ({"posebits": np.full((n, 2), 7, np.int8)}, None, "either"),
        "posebit_names_wrong_count": ({"posebit_names": np.array(["a"])}, None, "refused"),
        "joints_wrong_shape": ({"joints_3d": np.zeros((n, 15, 3), np.float32)}, None, "refused"),
        "joints_strings": ({"joints_2d": np.full((n, 16, 2), "x")}, None, "refused"),
        "split_out_of_range": ({"split": np.full(n, 9, np.uint8)}, None, "refused"),
        "files_numbers": ({"files": np.arange(n)}, None, "refused"),
        "files_escape": ({"files": np.array(["../../etc/passwd"] * n)}, None, "refused"),
        "files_absolute": ({"files": np.array(["/etc/passwd"] * n)}, None, "refused"),
        "count_mismatch": ({}, {**good_manifest, "count": n + 5}, "refused"),
        "future_version": ({}, {**good_manifest, "format_version": 99}, "refused"),
        "format_bool_version": ({}, {**good_manifest, "format_version": True}, "refused"),
        "manifest_not_json": ({}, "{ not json", "refused"),
        "manifest_list": ({}, "[1, 2]", "refused"),
        "manifest_missing_fields": ({}, {"format": "posebrowser-gallery"}, "refused"),
        "manifest_foreign": ({}, {**good_manifest, "format": "other"}, "refused"),
        "hash_not_string": ({}, {**good_manifest, "content_hash": 5}, "refused"),
    }
    cases: list[Case] = []
    for name, (arrays, manifest, expect) in variants.items():
        root = write_gallery(folder / f"gallery_{name}", arrays, manifest)
        cases.append(Case("gallery annotations", name, lambda r=root: open_gallery(r), expect))
    broken = {
        "truncated_npz": lambda data: data[: len(data) // 2],
        "zero_byte_npz": lambda data: b"",
        "text_npz": lambda data: b"hello",
        "flipped_npz": lambda data: data[:100] + bytes(255 - b for b in data[100:400]) + data[400:],
    }
    for name, damage in broken.items():
        root = write_gallery(folder / f"gallery_{name}")
        path = root / "annotations.npz"
        path.write_bytes(damage(path.read_bytes()))
        cases.append(Case("gallery annotations", name, lambda r=root: open_gallery(r), "refused"))
    zip_bomb = write_gallery(folder / "gallery_npz_not_npy")
    with zipfile.ZipFile(zip_bomb / "annotations.npz", "w") as archive:
        archive.writestr("files.npy", b"\x93NUMPY garbage")
    cases.append(Case("gallery annotations", "npz_bad_member", lambda: open_gallery(zip_bomb), "refused"))
    memory_bomb = write_gallery(folder / "gallery_npz_memory_bomb")
    with zipfile.ZipFile(memory_bomb / "annotations.npz", "w") as archive:
        archive.writestr("files.npy", npy_claiming((10**12,), "<U10"))
    cases.append(Case("gallery annotations", "npz_member_claims_36_TiB", lambda: open_gallery(memory_bomb),
                      "refused"))
    return cases


# ----------------------------------------------------------------------------------- thesis layout
FRAMES = " ".join(f"img_{k:05d}_x" for k in range(16))


def write_thesis(root: Path, rows: int = 2, split_text: str | bytes | None = None,
                 arrays: dict[str, Any] | None = None) -> Path:
    """A tiny thesis-layout dataset (split file + 2d/3d joints + hamming bits), with overrides."""
    (root / "split").mkdir(parents=True, exist_ok=True)
    lines = "".join(f"clip {r}/ {FRAMES.replace('img_00000', f'img_{r:05d}')}\n" for r in range(rows))
    text = split_text if split_text is not None else lines
    (root / "split" / "kinetics_frames_train.txt").write_bytes(text if isinstance(text, bytes) else
                                                              text.encode())
    for r in range(rows):
        (root / "images_single" / f"clip {r}").mkdir(parents=True, exist_ok=True)
        (root / "images_single" / f"clip {r}" / f"{r:05d}.png").write_bytes(encode(sample_image(), "PNG"))
    defaults: dict[str, Any] = {
        "2d/train.npy": np.zeros((rows, 16, 2, 16), np.float32),
        "3d/train_rescaled.npy": np.zeros((rows, 16, 3, 16), np.float32),
        "hamming/train_angles_0.npy": np.ones((rows, 3), np.uint8),
        "hamming/train_distances_0.npy": np.ones((rows, 2), np.uint8),
        "hamming/train_reldistances_0.npy": np.zeros((rows, 2), np.uint8),
    }
    defaults.update(arrays or {})
    for relative, value in defaults.items():
        path = root / "annotations" / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(value, bytes):
            path.write_bytes(value)
        elif value is not None:
            np.save(path, value, allow_pickle=True)
    return root


def thesis_cases(folder: Path) -> list[Case]:
    from posebrowser.data.loading import open_gallery

    variants: dict[str, tuple[Any, dict[str, Any], str]] = {
        "valid": (None, {}, "ok"),
        "too_few_tokens": ("clip 0 img_1_x img_2_x\n", {}, "refused"),
        "no_frame_part": ("clip0 " + " ".join(["frame"] * 16) + "\n", {}, "refused"),
        "escaping_clip": ("../../.. " + FRAMES + "\n", {}, "refused"),
        "not_utf8": (b"\xff\xfe " + FRAMES.encode() + b"\n", {}, "refused"),
        "empty_split": ("", {}, "either"),
        "rows_mismatch": (None, {"2d/train.npy": np.zeros((5, 16, 2, 16), np.float32)}, "refused"),
        "joints_wrong_shape": (None, {"3d/train_rescaled.npy": np.zeros((2, 3, 15), np.float32)}, "refused"),
        "joints_strings": (None, {"2d/train.npy": np.full((2, 2, 16), "a")}, "refused"),
        "pickled_array": (None, {"2d/train.npy": np.array([{"x": 1}], dtype=object)}, "refused"),
        "truncated_npy": (None, {"3d/train_rescaled.npy": b"\x93NUMPY\x01\x00"}, "refused"),
        "npy_claims_373_TiB": (None, {"2d/train.npy": npy_claiming((200_000_000_000, 16, 2, 16))}, "refused"),
        "bits_not_binary": (None, {"hamming/train_angles_0.npy": np.full((2, 3), 5, np.int32)}, "refused"),
        "bits_1d": (None, {"hamming/train_distances_0.npy": np.ones(2, np.uint8)}, "refused"),
        "one_group_missing": (None, {"hamming/train_reldistances_0.npy": None}, "refused"),
        "questions_pickled": (None, {"hamming/questions_angles.npy": np.array([object()], dtype=object)},
                              "ok"),
    }
    cases: list[Case] = []
    for name, (split_text, arrays, expect) in variants.items():
        root = write_thesis(folder / f"thesis_{name}", split_text=split_text, arrays=arrays)
        cases.append(Case("thesis layout", name, lambda r=root: open_gallery(r), expect))
    return cases


# ------------------------------------------------------------------------------------------ queries
BAD_QUERIES = (
    "", "   ", "[", "]", "[img]", "[img -1]", "[img 99999999999999999999999]", "2*", "2*[img 1",
    "[img 1] +", "[img 1] [img 2]", "[img 1]{bogus}", "[no such posebit]", "[=1]", "[,]",
    "[file:]", "1e999*[img 1]", "nan*[img 1]", "[img 1] * 3", "+-[img 1]", "[img 1]{mask}",
    "\x00", "[" * 5000, "[img 1]" + " + [img 1]" * 300, "0*[img 1]", "-[img 1] - [img 1]",
)
