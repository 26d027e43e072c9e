"""A plain image folder with optional metadata.csv and COCO keypoints json."""

from __future__ import annotations

import importlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from posebrowser.data.image_folder import coco_to_skeleton, list_images
from posebrowser.data.loading import detect_gallery_kind, open_gallery, scan_images
from posebrowser.errors import AnnotationError, CorruptFileError, GalleryFormatError
from posebrowser.pose import skeleton as sk

from .conftest import write_image


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "my photos"
    write_image(root / "b.png", seed=1)
    write_image(root / "a.JPG", seed=2)
    write_image(root / "sub dir/c.webp", seed=3)
    write_image(root / ".hidden/d.png", seed=4)
    (root / "notes.txt").write_text("not an image")
    (root / ".e.png").write_bytes(b"")
    return root


def test_images_are_found_recursively_and_sorted(folder: Path) -> None:
    assert list_images(folder) == ["a.JPG", "b.png", "sub dir/c.webp"]
    assert detect_gallery_kind(folder) == "folder"
    g = open_gallery(folder)
    assert g.kind == "folder" and g.name == "my photos" and g.files == ("a.JPG", "b.png", "sub dir/c.webp")
    assert g.posebits is None and g.joints_2d is None and g.split_indices("test").tolist() == [0, 1, 2]
    assert g.load_image(2).size == (24, 16)


def test_content_hash_changes_when_an_image_changes(folder: Path) -> None:
    before = open_gallery(folder).content_hash
    assert open_gallery(folder).content_hash == before
    write_image(folder / "b.png", 30, 30, seed=9)
    assert open_gallery(folder).content_hash != before


def test_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(GalleryFormatError, match="no images"):
        open_gallery(tmp_path)


def test_metadata_csv_posebits_with_blanks(folder: Path) -> None:
    (folder / "metadata.csv").write_text(
        "file,left_elbow_bent,my_own_bit,split\n"
        "b.png,1,,train\n"
        "sub dir/c.webp, 0 ,1,\n"
        "\n", encoding="utf-8")
    g = open_gallery(folder)
    assert g.posebit_names == ("left_elbow_bent", "my_own_bit")
    assert g.posebits is not None
    np.testing.assert_array_equal(g.posebits, [[-1, -1], [1, -1], [0, 1]])
    assert g.split.tolist() == [2, 0, 2]
    vocabulary_available = importlib.util.find_spec("posebrowser.pose.posebits") is not None
    assert ("my_own_bit" in g.manifest["unknown_posebits"]) == vocabulary_available
    np.testing.assert_array_equal(g.posebit_column("my_own_bit"), [-1, -1, 1])


def test_metadata_with_only_a_split_column(folder: Path) -> None:
    (folder / "metadata.csv").write_text("file,split\na.JPG,val\n")
    g = open_gallery(folder)
    assert g.posebits is None and g.split.tolist() == [1, 2, 2]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("file,x,x\nb.png,1,0\n", "Line 1: columns appear twice: x"),
        ("file,x\nb.png,2\n", "Line 2, column 'x'.*'2'"),
        ("file,x\nb.png,yes\n", "Line 2.*'yes'"),
        ("file,x\nb.png,1\nmissing.png,0\n", "Line 3.*missing.png"),
        ("file,x\nb.png,1,0\n", "Line 2 has 3 cells"),
        ("file,x\nb.png,1\nb.png,0\n", "Line 3.*line 2"),
        ("file,,y\nb.png,1,0\n", "no name"),
        ("", "empty"),
        ("file,split\nb.png,holdout\n", "holdout"),
        ("file,x\n../b.png,1\n", "relative"),
    ],
)
def test_malformed_metadata_names_file_and_line(folder: Path, text: str, message: str) -> None:
    (folder / "metadata.csv").write_text(text)
    with pytest.raises(AnnotationError, match=message) as info:
        open_gallery(folder)
    assert "metadata.csv" in str(info.value)


def test_metadata_that_is_not_utf8(folder: Path) -> None:
    (folder / "metadata.csv").write_bytes(b"file,x\n\xff\xfe\x00b.png,1\n")
    with pytest.raises(AnnotationError, match=r"metadata\.csv"):
        open_gallery(folder)


def coco_person(values: dict[int, tuple[float, float, int]]) -> list[float]:
    keypoints = np.zeros((17, 3))
    for index, point in values.items():
        keypoints[index] = point
    return keypoints.reshape(-1).tolist()


