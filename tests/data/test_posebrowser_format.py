"""Round trip through the posebrowser gallery format v1 and its failure modes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from posebrowser.data import gallery_format as fmt
from posebrowser.data.loading import builtin_gallery_path, detect_gallery_kind, open_gallery, scan_images
from posebrowser.errors import AnnotationError, CorruptFileError, GalleryFormatError, JobCancelledError

from .conftest import gradient


def test_round_trip_preserves_every_array(make_posebrowser_gallery: Callable[..., Path],
                                          posebrowser_arrays: dict[str, np.ndarray]) -> None:
    root = make_posebrowser_gallery()
    g = open_gallery(root, verify=True)
    assert g.kind == "posebrowser" and g.name == "Tiny gallery" and len(g) == 5
    assert g.files == tuple(posebrowser_arrays["files"])
    assert g.posebit_names == tuple(posebrowser_arrays["posebit_names"])
    assert g.source == tuple(posebrowser_arrays["source"])
    for name, expected in posebrowser_arrays.items():
        if name in ("files", "posebit_names", "source"):
            continue
        actual = getattr(g, name)
        assert actual.dtype == expected.dtype, name
        np.testing.assert_array_equal(actual, expected, err_msg=name)
    manifest = json.loads((root / fmt.MANIFEST_NAME).read_text())
    assert g.content_hash == manifest["content_hash"] and g.manifest["posebit_version"] == "test-1"
    np.testing.assert_array_equal(np.asarray(g.load_image(0)), gradient(24, 16, 0))
    assert g.load_image(1, size=12).size == (12, 8)
    assert open_gallery(root / fmt.MANIFEST_NAME).files == g.files
    saved = g.annotation_arrays()
    assert set(saved) == set(posebrowser_arrays)


def test_only_files_is_required(tmp_path: Path) -> None:
    root = tmp_path / "minimal"
    (root / "images").mkdir(parents=True)
    (root / "images/a.png").write_bytes(b"")
    fmt.save_annotations(root / fmt.ANNOTATIONS_NAME, {"files": np.array(["images/a.png"])})
    fmt.write_manifest(root)
    g = open_gallery(root)
    assert g.name == "minimal" and g.posebits is None and not g.has_ground_truth("3d")
    assert detect_gallery_kind(root) == "posebrowser"


@pytest.mark.parametrize(
    ("edit", "error", "message"),
    [
        (lambda m: m.pop("format_version"), GalleryFormatError, "format_version"),
        (lambda m: m.pop("content_hash"), GalleryFormatError, "content_hash"),
        (lambda m: m.update(format="something-else"), GalleryFormatError, "something-else"),
        (lambda m: m.update(format_version=2), GalleryFormatError, "version 2"),
        (lambda m: m.update(format_version="1"), GalleryFormatError, "format_version"),
        (lambda m: m.update(count=7), GalleryFormatError, "7 images"),
    ],
)
def test_manifest_problems_are_reported(make_posebrowser_gallery: Callable[..., Path],
                                        edit: Callable[[dict[str, object]], object],
                                        error: type[Exception], message: str) -> None:
    root = make_posebrowser_gallery()
    path = root / fmt.MANIFEST_NAME
    manifest = json.loads(path.read_text())
    edit(manifest)
    path.write_text(json.dumps(manifest))
    with pytest.raises(error, match=message) as info:
        open_gallery(root)
    assert "manifest.json" in str(info.value)


def test_manifest_that_is_not_json(make_posebrowser_gallery: Callable[..., Path]) -> None:
    root = make_posebrowser_gallery()
    (root / fmt.MANIFEST_NAME).write_text("{not json")
    with pytest.raises(GalleryFormatError, match=r"manifest\.json"):
        open_gallery(root)


def test_truncated_annotations_raise_corrupt_file_error(
        make_posebrowser_gallery: Callable[..., Path]) -> None:
    root = make_posebrowser_gallery()
    path = root / fmt.ANNOTATIONS_NAME
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CorruptFileError, match=r"annotations\.npz"):
        open_gallery(root)


def test_missing_annotations(make_posebrowser_gallery: Callable[..., Path]) -> None:
    root = make_posebrowser_gallery()
    (root / fmt.ANNOTATIONS_NAME).unlink()
    with pytest.raises(GalleryFormatError, match=r"annotations\.npz"):
        open_gallery(root)


def test_pickled_annotations_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "pickled"
    root.mkdir()
    np.savez(root / fmt.ANNOTATIONS_NAME, files=np.array([{"evil": 1}], dtype=object))
    (root / fmt.MANIFEST_NAME).write_text(json.dumps(
        {"format": fmt.FORMAT_NAME, "format_version": 1, "count": 1, "content_hash": "x"}))
    with pytest.raises(AnnotationError, match="pickle"):
        open_gallery(root)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("joints_3d", np.zeros((5, 16, 2), np.float32), "joints_3d"),
        ("posebits", np.zeros((4, 4), np.int8), "posebits"),
        ("files", np.array(["../escape.png"] * 5), "relative"),
    ],
)
def test_wrong_shapes_name_the_annotations_file(make_posebrowser_gallery: Callable[..., Path],
                                                posebrowser_arrays: dict[str, np.ndarray],
                                                field: str, value: np.ndarray, message: str) -> None:
    root = make_posebrowser_gallery()
    arrays = {**posebrowser_arrays, field: value}
    fmt.save_annotations(root / fmt.ANNOTATIONS_NAME, arrays)
    with pytest.raises(AnnotationError, match=message) as info:
        open_gallery(root)
    assert "annotations.npz" in str(info.value)


def test_verify_detects_changed_images(make_posebrowser_gallery: Callable[..., Path]) -> None:
    root = make_posebrowser_gallery()
    open_gallery(root, verify=True)
    (root / "images/002.png").write_bytes((root / "images/000.png").read_bytes())
    open_gallery(root)  # without verify nothing is read
    with pytest.raises(GalleryFormatError, match="changed"):
        open_gallery(root, verify=True)
    (root / "images/002.png").unlink()
    with pytest.raises(GalleryFormatError, match="missing"):
        open_gallery(root, verify=True)


def test_one_corrupt_image_does_not_break_the_gallery(make_posebrowser_gallery: Callable[..., Path]) -> None:
    root = make_posebrowser_gallery()
    (root / "images/001.jpg").write_bytes(b"plain text pretending to be a jpeg")
    (root / "images/003.jpg").write_bytes(b"")
    g = open_gallery(root)
    with pytest.raises(CorruptFileError, match=r"001\.jpg"):
        g.load_image(1)
    assert g.load_image(2).size == (24, 16)
    calls: list[tuple[int, int]] = []
    problems = scan_images(g, progress=lambda done, total: calls.append((done, total)))
    assert [i for i, _ in problems] == [1, 3] and "003.jpg" in problems[1][1]
    assert calls[-1] == (5, 5) and len(calls) == 5
    with pytest.raises(JobCancelledError):
        scan_images(g, cancel=lambda: True)


def test_missing_folder_and_plain_file(tmp_path: Path) -> None:
    with pytest.raises(GalleryFormatError, match="does not exist"):
        open_gallery(tmp_path / "nothing")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(GalleryFormatError, match="folder"):
        open_gallery(tmp_path / "file.txt")


def test_builtin_gallery_path_points_into_resources() -> None:
    path = builtin_gallery_path()
    assert path.parts[-2:] == ("resources", "gallery") and (path.parent.parent / "posebrowser").is_dir()
