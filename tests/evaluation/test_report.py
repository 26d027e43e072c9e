"""Report tables, JSON/PNG output and the evaluate command on a fake engine."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from posebrowser.core.conditional import ConditionalPosebyteModel
from posebrowser.data.gallery_format import SPLITS
from posebrowser.errors import DataError
from posebrowser.evaluation import command
from posebrowser.evaluation.command import evaluate_engine, posebit_question_rankings, register
from posebrowser.evaluation.metrics import chance_hit_at_k, hit_at_k
from posebrowser.evaluation.report import (
    build_report,
    evaluate_image_retrieval,
    evaluate_posebit_questions,
    format_report_text,
    write_report,
)


def test_image_retrieval_tables() -> None:
    rng = np.random.default_rng(0)
    q, d = rng.normal(size=(30, 4)), rng.normal(size=(120, 4))
    gt = rng.random((30, 120))
    tables = evaluate_image_retrieval(q, d, {"2d": gt}, ks=(1, 2, 3), threshold=10, units={"2d": "px"})
    assert [t.key for t in tables] == ["hit@k/2d", "distance@k/2d"]
    hit, dist = tables
    np.testing.assert_allclose(hit.series["image query"], hit_at_k(q, d, gt, (1, 2, 3), 10) * 100)
    np.testing.assert_allclose(hit.series["chance"], chance_hit_at_k(120, (1, 2, 3), 10) * 100)
    assert hit.details["window"] == 11 and dist.unit == "px"
    assert set(dist.series) == {"image query", "image query (thesis variant)", "chance"}


def test_posebit_questions_hand_case() -> None:
    posebits = np.array([[1, 0], [1, 1], [0, 1], [0, 0]], dtype=np.int8)
    methods = {
        "perfect": {("a", 1): np.array([0, 1]), ("b", 1): np.array([1, 2])},
        "wrong": {("a", 1): np.array([2, 3]), ("b", 1): np.array([0, 3]), ("b", 0): np.array([0, 3])},
    }
    table = evaluate_posebit_questions(methods, posebits, ("a", "b"), ks=(1, 2))
    assert table.details["conditions"] == 2  # ("b", 0) is answered by one method only
    assert table.series["perfect"] == [100.0, 100.0]
    assert table.series["wrong"] == [0.0, 0.0]
    assert table.series["chance"] == [50.0, 50.0]
    assert table.details["per_condition"]["a=1"]["perfect"] == [100.0, 100.0]


def test_report_json_text_and_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    tables = evaluate_image_retrieval(
        rng.normal(size=(5, 3)), rng.normal(size=(40, 3)), {"3d": rng.random((5, 40))}
    )
    report = build_report(tables, {"gallery": "tiny"})
    assert json.loads(json.dumps(report)) == report
    text = format_report_text(report)
    assert "hit@k (3d)" in text and "chance" in text
    json_path, png_path = write_report(report, tmp_path / "out")
    assert json.loads(json_path.read_text())["meta"]["gallery"] == "tiny"
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png_path.stat().st_size > 5000


class _FakePosebitEmbedder:
    posebit_names = ("a", "b", "c")
    model_sha256 = "posebit"

    def embed(self, posebytes: NDArray[np.float32]) -> NDArray[np.float32]:
        return _fake_embedding(np.asarray(posebytes, dtype=np.float32))


def _fake_embedding(posebytes: NDArray[np.float32]) -> NDArray[np.float32]:
    """Bit a=1 puts dimension 0 at the origin (so an origin-anchored mask finds it); b, c map to ±1."""
    vectors = posebytes * 2 - 1
    vectors[:, 0] = 1 - posebytes[:, 0]
    return vectors


class _FakeMasks:
    def shipped(self, name: str, value: int) -> NDArray[np.float32] | None:
        if (name, value) != ("a", 1):
            return None
        mask = np.ones(3, dtype=np.float32)
        mask[0] = 10.0
        return mask


def _fake_engine(num: int = 90, seed: int = 0) -> Any:
    rng = np.random.default_rng(seed)
    posebits = rng.integers(0, 2, size=(num, 3)).astype(np.int8)
    split = np.repeat(np.arange(3, dtype=np.uint8), num // 3)
    noise = rng.normal(scale=0.3, size=(num, 3)).astype(np.float32)
    embeddings = _fake_embedding(posebits.astype(np.float32)) + noise
    gallery = SimpleNamespace(
        name="fake",
        root=Path("/fake"),
        posebits=posebits,
        posebit_names=("a", "b", "c"),
        split=split,
        joints_2d=None,
        joints_3d=None,
        split_indices=lambda name: np.flatnonzero(split == SPLITS.index(name)),
        has_ground_truth=lambda metric: metric == "hamming",
        # images that show only noise: the raw-pixel baseline has nothing to go on
        load_image=lambda row: Image.fromarray(
            np.random.default_rng(int(row)).integers(0, 256, (8, 8, 3), dtype=np.uint8)
        ),
    )
    embedder = _FakePosebitEmbedder()

    def term_vector(term: Any, contrast: float | None = None) -> NDArray[np.float32]:
        posebyte = np.full((1, 3), 0.5, dtype=np.float32)
        for name, value in term.conditions:
            posebyte[0, "abc".index(name)] = value
        vector: NDArray[np.float32] = embedder.embed(posebyte)[0]
        return vector

    return SimpleNamespace(
        gallery=gallery,
        embeddings=embeddings,
        posebit_embedder=embedder,
        image_embedder=None,
        masks=_FakeMasks(),
        conditional=ConditionalPosebyteModel.fit(posebits[split == 0]),
        vocabulary=SimpleNamespace(names=("a", "b", "c")),
        term_vector=term_vector,
        mask_for=lambda conditions: np.ones(3, dtype=np.float32),
    )


def test_evaluate_engine_on_fake_engine() -> None:
    report = evaluate_engine(_fake_engine(), ks=(1, 2, 3), threshold=3)
    keys = [table["key"] for table in report["tables"]]
    assert keys == ["hit@k/hamming", "distance@k/hamming", "true50@10", "precision@k/posebit_questions"]
    hit = report["tables"][0]["series"]
    assert set(hit) >= {"image query", "posebyte query (ground-truth posebyte)", "chance"}
    assert hit["posebyte query (ground-truth posebyte)"][0] > hit["chance"][0]
    # the oracle ranks by the ground-truth bits themselves: a perfect hamming hit@1
    assert hit[command.ORACLE][0] == 100.0 and command.PIXELS in hit
    overlap = report["tables"][2]
    assert overlap["details"]["metrics"] == ["hamming"] and command.ORACLE in overlap["series"]
    questions = report["tables"][3]
    assert questions["details"]["conditions"] == 1  # only a=1 has a shipped mask
    assert questions["series"]["posebyte query (conditional)"][0] == 100.0
    assert questions["series"]["mask (origin query)"][0] > questions["series"]["chance"][0]
    assert report["meta"]["database_size"] == 30 and report["meta"]["query_count"] == 30


def test_mask_rankings_use_norm_of_masked_embedding() -> None:
    engine = _fake_engine()
    db_rows = engine.gallery.split_indices("test")
    methods = posebit_question_rankings(engine, db_rows, engine.gallery.split_indices("val"), 4)
    norms = np.linalg.norm(engine.embeddings[db_rows] * _FakeMasks().shipped("a", 1), axis=1)
    np.testing.assert_array_equal(methods["mask (origin query)"][("a", 1)], db_rows[np.argsort(norms)[:4]])
    assert set(methods["mask (origin query)"]) == {("a", 1)}
    assert len(methods["posebyte query (conditional)"]) == 6
    # the fake engine has no contrast, so the thesis' row ranks exactly as the app's
    assert methods[command.THESIS_CONDITIONAL_ROW].keys() == methods["posebyte query (conditional)"].keys()
    for condition, ranking in methods[command.THESIS_CONDITIONAL_ROW].items():
        np.testing.assert_array_equal(ranking, methods["posebyte query (conditional)"][condition])


def test_completion_oracle_ranks_by_the_hamming_distance_to_the_completed_posebyte() -> None:
    engine = _fake_engine()
    engine.gallery.posebits[engine.gallery.split_indices("test")[:5], 2] = -1  # unknown bits do not count
    db_rows = engine.gallery.split_indices("test")
    label = "completed posebyte, ground-truth bits (oracle)"
    methods = posebit_question_rankings(engine, db_rows, engine.gallery.split_indices("val"), 4)
    assert len(methods[label]) == 6
    for (name, value), ranking in methods[label].items():
        column = "abc".index(name)
        completed = engine.conditional.complete({column: value}).posebyte
        bits = engine.gallery.posebits
        distance = [
            sum(int(b) != int(c) for b, c in zip(bits[row], completed, strict=True) if b >= 0)
            for row in db_rows
        ]
        expected = db_rows[sorted(range(len(db_rows)), key=lambda i: (distance[i], i))[:4]]
        np.testing.assert_array_equal(ranking, expected)


def test_empty_split_is_a_data_error() -> None:
    engine = _fake_engine()
    engine.gallery.split_indices = lambda name: np.zeros(0, dtype=np.int64)
    with pytest.raises(DataError, match="no images in the 'test' split"):
        evaluate_engine(engine)


def test_command_runs_with_patched_engine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import posebrowser.core.engine as engine_module

    fake = _fake_engine()
    monkeypatch.setattr(engine_module.RetrievalEngine, "open", classmethod(lambda cls, *a, **k: fake))
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(
        ["evaluate", "--json", "--k-max", "3", "--threshold", "2", "--out", str(tmp_path), "--no-joints"]
    )  # the fake gallery has no image files for the pose estimator (test_joints_rows.py covers those rows)
    assert args.func is command.run_evaluate
    assert args.func(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["meta"]["threshold"] == 2 and printed["meta"]["ks"] == [1, 2, 3]
    assert (tmp_path / "report.json").is_file() and (tmp_path / "report.png").is_file()


def test_mean_query_baseline_is_reported_for_posebit_questions() -> None:
    report = evaluate_engine(_fake_engine(), ks=(1, 2, 3), threshold=3)
    series = next(t for t in report["tables"] if t["key"] == "precision@k/posebit_questions")["series"]
    assert "mean query (full posebyte)" in series and "example image query" in series


def test_untrained_baseline_is_a_fresh_copy_of_the_same_net(tmp_path: Path) -> None:
    import torch
    from PIL import Image

    from posebrowser.core.embedder import Embedder
    from posebrowser.evaluation.command import untrained_embeddings
    from posebrowser.nets.preprocessing import compact_preprocessing
    from posebrowser.nets.registry import build_net

    rng = np.random.default_rng(0)
    paths = []
    for i in range(6):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(paths[-1])
    torch.manual_seed(1)
    net = build_net("compact_resnet", width=0.125, embedding_dim=128)
    with torch.no_grad():
        for parameter in net.parameters():  # "trained": far from any fresh initialisation
            parameter.add_(torch.randn_like(parameter))
    before = [p.detach().clone() for p in net.parameters()]
    embedder = Embedder(net, compact_preprocessing(32), "cpu", precision="fp32")
    gallery = type("G", (), {"__len__": lambda self: 6, "image_path": lambda self, i: paths[i]})()
    engine = SimpleNamespace(image_embedder=embedder, gallery=gallery)
    rows = np.arange(6)
    fresh = untrained_embeddings(engine, rows, seed=0)
    assert fresh is not None and fresh.shape == (6, 128)
    # oracle: the fresh copy's unit outputs in float64; the baseline keeps their distances up to one scale
    oracle_net = build_net("compact_resnet", width=0.125, embedding_dim=128).double().eval()
    torch.manual_seed(0)
    for layer in oracle_net.modules():
        if callable(getattr(layer, "reset_parameters", None)):
            layer.reset_parameters()
    inputs = torch.from_numpy(embedder.prepare_batch(paths, 0)[0]).permute(0, 3, 1, 2).double()
    with torch.inference_mode():
        unit = torch.nn.functional.normalize(oracle_net(inputs), dim=1).numpy()
    expected, got = _pairwise(unit), _pairwise(fresh)
    np.testing.assert_allclose(got / got.mean(), expected / expected.mean(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fresh, untrained_embeddings(engine, rows, seed=0), atol=1e-6)  # seeded
    trained = embedder.embed_images(gallery, indices=rows)
    assert not np.allclose(fresh, trained, atol=1e-3)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))  # untouched
    assert untrained_embeddings(SimpleNamespace(image_embedder=None), rows, 0) is None


def _pairwise(vectors: np.ndarray) -> np.ndarray:
    return np.asarray(np.linalg.norm(vectors[:, None, :] - vectors[None, :, :], axis=2), dtype=np.float64)


def test_untrained_baseline_ranks_a_collapsed_net_exactly(tmp_path: Path) -> None:
    """A freshly initialised deep net maps every image to almost the same unit vector (on the shipped
    EfficientNet two images' outputs differ by ~1e-8 relative). In float32 that difference is rounding
    noise and the baseline's order changed between CPUs; the baseline must rank by the net's own outputs."""
    import torch
    from PIL import Image

    from posebrowser.core.embedder import Embedder
    from posebrowser.evaluation.command import untrained_embeddings
    from posebrowser.nets.preprocessing import compact_preprocessing

    class Collapsed(torch.nn.Module):  # a huge constant (not reset) plus small image features
        def __init__(self) -> None:
            super().__init__()
            self.conv = torch.nn.Conv2d(3, 8, 3)
            self.register_buffer("offset", torch.full((8,), 1e9))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.offset.to(x.dtype) + self.conv(x).mean(dim=(2, 3))

    rng = np.random.default_rng(5)
    paths = []
    for i in range(12):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)).save(paths[-1])
    embedder = Embedder(Collapsed(), compact_preprocessing(32), "cpu", precision="fp32")
    gallery = type("G", (), {"__len__": lambda self: 12, "image_path": lambda self, i: paths[i]})()
    in_float32 = embedder.embed_images(gallery)
    assert np.ptp(in_float32, axis=0).max() == 0  # the premise: float32 cannot tell the images apart
    fresh = untrained_embeddings(SimpleNamespace(image_embedder=embedder, gallery=gallery), np.arange(12), 0)
    assert fresh is not None
    # oracle: to first order, normalising c·1 + f keeps f's part orthogonal to 1, scaled by 1/|c·1|
    oracle = Collapsed().double()
    torch.manual_seed(0)
    oracle.conv.reset_parameters()
    inputs = torch.from_numpy(embedder.prepare_batch(paths, 0)[0]).permute(0, 3, 1, 2).double()
    with torch.inference_mode():
        features = oracle.conv(inputs).mean(dim=(2, 3)).numpy()
    projected = features - features.mean(axis=1, keepdims=True)
    expected, got = _pairwise(projected), _pairwise(fresh)
    np.testing.assert_allclose(got / got.mean(), expected / expected.mean(), rtol=1e-4, atol=1e-6)
    off_diagonal = ~np.eye(12, dtype=bool)
    nearest = np.where(off_diagonal, got, np.inf).argmin(axis=1)
    assert np.array_equal(nearest, np.where(off_diagonal, expected, np.inf).argmin(axis=1))


def test_untrained_baseline_gives_an_unreadable_image_a_nan_row(tmp_path: Path) -> None:
    import torch
    from PIL import Image

    from posebrowser.core.embedder import Embedder
    from posebrowser.evaluation.command import untrained_embeddings
    from posebrowser.nets.preprocessing import compact_preprocessing

    paths = [tmp_path / f"{i}.png" for i in range(4)]
    for i, path in enumerate(paths):
        Image.fromarray(np.full((40, 40, 3), 60 * i, np.uint8)).save(path)
    paths[2].write_bytes(b"not an image")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    embedder = Embedder(net, compact_preprocessing(32), "cpu", precision="fp32")
    gallery = type("G", (), {"__len__": lambda self: 4, "image_path": lambda self, i: paths[i]})()
    fresh = untrained_embeddings(SimpleNamespace(image_embedder=embedder, gallery=gallery), np.arange(4), 0)
    assert fresh is not None
    assert np.isnan(fresh[2]).all() and np.isfinite(fresh[[0, 1, 3]]).all()


def test_markdown_tables_and_report_files(tmp_path: Path) -> None:
    from posebrowser.evaluation.report import format_report_markdown, write_report

    report = evaluate_engine(_fake_engine(), ks=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), threshold=3)
    text = format_report_markdown(report)
    lines = text.splitlines()
    assert lines[0].startswith("| hit@k [%] | hamming @1 | hamming @5 | hamming @10 |")
    image_row = next(line for line in lines if line.startswith("| image query |"))
    hit = report["tables"][0]["series"]["image query"]
    assert image_row == f"| image query | {hit[0]:.1f} | {hit[4]:.1f} | {hit[9]:.1f} |"
    assert any(line.startswith("| posebit questions: precision@k [%] |") for line in lines)
    assert "Monte Carlo" not in text and "distance" not in text
    write_report(report, tmp_path / "out")
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"report.json", "report.md", "report.png"}


def test_queries_never_search_their_own_split() -> None:
    with pytest.raises(DataError, match="find itself"):
        evaluate_engine(_fake_engine(), split="val", query_split="val", ks=(1, 2, 3), threshold=3)
