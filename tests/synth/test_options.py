"""The generator's distribution options: each changes what it says, bad values are refused, and the
train/val/test split keeps near-duplicate poses apart."""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np
import pytest

from posebrowser.errors import DataError
from posebrowser.pose.similarity import distances_procrustes
from posebrowser.synth import poses, sample
from posebrowser.synth.options import DEFAULT_OPTIONS, STRESS_SETS, SynthOptions

SIZE = 48


def _elevations(options: SynthOptions, count: int = 10) -> np.ndarray:
    """Camera elevation (degrees, > 0 looking down) of rendered samples, from the stored cameras."""
    out = []
    for index in range(count):
        camera = sample.render_sample(5, index, size=SIZE, supersample=1, options=options).camera
        forward = camera.rotation[2]  # camera z axis in world coordinates
        out.append(np.degrees(np.arcsin(-forward[2])))
    return np.asarray(out)


def test_camera_elevation_option_moves_the_annotated_cameras() -> None:
    low = _elevations(replace(DEFAULT_OPTIONS, elevation=(-10.0, 0.0), roll=(0.0, 0.0)))
    high = _elevations(replace(DEFAULT_OPTIONS, elevation=(50.0, 60.0), roll=(0.0, 0.0)))
    assert low.mean() < 5 and high.mean() > 40


def test_fill_option_changes_the_person_size() -> None:
    def extent(fill: tuple[float, float]) -> float:
        options = replace(DEFAULT_OPTIONS, fill=fill, roll=(0.0, 0.0))
        sizes = []
        for index in range(6):
            mask = sample.render_sample(6, index, size=SIZE, supersample=1, options=options).mask > 0
            ys, xs = np.nonzero(mask)
            sizes.append(max(np.ptp(xs), np.ptp(ys)) / SIZE)
        return float(np.mean(sizes))

    assert extent((0.45, 0.5)) + 0.25 < extent((0.9, 0.95))


def test_pose_source_shares_and_bodies_are_honoured() -> None:
    only_random = poses.sample_poses(12, seed=3, options=STRESS_SETS["random-poses"])
    assert all(source.startswith("random") for source in only_random.source)
    only_clips = poses.sample_poses(
        12, seed=3, options=replace(DEFAULT_OPTIONS, clip_share=1.0, perturb_share=0.0)
    )
    assert all(source.startswith("clip") for source in only_clips.source)
    held_out = poses.sample_poses(12, seed=3, options=STRESS_SETS["body-shift"])
    assert set(held_out.body_id.tolist()) <= {12, 13, 14, 15}
    default = poses.sample_poses(24, seed=3)
    assert set(default.body_id.tolist()) <= set(DEFAULT_OPTIONS.bodies)


def test_height_and_girth_options_scale_the_body() -> None:
    def height(factor: float) -> float:
        options = replace(
            DEFAULT_OPTIONS,
            height=(factor, factor),
            girth=(factor, factor),
            shape_blend=0.0,
            bodies=(0,),
            clip_share=1.0,
            perturb_share=0.0,
        )
        batch = poses.sample_poses(1, seed=4, options=options)
        return float(np.ptp(batch.joints_3d[0, :, 2]))

    assert height(1.2) == pytest.approx(1.2 / 0.9 * height(0.9), rel=1e-3)


@pytest.mark.parametrize(
    "changes",
    [
        {"elevation": (30.0, 10.0)},
        {"fill": (0.5, 1.4)},
        {"clip_share": 0.8, "perturb_share": 0.5},
        {"bodies": (99,)},
        {"distance": (0.1, 2.0)},
    ],
)
def test_bad_options_are_refused_with_a_clear_error(changes: dict[str, object]) -> None:
    with pytest.raises(DataError, match="synth options"):
        replace(DEFAULT_OPTIONS, **changes)


def test_options_round_trip_and_reach_the_manifest(tmp_path) -> None:
    from posebrowser.synth.command import options_from_args, register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(
        [
            "synth",
            "--count",
            "4",
            "--out",
            str(tmp_path / "g"),
            "--stress",
            "camera-shift",
            "--roll",
            "0",
            "5",
            "--workers",
            "1",
            "--size",
            "32",
            "--json",
        ]
    )
    options = options_from_args(args)
    assert options.elevation == STRESS_SETS["camera-shift"].elevation and options.roll == (0.0, 5.0)
    assert SynthOptions.from_dict(options.to_dict()) == options
    assert args.func(args) == 0
    import json

    manifest = json.loads((tmp_path / "g" / "manifest.json").read_text())
    assert manifest["synth_options"] == options.to_dict()


@pytest.mark.slow  # 16 s on the 2-core reference machine under load
def test_split_keeps_near_duplicate_poses_out_of_val_and_test() -> None:
    batch = poses.sample_poses(700, seed=11)
    train = batch.joints_3d[batch.split == 0]
    held = batch.joints_3d[batch.split > 0]
    assert len(train) > 300 and len(held) > 100
    nearest = distances_procrustes(held, train).min(axis=1)
    assert (nearest < 0.05).mean() <= 0.01
