"""The joints model's rows in ``posebrowser evaluate``: images without a person get the neutral row (so
every method ranks the same items), the upper-bound row embeds the true joints, both reach the report."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from PIL import Image
from pose_fakes import random_poses

from posebrowser.data.gallery_format import SPLITS
from posebrowser.evaluation.command import (
    JOINTS_ESTIMATED,
    JOINTS_ORACLE,
    evaluate_engine,
    joints_model_vectors,
)
from posebrowser.evaluation.metrics import hit_at_k
from posebrowser.nets.checkpoint import ModelCard, save_model
from posebrowser.nets.joints_net import JointsNet
from posebrowser.pose.similarity import distances_3d
from posebrowser.training.joints_trainer import embed_joints


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rng: np.random.Generator) -> tuple[Any, Path]:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # estimates of the fake images go here
    count = 60
    split = np.repeat(np.arange(3, dtype=np.uint8), count // 3)
    files = []
    for row in range(count):  # 16-pixel images: too small for a person, the estimator says so at once
        path = tmp_path / f"{row}.png"
        Image.fromarray(np.full((16, 16, 3), row, np.uint8)).save(path)
        files.append(path)
    poses = random_poses(rng, count, jitter=0.2).astype(np.float32)
    gallery = SimpleNamespace(
        name="fake",
        root=tmp_path,
        posebits=None,
        posebit_names=(),
        split=split,
        joints_2d=None,
        joints_3d=poses,
        image_path=lambda row: files[int(row)],
        split_indices=lambda name: np.flatnonzero(split == SPLITS.index(name)),
        has_ground_truth=lambda metric: metric == "3d",
        load_image=lambda row: Image.open(files[int(row)]),
    )
    net = JointsNet(hidden=32)
    save_model(tmp_path / "joints_net", net, ModelCard(net="joints_mlp", config={"hidden": 32}, kind="image"))
    return gallery, tmp_path / "joints_net"


def test_no_person_rows_are_neutral_and_the_upper_bound_embeds_true_joints(setup) -> None:
    gallery, model = setup
    rows = np.concatenate([gallery.split_indices("val"), gallery.split_indices("test")])
    vectors, meta = joints_model_vectors(gallery, rows, 20, model)
    estimated = vectors[JOINTS_ESTIMATED]
    assert np.isfinite(estimated).all()
    np.testing.assert_allclose(estimated, np.repeat(estimated[:1], len(rows), axis=0), atol=1e-6)
    from posebrowser.nets.checkpoint import load_model

    net, _ = load_model(model)
    np.testing.assert_allclose(vectors[JOINTS_ORACLE], embed_joints(net, gallery.joints_3d[rows]), atol=1e-5)
    assert meta["joints_model_no_person"] == {"queries": 20, "database": 20}
    assert joints_model_vectors(gallery, rows, 20, None) == ({}, {})


def test_the_rows_reach_the_report(setup) -> None:
    gallery, model = setup
    engine = SimpleNamespace(
        gallery=gallery,
        embeddings=np.random.default_rng(0).normal(size=(60, 8)).astype(np.float32),
        posebit_embedder=None,
        image_embedder=None,
        masks=None,
        conditional=None,
    )
    report = evaluate_engine(engine, ks=(1, 2), threshold=3, joints_model=model)
    hit = report["tables"][0]["series"]
    assert JOINTS_ESTIMATED in hit and JOINTS_ORACLE in hit
    queries, database = gallery.split_indices("val"), gallery.split_indices("test")
    truth = distances_3d(gallery.joints_3d[queries], gallery.joints_3d[database])
    tied = np.ones((20, 4), np.float32)  # every item has the same neutral row
    assert hit[JOINTS_ESTIMATED] == pytest.approx(100 * hit_at_k(tied, tied, truth, (1, 2), 3))
    assert report["meta"]["joints_model_no_person"]["database"] == 20


def test_the_rows_read_the_fused_models_estimates_not_the_users_cache(setup, tmp_path: Path) -> None:
    """With the fused image model the engine has already estimated every image; the joints model's rows
    go through the same estimate cache (one estimate per image), not the user's."""
    from posebrowser.estimate.cache import EstimateCache
    from posebrowser.evaluation.command import _engine_estimate_root

    gallery, model = setup
    shared = tmp_path / "engine-cache" / "estimates"
    fused = SimpleNamespace(joints=SimpleNamespace(cache=EstimateCache(shared, "v")))
    assert _engine_estimate_root(SimpleNamespace(image_embedder=fused)) == shared
    assert _engine_estimate_root(SimpleNamespace(image_embedder=object())) is None
    rows = gallery.split_indices("val")
    joints_model_vectors(gallery, rows, 10, model, shared)
    written = [path for path in shared.rglob("*.json")]
    assert len(written) == len(rows)
    assert not list((tmp_path / "cache").rglob("*.json"))  # the user's cache (XDG_CACHE_HOME) untouched
