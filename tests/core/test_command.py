"""The headless commands on a tiny on-disk gallery with tiny saved models (RetrievalEngine.open)."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from core_fakes import posebit_world
from PIL import Image

from posebrowser.core import command
from posebrowser.core.engine import RetrievalEngine
from posebrowser.data.gallery_format import save_annotations, write_manifest
from posebrowser.nets.checkpoint import ModelCard, save_model
from posebrowser.nets.registry import build_net
from posebrowser.pose.posebits import get_vocabulary

N, BITS = 48, 4


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    gallery = root / "gallery"
    (gallery / "images").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(N):
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(
            gallery / "images" / f"{i}.png"
        )
    vocabulary = get_vocabulary()
    posebits, _ = posebit_world(N, bits=BITS, seed=1)
    split = np.array([0] * 24 + [1] * 8 + [2] * 16, dtype=np.uint8)
    save_annotations(
        gallery / "annotations.npz",
        {
            "files": np.array([f"images/{i}.png" for i in range(N)]),
            "ids": np.arange(500, 500 + N),
            "split": split,
            "posebits": posebits,
            "posebit_names": np.array(vocabulary.names[:BITS]),
        },
    )
    write_manifest(gallery, name="tiny", image_size=40, posebit_version=vocabulary.version)
    models = root / "models"
    models.mkdir()
    torch.manual_seed(0)
    image_config = {"width": 0.125, "embedding_dim": 128}
    save_model(
        models / "image_net",
        build_net("compact_resnet", **image_config),
        ModelCard(net="compact_resnet", config=image_config, kind="image", preprocessing={"input_size": 32}),
    )
    posebit_config = {"num_bits": BITS, "hidden": 16, "hidden2": 16, "embedding_dim": 128}
    save_model(
        models / "posebit_net",
        build_net("posebit_mlp", **posebit_config),
        ModelCard(
            net="posebit_mlp",
            config=posebit_config,
            kind="posebit",
            posebit_version=vocabulary.version,
            posebit_names=list(vocabulary.names[:BITS]),
        ),
    )
    return root


def common_args(workspace: Path, cache: Path) -> list[str]:
    """The options every command takes: the tiny gallery and models on CPU, with this cache folder."""
    models = workspace / "models"
    return ["--gallery", str(workspace / "gallery"), "--models", str(models), "--device", "cpu",
            "--cache-dir", str(cache)]


def run(workspace: Path, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    args = parser.parse_args([argv[0], *common_args(workspace, workspace / "cache"), *argv[1:]])
    return int(args.func(args))


def test_embed_then_reopen_uses_cache(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(workspace, "embed", "--json") == 0
    assert json.loads(capsys.readouterr().out)["count"] == N
    engine = RetrievalEngine.open(workspace / "gallery", workspace / "models", "cpu", workspace / "cache")
    assert engine.embeddings.shape == (N, 128) and not engine.warnings
    assert np.allclose(np.linalg.norm(engine.embeddings, axis=1), 1, atol=1e-4)
    assert len(list((workspace / "cache").glob("*/embeddings.npy"))) == 1


def test_query_kinds(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    label = get_vocabulary().labels[0]
    assert run(workspace, "query", "--id", "503", "--k", "5", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["results"][0]["id"] == 503 and "gt_hamming" in out["results"][0]
    for mode in ("full", "conditional", "mask"):
        assert (
            run(workspace, "query", "--posebits", f"{label}=1", "--mode", mode, "--split", "test", "--json")
            == 0
        )
        out = json.loads(capsys.readouterr().out)
        assert len(out["results"]) == 16 and "precision" in out
    assert run(workspace, "query", "--expr", "2*[img 3] - 0.5*[img 4]", "--k", "3") == 0
    assert "query: 2*[img 3] - 0.5*[img 4]" in capsys.readouterr().out
    assert (
        run(workspace, "query", "--image", str(workspace / "gallery/images/7.png"), "--k", "1", "--json") == 0
    )
    assert json.loads(capsys.readouterr().out)["results"][0]["id"] == 507


def test_query_contrast_option_reaches_the_conditional_query(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from posebrowser.errors import QueryError

    names = get_vocabulary().labels[:2]
    posebits = f"{names[0]}=1, {names[1]}=0"
    rankings = []
    for contrast in ("0", "50"):
        argv = ("query", "--posebits", posebits, "--contrast", contrast, "--k", "48", "--json")
        assert run(workspace, *argv) == 0
        rankings.append([r["id"] for r in json.loads(capsys.readouterr().out)["results"]])
    assert sorted(rankings[0]) == sorted(rankings[1]) and rankings[0] != rankings[1]
    with pytest.raises(QueryError, match="0 or more"):
        run(workspace, "query", "--posebits", posebits, "--contrast", "-1")


def test_project_and_export(workspace: Path) -> None:
    assert run(workspace, "project", "--method", "pca", "--out", str(workspace / "map.csv")) == 0
    lines = (workspace / "map.csv").read_text().splitlines()
    assert lines[0] == "id,x,y" and len(lines) == N + 1
    assert run(workspace, "project", "--method", "pca", "--out", str(workspace / "map.npy")) == 0
    assert np.load(workspace / "map.npy").shape == (N, 2)
    assert (
        run(
            workspace,
            "export",
            "--what",
            "results",
            "--id",
            "500",
            "--k",
            "4",
            "--out",
            str(workspace / "r.json"),
        )
        == 0
    )
    assert [r["rank"] for r in json.loads((workspace / "r.json").read_text())] == [1, 2, 3, 4]
    assert run(workspace, "export", "--what", "embeddings", "--out", str(workspace / "e.csv")) == 0
    assert len((workspace / "e.csv").read_text().splitlines()) == N + 1


def test_query_needs_a_query(workspace: Path) -> None:
    from posebrowser.errors import QueryError

    with pytest.raises(QueryError):
        run(workspace, "query")
    with pytest.raises(QueryError):
        run(workspace, "query", "--id", "9999")


@pytest.mark.slow  # two torchrun processes: 1–3 min on the 2-core reference machine under load
def test_torchrun_sharded_embed_matches_single_process(workspace: Path) -> None:
    import subprocess
    import sys

    cache = workspace / "cache_sharded"
    argv = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29533",
        "-m",
        "posebrowser",
        "embed",
        *common_args(workspace, cache),
        "--chunk-rows",
        "16",
        "--json",
    ]
    proc = subprocess.run(
        argv, capture_output=True, text=True, timeout=180, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"count": N, "ranks": 2}
    sharded = RetrievalEngine.open(workspace / "gallery", workspace / "models", "cpu", cache)
    single = RetrievalEngine.open(workspace / "gallery", workspace / "models", "cpu", workspace / "cache")
    np.testing.assert_allclose(sharded.embeddings, single.embeddings, atol=1e-5)


def test_posebit_net_for_another_vocabulary_is_skipped_with_a_warning(
    workspace: Path, tmp_path: Path
) -> None:
    import shutil

    from posebrowser.core.query import Query
    from posebrowser.errors import QueryError

    models = tmp_path / "models"
    shutil.copytree(workspace / "models", models)
    card = json.loads((models / "posebit_net.json").read_text())
    card["posebit_version"] = "pb0-older"
    (models / "posebit_net.json").write_text(json.dumps(card))
    engine = RetrievalEngine.open(workspace / "gallery", models, "cpu", workspace / "cache")
    assert engine.posebit_embedder is None and "pb0-older" in engine.warnings[0]
    name = engine.gallery.posebit_names[0]
    with pytest.raises(QueryError):
        engine.search(Query.posebits([(name, 1)], "conditional"))
    assert len(engine.search(Query.posebits([(name, 1)], "mask"), k=5)) == 5


def test_shipped_embeddings_next_to_the_models_are_used_not_recomputed(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from posebrowser.core.embedder import Embedder

    models = tmp_path / "models"
    shutil.copytree(workspace / "models", models)
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    args = parser.parse_args(["embed", "--gallery", str(workspace / "gallery"), "--models", str(models),
                              "--device", "cpu", "--cache-dir", str(models / "embeddings")])
    assert args.func(args) == 0
    first = RetrievalEngine.open(workspace / "gallery", models, "cpu", tmp_path / "c1")
    reference = np.array(first.embeddings)
    calls: list[int] = []
    original = Embedder.embed_images

    def counting(self: Embedder, *a: object, **k: object) -> np.ndarray:
        calls.append(1)
        return original(self, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(Embedder, "embed_images", counting)
    engine = RetrievalEngine.open(workspace / "gallery", models, "cpu", tmp_path / "c2")
    np.testing.assert_array_equal(engine.embeddings, reference)
    assert len(calls) == 0 and not (tmp_path / "c2").exists()
    # Embeddings of another model are not taken: a retrained net gets its own, recomputed cache.
    (models / "embeddings").rename(tmp_path / "elsewhere")
    (tmp_path / "elsewhere" / next(p.name for p in (tmp_path / "elsewhere").iterdir())).rename(
        tmp_path / "elsewhere" / "0123456789abcdef0123"
    )
    (tmp_path / "elsewhere").rename(models / "embeddings")
    RetrievalEngine.open(workspace / "gallery", models, "cpu", tmp_path / "c3")
    assert len(calls) > 0


def test_unreadable_gallery_images_are_left_out_not_zero_vectors(
    workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: a corrupt image became an all-zero cached row that ranked #1 (d = 0) for every mask query."""
    import shutil

    from posebrowser.core.query import PosebitTerm, Query

    gallery = tmp_path / "gallery"
    shutil.copytree(workspace / "gallery", gallery)
    (gallery / "images" / "30.png").write_bytes(b"\x89PNG not really")  # row 30: a test-split item
    cache = tmp_path / "cache"
    engine = RetrievalEngine.open(gallery, workspace / "models", "cpu", cache)
    assert len(engine.gallery) == N - 1 and 530 not in set(engine.gallery.ids.tolist())
    assert np.isfinite(engine.embeddings).all()
    assert len(engine.warnings) == 1 and "images/30.png" in engine.warnings[0]
    name = engine.vocabulary.names[0]
    result = engine.search(Query((PosebitTerm(((name, 1),), mode="mask"),)), k=N)
    assert 530 not in set(result.ids.tolist())
    stored = np.load(next(cache.glob("*/embeddings.npy")))
    assert not np.isfinite(stored[30]).any()  # the cache holds no vector for it …
    assert np.isfinite(np.delete(stored, 30, axis=0)).all()
    again = RetrievalEngine.open(gallery, workspace / "models", "cpu", cache)  # … and reopening agrees
    assert len(again.gallery) == N - 1 and again.warnings == engine.warnings
    args = ["embed", "--gallery", str(gallery), "--models", str(workspace / "models"), "--device", "cpu",
            "--cache-dir", str(cache)]
    parser = argparse.ArgumentParser()
    command.register(parser.add_subparsers())
    parsed = parser.parse_args(args)
    assert parsed.func(parsed) == 0
    assert capsys.readouterr().err.count("could not be read") == 1


