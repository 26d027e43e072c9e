"""Bad input gives a typed, clear result or error, never a crash: non-images, empty and missing files,
tiny and huge images, several people, a missing model bundle."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from posebrowser.errors import CorruptFileError, DataError, EstimatorError
from posebrowser.estimate.estimator import PoseEstimator, distinct_people
from posebrowser.estimate.result import NoPersonFound, PersonBox, PoseEstimate

from .conftest import skimage_photo


def test_a_text_file_named_png_is_a_corrupt_file(estimator: PoseEstimator, tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("not an image")
    with pytest.raises(CorruptFileError, match="not an image"):
        estimator.estimate(path)


def test_empty_and_missing_files(estimator: PoseEstimator, tmp_path: Path) -> None:
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(CorruptFileError, match="empty"):
        estimator.estimate(tmp_path / "empty.jpg")
    with pytest.raises(DataError, match="does not exist"):
        estimator.estimate(tmp_path / "missing.jpg")


def test_truncated_jpeg(estimator: PoseEstimator, tmp_path: Path) -> None:
    path = tmp_path / "cut.jpg"
    skimage_photo("camera").save(path, quality=90)
    path.write_bytes(path.read_bytes()[:400])
    with pytest.raises(CorruptFileError):
        estimator.estimate(path)


@pytest.mark.parametrize("size", [(1, 1), (8, 8), (31, 400)])
def test_tiny_images_are_too_small(estimator: PoseEstimator, size: tuple[int, int]) -> None:
    result = estimator.estimate(Image.new("RGB", size, (200, 180, 160)))
    assert isinstance(result, NoPersonFound) and result.reason == "image-too-small"
    assert "pixels" in result.message and result.image_size == size


def test_an_image_over_the_pixel_limit_is_refused_before_decoding(
        estimator: PoseEstimator, tmp_path: Path) -> None:
    path = tmp_path / "bomb.png"
    Image.new("1", (9000, 6000)).save(path)  # 54 MP, a few kB on disk
    with pytest.raises(CorruptFileError, match="too large"):
        estimator.estimate(path)


def test_a_picture_of_two_people_gives_a_typed_result(estimator: PoseEstimator) -> None:
    photo = skimage_photo("camera")
    pair = Image.new("RGB", (photo.width * 2 + 64, photo.height), (128, 128, 128))
    pair.paste(photo, (0, 0))
    pair.paste(photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (photo.width + 64, 0))
    result = estimator.estimate(pair)
    assert isinstance(result, PoseEstimate | NoPersonFound)
    if isinstance(result, PoseEstimate):
        assert result.people_found >= 1


def test_the_largest_of_several_people_is_described_and_duplicates_count_once() -> None:
    boxes = [PersonBox(0, 0, 10, 20), PersonBox(50, 0, 80, 60), PersonBox(51, 1, 80, 61),
             PersonBox(200, 0, 205, 5)]
    assert distinct_people(boxes) == [1, 0, 3]  # box 2 is box 1 found twice


def test_a_missing_model_bundle_is_an_estimator_error(tmp_path: Path) -> None:
    with pytest.raises(EstimatorError, match=r"tools/build_pose_task\.py"):
        PoseEstimator(tmp_path / "none.task").estimate(Image.new("RGB", (64, 64)))


def test_a_damaged_model_bundle_is_an_estimator_error(tmp_path: Path) -> None:
    pytest.importorskip("mediapipe")
    bundle = tmp_path / "broken.task"
    bundle.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(EstimatorError, match="cannot be loaded"):
        PoseEstimator(bundle).estimate(Image.new("RGB", (64, 64)))


def test_any_rgb_content_never_crashes(estimator: PoseEstimator, rng: np.random.Generator) -> None:
    for shape in ((40, 300, 3), (300, 40, 3), (128, 128, 3)):
        noise = Image.fromarray(rng.integers(0, 256, size=shape, dtype=np.uint8))
        assert isinstance(estimator.estimate(noise), PoseEstimate | NoPersonFound)


@pytest.mark.parametrize("array", [np.zeros((64, 64, 3), np.float32), np.zeros((64, 64, 4), np.uint8),
                                   np.zeros((2, 64, 64, 3), np.uint8)])
def test_arrays_that_are_not_rgb_pixels_are_refused(estimator: PoseEstimator, array: np.ndarray) -> None:
    with pytest.raises(DataError, match="uint8 of shape"):
        estimator.estimate(array)


def test_a_grey_array_is_taken_as_pixels(estimator: PoseEstimator) -> None:
    grey = np.asarray(skimage_photo("camera").convert("L"))
    assert isinstance(estimator.estimate(grey), PoseEstimate)
