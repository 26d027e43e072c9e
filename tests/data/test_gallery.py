"""Gallery dataclass: validation on construction and the row-level helpers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from posebrowser.data.gallery import Gallery, check_relative_path, check_relative_paths
from posebrowser.errors import AnnotationError, UnknownPosebitError


def small(n: int = 6, **fields: object) -> Gallery:
    rng = np.random.default_rng(1)
    base: dict[str, object] = {
        "root": Path("/data/g"), "name": "g", "kind": "posebrowser",
        "files": tuple(f"images/{i}.png" for i in range(n)),
        "ids": np.arange(100, 100 + n), "split": np.array([0, 1, 2] * (n // 3), dtype=np.uint8),
        "posebits": rng.integers(-1, 2, size=(n, 3)), "posebit_names": ("a", "b", "c"),
        "joints_2d": rng.random((n, 16, 2)), "content_hash": "abc",
        "annotation_file": Path("/data/g/annotations.npz"),
    }
    base.update(fields)
    return Gallery(**base)  # type: ignore[arg-type]


def test_dtypes_are_normalised_and_defaults_filled() -> None:
    g = small()
    assert g.ids.dtype == np.int64 and g.split.dtype == np.uint8 and g.posebits is not None
    assert g.posebits.dtype == np.int8 and g.joints_2d is not None and g.joints_2d.dtype == np.float32
    bare = Gallery(root=Path("/x"), name="x", kind="folder", files=("a.png", "b.png"))
    np.testing.assert_array_equal(bare.ids, [0, 1])
    assert bare.split_indices("test").tolist() == [0, 1] and bare.posebits is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"joints_2d": np.zeros((6, 15, 2))}, "joints_2d"),
        ({"joints_3d": np.zeros((5, 16, 3))}, "joints_3d"),
        ({"ids": np.zeros(6)}, "not unique"),
        ({"split": np.full(6, 3)}, "Split values"),
        ({"posebits": np.full((6, 3), 2)}, "1, 0 or -1"),
        ({"posebit_names": ("a", "b")}, "columns"),
        ({"posebit_names": ("a", "b", "a")}, "twice: a"),
        ({"ids": np.arange(6) + 0.5}, "whole numbers"),
        ({"visibility": np.array(["x"] * 6 * 16).reshape(6, 16)}, "numeric"),
    ],
)
def test_bad_annotations_raise_annotation_error_naming_the_file(
        fields: dict[str, object], message: str) -> None:
    with pytest.raises(AnnotationError, match=message) as info:
        small(**fields)
    assert "annotations.npz" in str(info.value)


def test_split_indices_and_counts() -> None:
    g = small()
    assert g.split_indices("train").tolist() == [0, 3]
    assert g.split_indices("test").tolist() == [2, 5]
    assert g.split_counts() == {"train": 2, "val": 2, "test": 2}
    with pytest.raises(ValueError, match="unknown split"):
        g.split_indices("valtest")


def test_has_ground_truth_follows_fields() -> None:
    g = small()
    assert g.has_ground_truth("2d") and g.has_ground_truth("hamming")
    assert not g.has_ground_truth("3d") and not g.has_ground_truth("procrustes")
    assert not small(posebits=None, posebit_names=()).has_ground_truth("hamming")
    with pytest.raises(ValueError):
        g.has_ground_truth("cosine")


def test_posebit_column_and_unknown_name() -> None:
    g = small()
    assert g.posebits is not None
    np.testing.assert_array_equal(g.posebit_column("b"), g.posebits[:, 1])
    with pytest.raises(UnknownPosebitError, match="zzz"):
        g.posebit_column("zzz")


def test_subset_keeps_rows_ids_and_changes_hash() -> None:
    g = small()
    part = g.subset([4, 1])
    assert part.files == ("images/4.png", "images/1.png") and part.ids.tolist() == [104, 101]
    assert part.posebits is not None and g.posebits is not None and g.joints_2d is not None
    np.testing.assert_array_equal(part.posebits, g.posebits[[4, 1]])
    assert part.joints_2d is not None
    np.testing.assert_array_equal(part.joints_2d, g.joints_2d[[4, 1]])
    assert part.content_hash != g.content_hash and part.content_hash != g.subset([1, 4]).content_hash
    mask = g.split == 2
    assert g.subset(mask).ids.tolist() == [102, 105]
    assert part.row_of_id(101) == 1
    with pytest.raises(IndexError):
        g.subset([6])


def test_image_path_joins_root() -> None:
    assert small().image_path(2) == Path("/data/g/images/2.png")


@pytest.mark.parametrize("bad", ["/etc/passwd", "../outside.png", "a/../../b.png", "C:/x.png", "", "."])
def test_paths_escaping_the_gallery_are_refused(bad: str) -> None:
    with pytest.raises(AnnotationError, match="relative"):
        check_relative_path(bad, where=Path("meta.csv"))
    assert check_relative_path("a\\b.png", where=Path("m")) == "a/b.png"


def test_many_paths_fast_path_agrees_with_single_checks() -> None:
    clean = ["a.png", "sub dir/b c.jpg", "x..y/z.png", ".hidden/a.png"]
    assert check_relative_paths(clean, where=Path("m")) == tuple(clean)
    messy = [*clean, "./d.png", "e//f.png", "g\\h.png", "i/"]
    assert check_relative_paths(messy, where=Path("m"))[4:] == ("d.png", "e/f.png", "g/h.png", "i")
    with pytest.raises(AnnotationError, match="relative"):
        check_relative_paths([*clean, "/abs.png"], where=Path("m"))