def test_the_fused_model_is_the_default_and_keeps_posebit_queries(workspace: Path, tmp_path: Path) -> None:
    """A models folder with ``fused_net`` opens it by default; it lives in the CNN's space, so the posebit
    net and the masks stay on, and images where the estimator finds nobody (noise) keep the CNN's rows."""
    import shutil

    from posebrowser.core.fused_embedder import FusedEmbedder
    from posebrowser.nets.fusion import EstimatorFusion
    from posebrowser.nets.joints_net import JointsNet

    models = tmp_path / "models"
    shutil.copytree(workspace / "models", models)
    save_model(models / "joints_net", JointsNet(hidden=16), ModelCard("joints_mlp", {"hidden": 16}, "image"))
    save_model(models / "fused_net", EstimatorFusion(), ModelCard("estimator_fusion", {}, "image"))
    fused = RetrievalEngine.open(workspace / "gallery", models, "cpu", tmp_path / "cache")
    cnn = RetrievalEngine.open(
        workspace / "gallery", models, "cpu", tmp_path / "cache", image_model="image_net"
    )
    assert isinstance(fused.image_embedder, FusedEmbedder)
    assert not isinstance(cnn.image_embedder, FusedEmbedder)
    assert fused.posebit_embedder is not None and fused.masks is not None and not fused.warnings
    assert len(fused.image_embedder.no_person_rows) > 0  # noise images: nobody found, the CNN's rows
    rows = fused.image_embedder.no_person_rows
    np.testing.assert_allclose(fused.embeddings[rows], cnn.embeddings[rows], atol=1e-5)
