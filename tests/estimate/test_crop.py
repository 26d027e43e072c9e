"""The gallery framing of a photo (crop square, pixels, stored file) and the photo analysis the app runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from posebrowser.errors import CorruptFileError, DataError
from posebrowser.estimate.cache import EstimateCache, content_key
from posebrowser.estimate.crop import (
    GALLERY_FILL,
    MAX_CROP_SIDE,
    CropBox,
    crop_box,
    crop_image,
    crop_pixels,
    person_fill,
    write_person_crop,
)
from posebrowser.estimate.estimator import PoseEstimator, rgb_array
from posebrowser.estimate.photo import analyse_photo, estimated_conditions
from posebrowser.estimate.result import NoPersonFound, PersonBox, PoseEstimate
from posebrowser.synth.options import DEFAULT_OPTIONS

from .conftest import skimage_photo


def _random_box(rng: np.random.Generator) -> PersonBox:
    x0, y0 = rng.uniform(-20, 300, 2)
    width, height = rng.uniform(1, 400, 2)
    return PersonBox(float(x0), float(y0), float(x0 + width), float(y0 + height))


def test_the_fill_is_the_middle_of_the_gallery_range() -> None:
    low, high = DEFAULT_OPTIONS.fill
    assert pytest.approx((low + high) / 2) == GALLERY_FILL


@pytest.mark.parametrize("fill", [GALLERY_FILL, 0.5, 1.0])
def test_the_square_is_centred_on_the_box_and_the_box_spans_the_fill(
    rng: np.random.Generator, fill: float
) -> None:
    for _ in range(200):
        box = _random_box(rng)
        square = crop_box(box, fill)
        assert square.x1 - square.x0 == square.y1 - square.y0 == square.side  # square
        assert abs((square.x0 + square.x1) / 2 - (box.x0 + box.x1) / 2) <= 0.5  # centred (rounding)
        assert abs((square.y0 + square.y1) / 2 - (box.y0 + box.y1) / 2) <= 0.5
        # the longer side spans the fill, up to rounding the side up to whole pixels
        assert fill - 1.0 / square.side - 1e-9 <= person_fill(box, square) <= fill + 1e-9


def test_a_bad_fill_is_refused() -> None:
    with pytest.raises(ValueError, match="fill"):
        crop_box(PersonBox(0, 0, 10, 10), 0.0)


def test_crop_pixels_agree_with_a_pixel_by_pixel_oracle(rng: np.random.Generator) -> None:
    rgb = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    mean = rgb.reshape(-1, 3).mean(axis=0).round().astype(np.uint8)
    squares = [
        CropBox(-10, -5, 30),
        CropBox(40, 30, 25),
        CropBox(5, 5, 10),
        CropBox(-100, -100, 20),
        CropBox(-3, -4, 70),
    ]
    for square in squares:
        pixels = crop_pixels(rgb, square)
        assert pixels.shape == (square.side, square.side, 3) and pixels.dtype == np.uint8
        for row in range(square.side):
            for column in range(square.side):
                y, x = square.y0 + row, square.x0 + column
                inside = 0 <= y < rgb.shape[0] and 0 <= x < rgb.shape[1]
                expected = rgb[y, x] if inside else mean
                assert np.array_equal(pixels[row, column], expected), (square, row, column)


def test_large_crops_are_shrunk_to_the_maximum_side() -> None:
    rgb = np.zeros((1200, 1300, 3), dtype=np.uint8)
    assert crop_image(rgb, CropBox(0, 0, MAX_CROP_SIDE + 76)).size == (MAX_CROP_SIDE, MAX_CROP_SIDE)
    assert crop_image(rgb, CropBox(0, 0, 300)).size == (300, 300)


def test_the_stored_crop_is_the_crop(tmp_path: Path, rng: np.random.Generator) -> None:
    rgb = rng.integers(0, 256, (90, 120, 3), dtype=np.uint8)
    box = PersonBox(30.0, 10.0, 70.0, 88.0)
    path, square = write_person_crop(rgb, box, tmp_path / "crops", "abc")
    assert square == crop_box(box)
    assert np.array_equal(np.asarray(Image.open(path).convert("RGB")), crop_pixels(rgb, square))
    assert [p.name for p in (tmp_path / "crops").iterdir()] == [path.name]  # no temporaries left
    written = path.stat().st_mtime_ns
    assert write_person_crop(rgb, box, tmp_path / "crops", "abc") == (path, square)
    assert path.stat().st_mtime_ns == written, "the same photo's crop is kept, not rewritten"


def test_conditions_keep_the_known_bits_in_vocabulary_order() -> None:
    bits = np.array([1, -1, 0, 1, -1], dtype=np.int8)
    assert estimated_conditions(bits, ("a", "b", "c", "d", "e")) == (("a", 1), ("c", 0), ("d", 1))
    with pytest.raises(ValueError):
        estimated_conditions(bits, ("a", "b"))


# ------------------------------------------------------------------ with the real estimator
def test_a_photo_with_a_person_is_cropped_around_it(estimator: PoseEstimator, tmp_path: Path) -> None:
    path = tmp_path / "camera.png"
    skimage_photo("camera").save(path)
    cache = EstimateCache(tmp_path / "cache", estimator.version)
    analysis = analyse_photo(path, estimator, cache)
    estimate = analysis.estimate
    assert isinstance(estimate, PoseEstimate) and analysis.crop_path is not None
    assert analysis.crop == crop_box(estimate.box)
    assert analysis.crop_path.parent == cache.directory
    expected = crop_image(rgb_array(path), crop_box(estimate.box))
    stored = Image.open(analysis.crop_path).convert("RGB")
    assert stored.size == expected.size == (analysis.crop.side, analysis.crop.side)
    assert np.array_equal(np.asarray(stored), np.asarray(expected))
    known = [
        (bit.name, int(v))
        for bit, v in zip(estimator.vocabulary.bits, estimate.posebits, strict=True)
        if v >= 0
    ]
    assert analysis.conditions == tuple(known) and len(known) > 0
    assert analysis.preview.shape == (512, 512, 3)
    assert cache.get(content_key(path.read_bytes())) is not None  # cached as `posebrowser estimate` does
    again = analyse_photo(path, estimator, cache)  # from the cache: the same box, the same crop
    assert again.crop == analysis.crop and again.conditions == analysis.conditions
    assert again.crop_path == analysis.crop_path


def test_a_photo_without_a_person_has_no_crop(estimator: PoseEstimator, tmp_path: Path) -> None:
    path = tmp_path / "coffee.png"
    skimage_photo("coffee").save(path)
    analysis = analyse_photo(path, estimator, None, crop_dir=tmp_path / "crops")
    assert isinstance(analysis.outcome, NoPersonFound) and analysis.outcome.reason == "no-person"
    assert analysis.crop is None and analysis.crop_path is None and analysis.conditions == ()
    assert not (tmp_path / "crops").exists()


def test_missing_and_damaged_files_name_the_file(estimator: PoseEstimator, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        analyse_photo(tmp_path / "absent.png", estimator, None, crop_dir=tmp_path)
    damaged = tmp_path / "damaged.png"
    damaged.write_bytes(b"\x89PNG not really")
    with pytest.raises(CorruptFileError) as caught:
        analyse_photo(damaged, estimator, None, crop_dir=tmp_path)
    assert caught.value.path == damaged
    with pytest.raises(ValueError, match="crop folder"):
        analyse_photo(damaged, estimator, None)
