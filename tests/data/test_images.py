"""decode_image: every colour mode to RGB, orientation, sizes, and typed errors for bad files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from posebrowser.data.images import BACKGROUND, MAX_PIXELS, decode_image
from posebrowser.errors import CorruptFileError, DataError

from .conftest import gradient, png_bytes, write_image


def encode(image: Image.Image, fmt: str, **save: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **save)
    return buffer.getvalue()


def test_rgb_png_round_trips_exactly(tmp_path: Path) -> None:
    path = write_image(tmp_path / "a.png", 30, 20, seed=4)
    out = decode_image(path)
    assert out.mode == "RGB" and out.size == (30, 20)
    np.testing.assert_array_equal(np.asarray(out), gradient(30, 20, 4))


def test_exif_orientation_is_applied() -> None:
    image = Image.fromarray(gradient(40, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise on display
    out = decode_image(encode(image, "JPEG", exif=exif.tobytes(), quality=95))
    assert out.size == (20, 40)
    expected = np.asarray(image.transpose(Image.Transpose.ROTATE_270)).astype(int)
    assert np.abs(np.asarray(out).astype(int) - expected).mean() < 8


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [("CMYK", "JPEG"), ("CMYK", "TIFF"), ("L", "PNG"), ("1", "PNG"), ("P", "PNG"), ("LA", "PNG"),
     ("I;16", "PNG"), ("I", "TIFF"), ("F", "TIFF"), ("RGBA", "WEBP")],
)
def test_modes_decode_to_rgb_of_same_size(mode: str, fmt: str) -> None:
    wide = {"I;16": np.uint16, "I": np.int32, "F": np.float32}
    if mode in wide:
        image = Image.fromarray(gradient(33, 17)[..., 0].astype(wide[mode]))
    else:
        image = Image.fromarray(gradient(33, 17)).convert(mode)
    out = decode_image(encode(image, fmt))
    assert out.mode == "RGB" and out.size == (33, 17)


def test_cmyk_colours_survive() -> None:
    image = Image.new("RGB", (8, 8), (200, 30, 40)).convert("CMYK")
    pixel = np.asarray(decode_image(encode(image, "TIFF")))[4, 4].astype(int)
    assert np.abs(pixel - [200, 30, 40]).max() <= 3


def test_sixteen_bit_values_are_scaled() -> None:
    gray = Image.fromarray(np.full((5, 7), 65535, dtype=np.uint16))
    assert np.asarray(decode_image(encode(gray, "PNG"))).min() == 255
    rows = np.zeros((4, 6, 3), dtype=">u2")
    rows[..., 0], rows[..., 1] = 65535, 32896
    data = png_bytes(6, 4, 16, 2, b"".join(b"\x00" + rows[y].tobytes() for y in range(4)))
    out = np.asarray(decode_image(data))
    assert out.shape == (4, 6, 3)
    np.testing.assert_array_equal(out[0, 0], [255, 128, 0])


def test_transparency_is_composited_over_background() -> None:
    rgba = np.zeros((6, 6, 4), dtype=np.uint8)
    rgba[..., 0] = 255
    rgba[:3, :, 3] = 255  # top half opaque red, bottom half fully transparent
    out = np.asarray(decode_image(encode(Image.fromarray(rgba), "PNG")))
    np.testing.assert_array_equal(out[0, 0], [255, 0, 0])
    np.testing.assert_array_equal(out[5, 0], BACKGROUND)
    palette = Image.new("P", (4, 4), 0)
    palette.putpalette([10, 20, 30] * 256)
    out = np.asarray(decode_image(encode(palette, "PNG", transparency=0)))
    np.testing.assert_array_equal(out[0, 0], BACKGROUND)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_size_bounds_the_longer_side(fmt: str) -> None:
    data = encode(Image.fromarray(gradient(400, 200)), fmt)
    out = decode_image(data, size=100)
    assert out.size == (100, 50) and out.mode == "RGB"
    assert decode_image(data, size=1000).size == (400, 200)  # never enlarged


def test_bytes_and_path_give_the_same_pixels(tmp_path: Path) -> None:
    path = write_image(tmp_path / "b.jpg", 50, 40, seed=2, quality=90)
    np.testing.assert_array_equal(np.asarray(decode_image(path)), np.asarray(decode_image(path.read_bytes())))


@pytest.mark.parametrize(
    ("name", "content"),
    [("empty.jpg", b""), ("text.jpg", b"this is not an image at all\n" * 4), ("junk.png", bytes(range(256)))],
)
def test_non_images_raise_corrupt_file_error_naming_the_file(
        tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(CorruptFileError) as info:
        decode_image(path)
    assert name in str(info.value) and info.value.path == path


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_file_raises_corrupt_file_error(tmp_path: Path, fmt: str) -> None:
    rng = np.random.default_rng(0)
    noisy = Image.fromarray(rng.integers(0, 256, size=(64, 64, 3), dtype=np.uint8))
    data = encode(noisy, fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match="cut"):
        decode_image(path)
    with pytest.raises(CorruptFileError):
        decode_image(path, size=16)


def test_missing_file_raises_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        decode_image(tmp_path / "nope.png")


def test_decompression_bombs_are_refused_without_touching_pil_globals(tmp_path: Path) -> None:
    before = Image.MAX_IMAGE_PIXELS
    over_our_limit = tmp_path / "big.png"
    over_our_limit.write_bytes(png_bytes(8000, 6000, 1, 0, b"\x00"))  # 48 MP, a few bytes on disk
    assert MAX_PIXELS < 8000 * 6000
    with pytest.raises(CorruptFileError, match="too large"):
        decode_image(over_our_limit)
    with pytest.raises(CorruptFileError, match="too large"):
        decode_image(png_bytes(50000, 50000, 1, 0, b"\x00"))  # beyond PIL's own hard limit
    with pytest.raises(CorruptFileError, match="too large"):
        decode_image(encode(Image.new("RGB", (40, 40)), "PNG"), max_pixels=1000)
    assert before == Image.MAX_IMAGE_PIXELS


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_damaged_exif_does_not_lose_the_pixels() -> None:
    data = encode(Image.new("RGB", (40, 30), (1, 2, 3)), "JPEG",
                  exif=b"Exif\x00\x00II*\x00\x08\x00\x00\x00\xff\xff")
    assert decode_image(data).size == (40, 30)