def test_coco_mapping_direct_and_derived_joints() -> None:
    kp = np.zeros((1, 17, 3))
    kp[0, 5], kp[0, 6] = (10, 40, 2), (30, 40, 2)  # l/r shoulder
    kp[0, 11], kp[0, 12] = (12, 80, 2), (28, 80, 1)  # l/r hip (right one occluded)
    kp[0, 3], kp[0, 4] = (16, 20, 2), (24, 20, 2)  # ears
    kp[0, 10] = (50, 30, 2)  # right wrist
    joints, visible = coco_to_skeleton(kp)
    j = joints[0]
    np.testing.assert_allclose(j[sk.R_WRIST], [50, 30])
    np.testing.assert_allclose(j[sk.L_SHOULDER], [10, 40])
    np.testing.assert_allclose(j[sk.PELVIS], [20, 80])
    np.testing.assert_allclose(j[sk.THORAX], [20, 40])
    np.testing.assert_allclose(j[sk.UPPER_NECK], [20, 30])
    np.testing.assert_allclose(j[sk.HEAD_TOP], [20, 10])
    assert np.isnan(j[sk.L_WRIST]).all() and not visible[0, sk.L_WRIST]
    assert visible[0, sk.THORAX] and not visible[0, sk.PELVIS] and not visible[0, sk.R_HIP]
    nose_only = np.zeros((1, 17, 3))
    nose_only[0, 0] = (5, 5, 2)
    nose_only[0, 5], nose_only[0, 6] = (0, 25, 2), (10, 25, 2)
    j = coco_to_skeleton(nose_only)[0][0]
    np.testing.assert_allclose(j[sk.UPPER_NECK], [5, 15])
    np.testing.assert_allclose(j[sk.HEAD_TOP], [5, -5])


def test_coco_json_gives_joints_2d(folder: Path) -> None:
    document = {
        "images": [{"id": 7, "file_name": "./b.png"}, {"id": 8, "file_name": "/abs/elsewhere/c.webp"},
                   {"id": 9, "file_name": "not_here.jpg"}],
        "annotations": [
            {"image_id": 7, "keypoints": coco_person({10: (3, 4, 2)}), "area": 10},
            {"image_id": 7, "keypoints": coco_person({10: (9, 9, 2), 9: (1, 1, 1)}), "area": 5},
            {"image_id": 8, "keypoints": coco_person({15: (6, 7, 2)}), "iscrowd": 0},
            {"image_id": 8, "keypoints": coco_person({0: (1, 1, 2)}), "iscrowd": 1},
        ],
        "categories": [{"id": 1, "name": "person"}],
    }
    (folder / "person_keypoints.json").write_text(json.dumps(document))
    (folder / "other.json").write_text(json.dumps({"unrelated": True}))
    g = open_gallery(folder)
    assert g.joints_2d is not None and g.visibility is not None and g.has_ground_truth("2d")
    assert np.isnan(g.joints_2d[0]).all()  # a.JPG has no annotation
    np.testing.assert_allclose(g.joints_2d[1, sk.R_WRIST], [9, 9])  # person with more keypoints wins
    np.testing.assert_allclose(g.joints_2d[1, sk.L_WRIST], [1, 1])
    assert not g.visibility[1, sk.L_WRIST] and g.visibility[1, sk.R_WRIST]
    np.testing.assert_allclose(g.joints_2d[2, sk.L_ANKLE], [6, 7])  # matched by base name in "sub dir"
    assert any("not (uniquely)" in w for w in g.manifest["warnings"])


def test_bad_coco_keypoints(folder: Path) -> None:
    document = {"images": [{"id": 1, "file_name": "b.png"}],
                "annotations": [{"image_id": 1, "keypoints": [1, 2, 3]}]}
    (folder / "coco.json").write_text(json.dumps(document))
    with pytest.raises(AnnotationError, match=r"coco\.json"):
        open_gallery(folder)


