"""Acceptance on the engine: a folder of real photos with no annotation file opens as a retrieval engine
whose joints and posebits were estimated (and say so), posebit counts and the posebit filter count the
estimated bits, a posebit query marks its results green or red from them, and ``posebrowser query`` /
``posebrowser evaluate`` run on the folder and say the annotations are estimated."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from posebrowser.cli import main as cli_main
from posebrowser.core.engine import RetrievalEngine, default_models_dir
from posebrowser.core.masks import satisfies
from posebrowser.core.query import PosebitTerm, Query
from posebrowser.data.gallery import Gallery
from posebrowser.data.image_folder import annotations_estimated
from posebrowser.estimate.folder import ESTIMATED, NOT_ESTIMATED

from .photo_folders import EMPTY_ROOM, build_photo_folder

pytestmark = pytest.mark.skipif(
    not (default_models_dir() / "image_net.safetensors").is_file(), reason="the shipped models are missing"
)


@pytest.fixture(scope="module")
def folder(gallery: Gallery, tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mediapipe")
    return build_photo_folder(tmp_path_factory.mktemp("own") / "photos", gallery, renders=14)


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def engine(folder: Path, cache_dir: Path) -> RetrievalEngine:
    return RetrievalEngine.open(folder, device="cpu", cache_dir=cache_dir)


def _split_bit(annotated: Any) -> tuple[str, int]:
    """A posebit that some images hold and some known others do not (the best-balanced one)."""
    bits = annotated.posebits
    ones, zeros = (bits == 1).sum(axis=0), (bits == 0).sum(axis=0)
    column = int(np.argmax(np.minimum(ones, zeros)))
    assert min(ones[column], zeros[column]) >= 1, "no estimated posebit differs between the photos"
    return annotated.posebit_names[column], column


def test_the_folder_opens_annotated_and_marked_estimated(engine: RetrievalEngine, folder: Path) -> None:
    gallery = engine.gallery
    assert gallery.kind == "folder" and annotations_estimated(gallery)
    assert gallery.posebits is not None and gallery.joints_3d is not None and gallery.joints_2d is not None
    assert not (folder / "metadata.csv").exists()
    row = {name: i for i, name in enumerate(gallery.files)}
    for photo in ("astronaut.png", "camera.png", "grace_hopper.jpg"):
        assert gallery.source[row[photo]] == ESTIMATED, photo
    empty = row[EMPTY_ROOM]
    assert gallery.source[empty] == NOT_ESTIMATED
    assert np.all(gallery.posebits[empty] == -1) and np.isnan(gallery.joints_3d[empty]).all()
    assert sum(s == ESTIMATED for s in gallery.source) >= len(gallery) - 3
    assert any("estimated from the photos" in warning for warning in engine.warnings)
    assert sum(EMPTY_ROOM in warning for warning in engine.warnings) == 1, engine.warnings


def test_posebit_counts_and_the_filter_count_the_estimated_bits(engine: RetrievalEngine) -> None:
    bits = engine.gallery.posebits
    rng = np.random.default_rng(7)
    names = engine.gallery.posebit_names
    for _ in range(20):
        columns = rng.choice(len(names), size=int(rng.integers(1, 4)), replace=False)
        conditions = {names[c]: int(rng.integers(0, 2)) for c in columns}
        expected = sum(
            all(bits[r, names.index(n)] == v for n, v in conditions.items()) for r in range(len(bits))
        )
        assert engine.count_matching(conditions) == expected
        assert int(satisfies(bits, {names.index(n): v for n, v in conditions.items()}).sum()) == expected


@pytest.mark.parametrize("mode", ["mask", "conditional"])
def test_a_posebit_query_marks_results_from_the_estimated_bits(engine: RetrievalEngine, mode: str) -> None:
    name, column = _split_bit(engine.gallery)
    result = engine.search(Query((PosebitTerm(((name, 1),), mode=mode),)), k=len(engine.gallery))
    assert result.correct is not None and len(result.indices) == len(engine.gallery)
    held = engine.gallery.posebits[result.indices, column] == 1
    np.testing.assert_array_equal(result.correct, held)
    assert result.correct.any() and not result.correct.all(), "both green and red marks"
    unknown = engine.gallery.posebits[result.indices, column] == -1
    assert np.all(result.agreement[unknown, 0] == -1)


def test_posebrowser_query_on_the_folder_says_the_marks_are_estimated(
    engine: RetrievalEngine, folder: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name, column = _split_bit(engine.gallery)
    argv = [
        "query",
        "--gallery",
        str(folder),
        "--cache-dir",
        str(cache_dir),
        "--device",
        "cpu",
        "--posebits",
        f"{name}=1",
        "--mode",
        "mask",
        "--k",
        str(len(engine.gallery)),
        "--json",
    ]
    assert cli_main(argv) == 0
    captured = capsys.readouterr()
    payload = json.loads(captured.out)
    assert payload["annotations"] == "estimated"
    holders = {engine.gallery.files[r] for r in np.flatnonzero(engine.gallery.posebits[:, column] == 1)}
    assert {row["file"] for row in payload["results"] if row["correct"]} == holders
    assert "estimated from the photos" in captured.err and captured.err.count(EMPTY_ROOM) == 1


def test_posebrowser_evaluate_runs_on_the_folder_and_says_it_is_estimated(
    engine: RetrievalEngine, folder: Path, cache_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = [
        "evaluate",
        "--gallery",
        str(folder),
        "--cache-dir",
        str(cache_dir),
        "--device",
        "cpu",
        "--k-max",
        "3",
        "--no-untrained",
        "--min-count",
        "2",
    ]
    assert cli_main(common) == 0
    text = capsys.readouterr().out
    assert "Note: The annotations are estimated from the photos" in text
    assert "has no 'val' split: a random half" in text and "hit@k" in text.lower()
    assert cli_main([*common, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    meta = report["meta"]
    posed = sum(s == ESTIMATED for s in engine.gallery.source)
    assert meta["annotations"] == "estimated"
    assert (meta["query_split"], meta["database_split"]) == ("test (half 1)", "test (half 2)")
    assert (meta["query_split"], meta["database_split"]) == ("test (half 1)", "test (half 2)")
    assert meta["database_size"] + meta["query_count"] == posed
    assert {"2d", "3d", "procrustes", "hamming"} <= set(meta["ground_truth_metrics"])
    for table in report["tables"]:
        for values in table["series"].values():
            assert np.all(np.isfinite(values)), table["title"]


def test_posebrowser_embed_does_not_annotate_the_folder(
    folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CNN alone needs no pose estimate; the default fused model estimates each image once, for its
    reading only (the folder's annotation is not built: one estimate per image, not two)."""
    cache = tmp_path / "cache"
    base = ["embed", "--gallery", str(folder), "--cache-dir", str(cache), "--device", "cpu"]
    assert cli_main([*base, "--image-model", "image_net"]) == 0
    assert "embedded" in capsys.readouterr().out
    assert not (cache / "estimates").exists(), "the CNN's embeddings need no annotations"
    assert cli_main(base) == 0
    estimates = [path for path in (cache / "estimates").rglob("*") if path.is_file()]
    images = [path for path in folder.rglob("*") if path.suffix.lower() in (".jpg", ".jpeg", ".png")]
    assert 0 < len(estimates) <= 2 * len(images)
