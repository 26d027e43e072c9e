"""The thesis dataset layout (the original code's files) from a hand-built miniature."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from posebrowser.data.loading import detect_gallery_kind, open_gallery
from posebrowser.data.thesis_layout import load_thesis_dataset, parse_split_file
from posebrowser.errors import AnnotationError, CorruptFileError


def test_loads_files_joints_posebits_and_names(make_thesis_dataset: Callable[..., dict[str, Any]]) -> None:
    data = make_thesis_dataset()
    root = data["root"]
    assert detect_gallery_kind(root) == "thesis"
    g = open_gallery(root)
    assert g.kind == "thesis" and len(g) == 7
    assert list(g.files) == data["files"]
    assert "images_single/playing basketball/clip b_train1/00002.png" in g.files
    assert g.joints_3d is not None and g.joints_2d is not None and g.posebits is not None
    np.testing.assert_allclose(g.joints_3d, data["j3d"])
    np.testing.assert_allclose(g.joints_2d, data["j2d"] * 0.5)  # 288-px frame → stored 144-px image
    assert g.manifest["joints_2d_scale"] == 0.5
    np.testing.assert_array_equal(g.posebits, data["bits"])
    assert g.posebit_names == ("angle: l_elbw", "angle: r_elbw", "distance: l_wrst <-> hd",
                               "distance: r_elbw <-> r_hp", "distance: x <-> y", "beyond: r_wrst -> r_shldr",
                               "beyond: l_wrst -> neck")
    assert g.split.tolist() == [0, 0, 0, 1, 1, 1, 1]  # valtest rows before row 1919 are "val"
    assert g.load_image(4).size == (144, 144)
    assert g.has_ground_truth("procrustes") and g.has_ground_truth("hamming")


def test_valtest_rows_split_at_val_count(make_thesis_dataset: Callable[..., dict[str, Any]]) -> None:
    data = make_thesis_dataset(n_valtest=1921)
    g = open_gallery(data["root"])
    assert g.split_counts() == {"train": 3, "val": 1919, "test": 2}
    assert g.split_indices("test").tolist() == [3 + 1919, 3 + 1920]
    small = load_thesis_dataset(data["root"], val_count=2)
    assert small.split_counts() == {"train": 3, "val": 2, "test": 1919}
    assert g.ids.tolist() == list(range(1924)) and g.source is not None and g.source[3] == "thesis:valtest:0"


def test_generic_names_without_question_files(make_thesis_dataset: Callable[..., dict[str, Any]]) -> None:
    g = open_gallery(make_thesis_dataset(with_questions=False)["root"])
    assert g.posebit_names[:3] == ("angle_0", "angle_1", "distance_0")
    assert g.posebit_names[-1] == "reldistance_1"
    assert g.manifest["warnings"]


def test_coordinates_already_in_image_pixels_are_kept(
        make_thesis_dataset: Callable[..., dict[str, Any]]) -> None:
    data = make_thesis_dataset(coords_frame=140)
    g = open_gallery(data["root"])
    assert g.joints_2d is not None and g.manifest["joints_2d_scale"] == 1.0
    np.testing.assert_allclose(g.joints_2d, data["j2d"])


def test_missing_groups_are_none_and_half_missing_is_an_error(
        make_thesis_dataset: Callable[..., dict[str, Any]]) -> None:
    root = make_thesis_dataset()["root"]
    for split in ("train", "valtest"):
        (root / f"annotations/3d/{split}_rescaled.npy").unlink()
    g = open_gallery(root)
    assert g.joints_3d is None and not g.has_ground_truth("3d") and g.joints_2d is not None
    (root / "annotations/2d/valtest.npy").unlink()
    with pytest.raises(AnnotationError, match=r"valtest\.npy"):
        open_gallery(root)


def test_row_count_mismatch_names_the_array(make_thesis_dataset: Callable[..., dict[str, Any]]) -> None:
    root = make_thesis_dataset()["root"]
    np.save(root / "annotations/hamming/train_angles_0.npy", np.zeros((5, 2), np.uint8))
    with pytest.raises(AnnotationError, match=r"train_angles_0\.npy"):
        open_gallery(root)


def test_wrong_joint_shape_and_non_binary_bits(make_thesis_dataset: Callable[..., dict[str, Any]]) -> None:
    root = make_thesis_dataset()["root"]
    np.save(root / "annotations/3d/train_rescaled.npy", np.zeros((3, 2, 16, 3), np.float32))
    with pytest.raises(AnnotationError, match=r"train_rescaled\.npy.*shape"):
        open_gallery(root)
    root = make_thesis_dataset()["root"]
    np.save(root / "annotations/hamming/valtest_distances_0.npy", np.full((4, 3), 2, np.uint8))
    with pytest.raises(AnnotationError, match="only 0 and 1"):
        open_gallery(root)


def test_truncated_npy_is_corrupt(make_thesis_dataset: Callable[..., dict[str, Any]]) -> None:
    root = make_thesis_dataset()["root"]
    path = root / "annotations/2d/train.npy"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CorruptFileError, match=r"train\.npy"):
        open_gallery(root)


def test_split_file_lines_need_sixteen_tokens(tmp_path: Any) -> None:
    path = tmp_path / "kinetics_frames_train.txt"
    path.write_text("a b/c f_00001_0 " + " ".join(f"t_{k}" for k in range(15)) + "\n\nshort line x_1\n")
    with pytest.raises(AnnotationError, match="Line 3") as info:
        parse_split_file(path)
    assert "kinetics_frames_train.txt" in str(info.value)
    path.write_text("a b/c " + " ".join(f"t{k}" for k in range(16)) + "\n")
    with pytest.raises(AnnotationError, match="'_<frame>'"):
        parse_split_file(path)
    path.write_text("../../etc " + " ".join(f"t_{k}" for k in range(16)) + "\n")
    with pytest.raises(AnnotationError, match="relative"):
        parse_split_file(path)
    path.write_text("a  b/c/ " + " ".join(f"t_{k:05d}_x" for k in range(16)) + "\r\n")
    assert parse_split_file(path) == ["images_single/a  b/c/00000.png"]


def test_images_load_through_the_gallery(make_thesis_dataset: Callable[..., dict[str, Any]]) -> None:
    g = open_gallery(make_thesis_dataset()["root"])
    image = g.load_image(1, size=72)
    assert image.mode == "RGB" and image.size == (72, 72)


def test_question_entries_may_be_small_arrays(make_thesis_dataset: Callable[..., dict[str, Any]]) -> None:
    root = make_thesis_dataset()["root"]
    np.save(root / "annotations/hamming/questions_angles.npy", np.array([[10, 11, 12], [13, 14, 15]]))
    g = open_gallery(root)
    assert g.posebit_names[:2] == ("[10 11 12]", "[13 14 15]")
    np.save(root / "annotations/hamming/keep_bits_idx_reldistance.npy", np.array([1, 9]))
    assert open_gallery(root).posebit_names[0] == "angle_0"  # keep index out of range → generic names
