"""Bad input in a photo folder without annotations gives each image a typed, clearly worded outcome and
never stops the folder: non-images, empty and truncated files, tiny images, a decompression bomb, a big
photo and a picture of two people; through the engine every problem file is named exactly once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from posebrowser.core.engine import RetrievalEngine, default_models_dir
from posebrowser.data.gallery import Gallery
from posebrowser.data.loading import open_gallery
from posebrowser.estimate.cache import EstimateCache
from posebrowser.estimate.estimator import PoseEstimator
from posebrowser.estimate.folder import (
    ESTIMATED,
    LISTED_NAMES,
    NOT_ESTIMATED,
    annotate_gallery,
    estimation_notes,
)

from .conftest import skimage_photo

#: File → the status an image without an estimated pose must get (None: it must get a pose or a
#: typed no-person outcome, whichever the estimator finds).
EXPECTED = {
    "fake.png": "unreadable",
    "empty.jpg": "unreadable",
    "cut.jpg": "unreadable",
    "bomb.png": "unreadable",
    "tiny.png": "image-too-small",
    "thin.png": "image-too-small",
}
WORDS = {"fake.png": "not an image", "empty.jpg": "empty", "bomb.png": "too large", "tiny.png": "pixels"}


def _bad_folder(folder: Path) -> Path:
    folder.mkdir()
    photo = skimage_photo("camera")
    photo.save(folder / "camera.png")
    (folder / "notes.txt").write_text("not listed: no image suffix")
    (folder / "fake.png").write_text("not an image")
    (folder / "empty.jpg").write_bytes(b"")
    photo.save(folder / "cut.jpg", quality=90)
    (folder / "cut.jpg").write_bytes((folder / "cut.jpg").read_bytes()[:400])
    Image.new("RGB", (8, 8), (200, 180, 160)).save(folder / "tiny.png")
    Image.new("RGB", (31, 400), (200, 180, 160)).save(folder / "thin.png")
    Image.new("1", (9000, 6000)).save(folder / "bomb.png")  # 54 MP, a few kB on disk
    photo.resize((4096, 4096)).save(folder / "big.jpg", quality=85)  # 16.8 MP: big but allowed
    pair = Image.new("RGB", (photo.width * 2 + 64, photo.height), (128, 128, 128))
    pair.paste(photo, (0, 0))
    pair.paste(photo.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (photo.width + 64, 0))
    pair.save(folder / "pair.png")
    return folder


def test_every_bad_image_gets_a_typed_outcome_and_the_folder_is_annotated(
    estimator: PoseEstimator, tmp_path: Path
) -> None:
    gallery = open_gallery(_bad_folder(tmp_path / "photos"))
    assert "notes.txt" not in gallery.files
    annotated = annotate_gallery(gallery, estimator, EstimateCache(tmp_path / "cache", estimator.version))
    records = {record["file"]: record for record in annotated.manifest[ESTIMATED]["not_estimated"]}
    for name, status in EXPECTED.items():
        assert records[name]["status"] == status, records.get(name)
        assert name not in WORDS or WORDS[name] in records[name]["message"], records[name]
    row = {name: i for i, name in enumerate(annotated.files)}
    assert annotated.source[row["camera.png"]] == ESTIMATED and "camera.png" not in records
    for name in ("big.jpg", "pair.png"):  # typed either way: a pose, or a no-person record
        assert annotated.source[row[name]] == ESTIMATED or records[name]["status"] == "no-person"
    several = annotated.manifest[ESTIMATED]["several_people"]
    assert set(several) <= {"pair.png", "big.jpg", "camera.png"}, "only pictures of people are listed"
    for name in records:
        assert annotated.source[row[name]] == NOT_ESTIMATED
        assert np.all(annotated.posebits[row[name]] == -1) and np.isnan(annotated.joints_2d[row[name]]).all()
    notes = estimation_notes(annotated)
    assert len(records) <= LISTED_NAMES
    for name in records:
        assert sum(name in note for note in notes) == 1, (name, notes)


@pytest.mark.skipif(
    not (default_models_dir() / "image_net.safetensors").is_file(), reason="the shipped models are missing"
)
def test_through_the_engine_every_problem_file_is_named_once(
    estimator: PoseEstimator, tmp_path: Path
) -> None:
    folder = _bad_folder(tmp_path / "photos")
    engine = RetrievalEngine.open(folder, device="cpu", cache_dir=tmp_path / "cache")
    for name in EXPECTED:
        assert sum(name in warning for warning in engine.warnings) == 1, (name, engine.warnings)
    assert "camera.png" in engine.gallery.files and "tiny.png" in engine.gallery.files
    assert "fake.png" not in engine.gallery.files, "unreadable images are left out of results and the map"
    row = engine.gallery.files.index("tiny.png")
    assert np.all(engine.gallery.posebits[row] == -1), "an image kept without a pose has unknown posebits"


def test_a_long_list_of_images_without_a_pose_names_the_first_ones_and_counts_the_rest() -> None:
    files = tuple(f"photo_{i:02d}.jpg" for i in range(LISTED_NAMES + 7))
    missing = [{"file": f, "status": "no-person", "message": "No person was found."} for f in files[1:]]
    gallery = Gallery(
        root=Path("/photos"),
        name="photos",
        kind="folder",
        files=files,
        source=(ESTIMATED,) + (NOT_ESTIMATED,) * (len(files) - 1),
        manifest={"posebits_from": ESTIMATED, ESTIMATED: {"not_estimated": missing}},
    )
    first, listed = estimation_notes(gallery)
    assert f"1 of {len(files)} images have an estimated pose" in first
    assert [f for f in files if f"{f} (no person)" in listed] == list(files[1 : LISTED_NAMES + 1])
    assert (
        f"and {len(files) - 1 - LISTED_NAMES} more (`posebrowser estimate FOLDER` lists every image)"
        in listed
    )


def test_an_estimator_that_cannot_run_leaves_the_folder_unannotated_with_one_message(tmp_path: Path) -> None:
    from posebrowser.estimate.folder import annotate_if_needed

    folder = tmp_path / "photos"
    folder.mkdir()
    Image.new("RGB", (64, 64), (90, 90, 90)).save(folder / "a.png")
    gallery = open_gallery(folder)
    missing_bundle = PoseEstimator(tmp_path / "none.task")
    same, problems = annotate_if_needed(gallery, tmp_path / "cache", estimator=missing_bundle)
    assert same is gallery and same.posebits is None
    assert len(problems) == 1 and "were not estimated" in problems[0] and "none.task" in problems[0]
