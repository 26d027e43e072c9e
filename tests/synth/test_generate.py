"""Rendered samples and the gallery writer: silhouettes, left/right on screen, camera yaw, determinism,
resume and the on-disk format."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from posebrowser.data import gallery_format as fmt
from posebrowser.errors import DataError, JobCancelledError
from posebrowser.pose import skeleton as sk
from posebrowser.synth import poses, sample
from posebrowser.synth.camera import Camera, fit_camera
from posebrowser.synth.command import register
from posebrowser.synth.generate import generate_gallery
from posebrowser.synth.skin import default_body_model

SIZE = 64


def _annotations(root: Path) -> dict[str, np.ndarray]:
    with np.load(root / fmt.ANNOTATIONS_NAME, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


@pytest.mark.parametrize("index", range(6))
def test_joints_project_inside_the_silhouette_and_fill_the_frame(index: int) -> None:
    item = sample.render_sample(4, index, size=SIZE)
    mask = item.mask > 0
    grown = mask.copy()  # one pixel of tolerance for joints on thin limbs / the head-top surface
    grown[1:] |= mask[:-1]
    grown[:-1] |= mask[1:]
    grown[:, 1:] |= grown[:, :-1].copy()
    grown[:, :-1] |= grown[:, 1:].copy()
    cols = np.floor(item.joints_2d[:, 0]).astype(int)
    rows = np.floor(item.joints_2d[:, 1]).astype(int)
    inside = (cols >= 0) & (cols < SIZE) & (rows >= 0) & (rows < SIZE)
    assert not (item.visibility & ~inside).any()  # a joint a rolled camera cuts off is not visible
    assert grown[rows[inside], cols[inside]].all(), item.source
    # the 2D joints are the projection of the 3D joints by the stored camera
    np.testing.assert_allclose(item.camera.project(item.joints_3d)[:, :2], item.joints_2d, atol=1e-3)
    ys, xs = np.nonzero(mask)
    extent = max(xs.max() - xs.min() + 1, ys.max() - ys.min() + 1) / SIZE
    assert 0.5 <= extent <= 1.0
    assert item.image.shape == (SIZE, SIZE, 3) and item.image.dtype == np.uint8
    assert item.visibility.sum() >= 4


def _front_camera(vertices: np.ndarray, azimuth: float) -> Camera:
    return fit_camera(vertices, azimuth=azimuth, elevation=0.1, distance=4.0, fill=0.9, size=SIZE)


def test_left_and_right_on_screen_for_front_and_back_views() -> None:
    model = default_body_model()
    rest = poses.PoseSample(
        local=np.tile(np.eye(3), (13, 1, 1)), airborne=0.0, source="rest", split_key="rest"
    )
    posed = poses.pose_body(model, 1, rest)
    vertices = model.skin(1, posed.transforms)
    front = _front_camera(vertices, azimuth=-np.pi / 2)  # camera on −Y: sees the face
    back = _front_camera(vertices, azimuth=np.pi / 2)
    j_front = front.project(posed.joints)
    j_back = back.project(posed.joints)
    for right, left in ((sk.R_HIP, sk.L_HIP), (sk.R_SHOULDER, sk.L_SHOULDER), (sk.R_WRIST, sk.L_WRIST)):
        assert j_front[right, 0] < j_front[left, 0]  # facing the camera: the person's right is image left
        assert j_back[right, 0] > j_back[left, 0]
    assert j_front[sk.HEAD_TOP, 1] < j_front[sk.PELVIS, 1] < j_front[sk.R_ANKLE, 1]  # y grows downwards
    rendering, _ = sample.render_posed(model, posed, np.random.default_rng(0), SIZE, camera=front)
    visible = sample.joint_visibility(front, posed.joints, rendering)
    assert visible[[sk.R_HIP, sk.L_HIP, sk.R_SHOULDER, sk.L_SHOULDER, sk.HEAD_TOP]].all()
    side = _front_camera(vertices, azimuth=0.0)  # camera on +X: sees the left side, the right is hidden
    side_render, _ = sample.render_posed(model, posed, np.random.default_rng(0), SIZE, camera=side)
    side_visible = sample.joint_visibility(side, posed.joints, side_render)
    assert side_visible[sk.L_SHOULDER] and side_visible[sk.L_HIP]
    assert not side_visible[sk.R_SHOULDER] and not side_visible[sk.R_HIP]


def test_camera_yaw_changes_2d_but_not_3d_or_posebits() -> None:
    model = default_body_model()
    _, posed = poses.draw_pose(poses.pose_rng(9, 3), 3)
    vertices = model.skin(posed.body, posed.transforms)
    camera = fit_camera(vertices, azimuth=0.3, elevation=0.2, distance=4.0, fill=0.9, size=SIZE)
    turned = camera.with_azimuth(1.2, pivot=vertices.mean(0))
    a = sample.render_posed(model, posed, np.random.default_rng(1), SIZE, camera=camera)[1]
    b = sample.render_posed(model, posed, np.random.default_rng(1), SIZE, camera=turned)[1]
    assert not np.allclose(a.project(posed.joints)[:, :2], b.project(posed.joints)[:, :2], atol=1.0)
    try:
        from posebrowser.pose.posebits import get_vocabulary
    except ImportError:
        return
    vocabulary = get_vocabulary()
    # posebits depend only on world joints: a yaw of the world (as a camera orbit) leaves them unchanged
    c, s = np.cos(1.2), np.sin(1.2)
    yaw = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    joints = posed.joints[None]
    np.testing.assert_array_equal(
        vocabulary.compute(joints, up=(0, 0, 1)), vocabulary.compute(joints @ yaw.T, up=(0, 0, 1))
    )


def test_gallery_is_deterministic_resumable_and_in_format(tmp_path: Path) -> None:
    count = 8
    first = tmp_path / "a"
    manifest = generate_gallery(first, count, seed=21, size=SIZE, workers=1)
    ann = _annotations(first)
    assert manifest["count"] == count and manifest["source"] == "synth" and manifest["seed"] == 21
    assert manifest["image_size"] == SIZE and manifest["created_by"] == "posebrowser synth"
    assert list(ann["files"]) == [f"images/{i:06d}.jpg" for i in range(count)]
    assert ann["joints_3d"].shape == (count, 16, 3) and ann["joints_2d"].shape == (count, 16, 2)
    assert ann["camera_rotation"].shape == (count, 3, 3) and ann["visibility"].dtype == bool
    assert set(ann) >= {"ids", "split", "camera_translation", "camera_focal", "body_id", "source"}
    if "posebits" in ann:
        assert (
            ann["posebits"].shape == (count, len(ann["posebit_names"])) and ann["posebits"].dtype == np.int8
        )
    assert not (first / ".parts").exists()
    batch = poses.sample_poses(count, seed=21)  # the vocabulary tool sees exactly the gallery's poses
    np.testing.assert_array_equal(batch.joints_3d, ann["joints_3d"])
    np.testing.assert_array_equal(batch.split, ann["split"])
    assert list(batch.source) == list(ann["source"])

    # interrupted after the first chunk, then resumed with two workers: identical result
    second = tmp_path / "b"
    calls = {"n": 0}

    def cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > 1

    with pytest.raises(JobCancelledError):
        generate_gallery(second, count, seed=21, size=SIZE, workers=1, cancel=cancel)
    assert not (second / fmt.ANNOTATIONS_NAME).exists()
    resumed = generate_gallery(second, count, seed=21, size=SIZE, workers=2)
    again = _annotations(second)
    for key in ann:
        np.testing.assert_array_equal(again[key], ann[key], err_msg=key)
    assert resumed["content_hash"] == manifest["content_hash"]

    # half the images deleted from a finished gallery: regenerated byte for byte
    originals = {i: (first / f"images/{i:06d}.jpg").read_bytes() for i in range(count)}
    for i in range(0, count, 2):
        (first / f"images/{i:06d}.jpg").unlink()
    repaired = generate_gallery(first, count, seed=21, size=SIZE, workers=1)
    assert all((first / f"images/{i:06d}.jpg").read_bytes() == originals[i] for i in range(count))
    assert repaired["content_hash"] == manifest["content_hash"]

    with pytest.raises(DataError):
        generate_gallery(first, count, seed=22, size=SIZE, workers=1)


def test_cli_writes_a_gallery_and_reports_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        [
            "synth",
            "--count",
            "3",
            "--seed",
            "2",
            "--out",
            str(tmp_path / "g"),
            "--size",
            str(SIZE),
            "--workers",
            "1",
            "--json",
        ]
    )
    assert args.func(args) == 0
    manifest = json.loads(capsys.readouterr().out)
    assert manifest["count"] == 3 and (tmp_path / "g" / "manifest.json").exists()
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    args = parser.parse_args(["synth", "--count", "3", "--out", str(tmp_path / "other"), "--workers", "1"])
    assert args.func(args) == 1
    assert "other files" in capsys.readouterr().err