def test_corrupt_images_fail_alone(folder: Path) -> None:
    (folder / "text.jpg").write_text("I am text, not a JPEG")
    (folder / "zero.png").write_bytes(b"")
    good = (folder / "b.png").read_bytes()
    (folder / "truncated.png").write_bytes(good[: len(good) // 2])
    g = open_gallery(folder)
    assert len(g) == 6
    for name in ("text.jpg", "zero.png", "truncated.png"):
        with pytest.raises(CorruptFileError, match=name):
            g.load_image(g.files.index(name))
    for name in ("a.JPG", "b.png", "sub dir/c.webp"):
        assert g.load_image(g.files.index(name)).mode == "RGB"
    bad = sorted(g.files[i] for i, _ in scan_images(g))
    assert bad == ["text.jpg", "truncated.png", "zero.png"]


def standing_front_pose() -> np.ndarray:
    """(16, 2) pixels, y down: a person facing the camera, right arm raised above the head."""
    joints = np.zeros((16, 2))
    joints[sk.HEAD_TOP], joints[sk.UPPER_NECK], joints[sk.THORAX] = (100, 20), (100, 50), (100, 60)
    joints[sk.PELVIS], joints[sk.R_HIP], joints[sk.L_HIP] = (100, 130), (88, 130), (112, 130)
    joints[sk.R_SHOULDER], joints[sk.L_SHOULDER] = (80, 60), (120, 60)
    joints[sk.R_ELBOW], joints[sk.R_WRIST] = (76, 30), (74, 0)
    joints[sk.L_ELBOW], joints[sk.L_WRIST] = (124, 95), (126, 128)
    joints[sk.R_KNEE], joints[sk.R_ANKLE] = (88, 175), (88, 220)
    joints[sk.L_KNEE], joints[sk.L_ANKLE] = (112, 175), (112, 220)
    return joints


def test_image_plane_posebits_from_2d_joints() -> None:
    posebits = importlib.import_module("posebrowser.pose.posebits")
    vocabulary = posebits.get_vocabulary()
    wanted = ("right_wrist_above_upper_neck", "left_wrist_above_upper_neck")
    assert all(name in vocabulary.names for name in wanted)
    from posebrowser.data.image_folder import image_plane_posebits

    missing_wrist = standing_front_pose()
    missing_wrist[sk.R_WRIST] = np.nan
    joints = np.stack([standing_front_pose(), np.full((16, 2), np.nan), missing_wrist])
    result = image_plane_posebits(joints)
    assert result is not None
    bits, names = result
    assert names == tuple(vocabulary.names) and bits.shape == (3, len(names)) and bits.dtype == np.int8
    assert bits[0, names.index("right_wrist_above_upper_neck")] == 1
    assert bits[0, names.index("left_wrist_above_upper_neck")] == 0
    depth = [i for i, bit in enumerate(vocabulary.bits) if bit.axis == "fwd" or bit.family == "twist"]
    assert depth and (bits[:, depth] == -1).all()
    assert (bits[1] == -1).all()
    assert bits[2, names.index("right_wrist_above_upper_neck")] == -1
    assert bits[2, names.index("left_wrist_above_upper_neck")] == 0


def test_coco_posebits_merge_with_metadata(folder: Path) -> None:
    posebits = importlib.import_module("posebrowser.pose.posebits")
    names = posebits.get_vocabulary().names
    assert "right_wrist_above_upper_neck" in names
    pose = standing_front_pose()
    keypoints = np.zeros((17, 3))
    for joint, coco in ((sk.R_SHOULDER, 6), (sk.L_SHOULDER, 5), (sk.R_ELBOW, 8), (sk.L_ELBOW, 7),
                        (sk.R_WRIST, 10), (sk.L_WRIST, 9), (sk.R_HIP, 12), (sk.L_HIP, 11), (sk.R_KNEE, 14),
                        (sk.L_KNEE, 13), (sk.R_ANKLE, 16), (sk.L_ANKLE, 15)):
        keypoints[coco] = (*pose[joint], 2)
    keypoints[3], keypoints[4] = (95, 35, 2), (105, 35, 2)  # ears → head centre (100, 35)
    document = {"images": [{"id": 1, "file_name": "b.png"}],
                "annotations": [{"image_id": 1, "keypoints": keypoints.reshape(-1).tolist()}]}
    (folder / "keypoints.json").write_text(json.dumps(document))
    (folder / "metadata.csv").write_text("file,right_wrist_above_upper_neck,custom\na.JPG,1,0\nb.png,,1\n")
    g = open_gallery(folder)
    assert g.posebits is not None and g.manifest["posebits_from"] == "coco-image-plane+metadata.csv"
    assert g.posebit_names[-1] == "custom" and len(g.posebit_names) == len(names) + 1
    np.testing.assert_array_equal(g.posebit_column("right_wrist_above_upper_neck"), [1, 1, -1])
    np.testing.assert_array_equal(g.posebit_column("custom"), [0, 1, -1])
    assert (g.posebits[2] == -1).all()  # "sub dir/c.webp" has neither keypoints nor metadata


def test_line_numbers_count_quoted_newlines(folder: Path) -> None:
    (folder / "metadata.csv").write_text('file,"multi\nline name"\nb.png,1\na.JPG,7\n')
    with pytest.raises(AnnotationError, match="Line 4"):
        open_gallery(folder)


def test_two_coco_files_are_ambiguous(folder: Path) -> None:
    for name in ("one.json", "two.json"):
        (folder / name).write_text(json.dumps({"images": [], "annotations": []}))
    with pytest.raises(AnnotationError, match=r"one\.json, two\.json"):
        open_gallery(folder)
