"""The "estimated" flag of a gallery: only joints and posebits made by the pose estimator carry it; an
image folder opened from disk never does, with or without its own annotation files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from posebrowser.data.image_folder import ESTIMATED, annotations_estimated
from posebrowser.data.loading import open_gallery

from .conftest import write_image


def test_a_folder_without_annotation_files_opens_unannotated_and_unflagged(tmp_path: Path) -> None:
    for seed in range(3):
        write_image(tmp_path / f"photo_{seed}.png", seed=seed)
    gallery = open_gallery(tmp_path)
    assert gallery.kind == "folder" and gallery.posebits is None and gallery.joints_2d is None
    assert gallery.manifest["posebits_from"] is None and not annotations_estimated(gallery)


def test_a_folder_with_metadata_posebits_is_annotated_not_estimated(tmp_path: Path) -> None:
    for seed in range(2):
        write_image(tmp_path / f"photo_{seed}.png", seed=seed)
    (tmp_path / "metadata.csv").write_text("file,left_knee_bent\nphoto_0.png,1\nphoto_1.png,0\n")
    gallery = open_gallery(tmp_path)
    assert gallery.manifest["posebits_from"] == "metadata.csv" and not annotations_estimated(gallery)


def test_only_the_estimated_source_sets_the_flag(tmp_path: Path) -> None:
    write_image(tmp_path / "photo.png")
    gallery = open_gallery(tmp_path)
    assert annotations_estimated(replace(gallery, manifest={**gallery.manifest, "posebits_from": ESTIMATED}))
    assert not annotations_estimated(replace(gallery, manifest={"posebits_from": "coco-image-plane"}))
    assert not annotations_estimated(object()), "objects without a manifest (test fakes) are annotated"
