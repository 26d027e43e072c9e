"""Robust image decoding: any common file in, an RGB ``PIL.Image`` out, or a typed error.

:func:`decode_image` is the only place posebrowser turns image bytes into pixels. It

* honours the EXIF orientation tag (phone photos come out upright),
* converts every colour mode to 8-bit RGB: grayscale, 1-bit, palette, CMYK, 16-bit and 32-bit integer,
  float; images with transparency (RGBA, LA, palette + transparency) are composited over
  :data:`BACKGROUND` (white),
* refuses decompression bombs (more than :data:`MAX_PIXELS` decoded pixels) without touching PIL's
  global ``Image.MAX_IMAGE_PIXELS``,
* decodes JPEGs directly at a reduced scale when a small ``size`` is asked for (``Image.draft``),
* raises :class:`~posebrowser.errors.CorruptFileError` naming the file for empty, truncated or
  non-image files, and :class:`~posebrowser.errors.DataError` for a missing file.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from posebrowser.errors import CorruptFileError, DataError

#: File-name suffixes (lower case) treated as images when scanning folders.
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
)
#: Largest number of pixels (width × height, after JPEG draft scaling) that will be decoded.
MAX_PIXELS = 40_000_000
#: RGB colour that transparent pixels are composited over.
BACKGROUND: tuple[int, int, int] = (255, 255, 255)

_DECODE_ERRORS = (
    OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error, IndexError, TypeError,
    KeyError, Image.DecompressionBombError,
)

ImageSource = str | Path | bytes


def is_image_file(path: str | Path) -> bool:
    """True when ``path`` has one of :data:`IMAGE_EXTENSIONS` (case-insensitive)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def decode_image(
    source: ImageSource, size: int | None = None, *, max_pixels: int = MAX_PIXELS
) -> Image.Image:
    """Decode an image file or its bytes into an upright 8-bit RGB image.

    Args:
        source: a file path, or the encoded bytes of an image.
        size: when given, the image is shrunk (never enlarged) so that its longer side is at most
            ``size`` pixels, keeping the aspect ratio. ``None`` keeps the stored size.
        max_pixels: refuse images with more decoded pixels than this (decompression-bomb guard).

    Returns:
        A fully loaded ``PIL.Image`` in mode ``"RGB"`` (uint8 per channel), independent of the file.

    Raises:
        DataError: the path does not exist or is not a file.
        CorruptFileError: the file is empty, truncated, not an image, or too large to decode.
    """
    if size is not None and size < 1:
        raise ValueError(f"size must be a positive number of pixels, got {size}")
    label: str | Path
    if isinstance(source, bytes):
        label, data = "<image bytes>", source
        if not data:
            raise CorruptFileError("The image data is empty (0 bytes).")
    else:
        path = Path(source)
        label = path
        if not path.is_file():
            raise DataError("The image file does not exist.", path=path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise DataError(f"The image file cannot be read ({exc.strerror or exc}).", path=path) from exc
        if not data:
            raise CorruptFileError("The image file is empty (0 bytes).", path=path)
    try:
        return _decode(data, size, max_pixels, label)
    except CorruptFileError:
        raise
    except MemoryError as exc:
        raise CorruptFileError("The image is too large to decode in memory.", path=_as_path(label)) from exc
    except _DECODE_ERRORS as exc:
        raise CorruptFileError(_describe(exc), path=_as_path(label)) from exc


def _as_path(label: str | Path) -> Path | None:
    return label if isinstance(label, Path) else None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, UnidentifiedImageError):
        return "The file is not an image posebrowser can read (unknown or damaged format)."
    if isinstance(exc, Image.DecompressionBombError):
        return "The image is too large to decode safely (possible decompression bomb)."
    text = str(exc)
    if "truncated" in text.lower() or isinstance(exc, EOFError | struct.error | zlib.error):
        return "The image file is truncated or damaged."
    return f"The image cannot be decoded ({type(exc).__name__}: {text})."


def _decode(data: bytes, size: int | None, max_pixels: int, label: str | Path) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        if size is not None and image.format == "JPEG":
            image.draft("RGB", (size, size))
        width, height = image.size
        if width < 1 or height < 1:
            raise CorruptFileError("The image has no pixels.", path=_as_path(label))
        if width * height > max_pixels:
            raise CorruptFileError(
                f"The image is too large to decode safely ({width}×{height} pixels; the limit is "
                f"{max_pixels / 1e6:.0f} megapixels).",
                path=_as_path(label),
            )
        image.load()
        rgb = _to_rgb(_upright(image))
    if size is not None and max(rgb.size) > size:
        rgb.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return rgb


def _upright(image: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; a damaged EXIF block is ignored rather than losing the pixels."""
    try:
        upright = ImageOps.exif_transpose(image)
    except (*_DECODE_ERRORS, AttributeError):
        return image
    return upright if upright is not None else image


def _to_rgb(image: Image.Image) -> Image.Image:
    """Convert any PIL mode to 8-bit RGB; transparency is composited over :data:`BACKGROUND`."""
    mode = image.mode
    if mode == "RGB":
        return image.copy()
    if mode.startswith("I") or mode == "F":
        return Image.fromarray(_wide_to_uint8(image), mode="L").convert("RGB")
    transparent = mode in ("P", "L", "RGB") and "transparency" in image.info
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or transparent:
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    # CMYK (PIL already undoes Adobe's inverted JPEG CMYK), YCbCr, 1-bit, L, P without transparency.
    return image.convert("RGB")


def _wide_to_uint8(image: Image.Image) -> np.ndarray:
    """Map a 16/32-bit integer or float single-channel image to uint8 (H, W).

    16-bit data (any value above 255) is divided by 257 so that 65535 → 255; float data in [0, 1] is
    scaled by 255; everything else is clipped to [0, 255].
    """
    values = np.asarray(image, dtype=np.float64)
    finite = values[np.isfinite(values)]
    peak = float(finite.max()) if finite.size else 0.0
    if image.mode == "F" and peak <= 1.0:
        values = values * 255.0
    elif image.mode.startswith("I;16") or peak > 255.0:
        values = values / 257.0
    values = np.nan_to_num(values, nan=0.0, posinf=255.0, neginf=0.0)
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)
