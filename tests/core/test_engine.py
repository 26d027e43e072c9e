"""RetrievalEngine.from_arrays end to end for every query kind, with ground-truth scoring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from core_fakes import make_gallery, posebit_world
from PIL import Image

from posebrowser.core.embedder import Embedder, PosebitEmbedder
from posebrowser.core.engine import RetrievalEngine
from posebrowser.core.query import ImageTerm, PosebitTerm, Query
from posebrowser.core.query_parser import parse_query
from posebrowser.errors import CorruptFileError, QueryError
from posebrowser.nets.preprocessing import Preprocessing
from posebrowser.pose.posebits import get_vocabulary

BITS = 6


class TinyImageNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3, stride=2)
        self.fc = torch.nn.Linear(8, 128)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.conv(x).mean(dim=(2, 3)))


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> RetrievalEngine:
    torch.manual_seed(0)
    root = tmp_path_factory.mktemp("gallery")
    names = get_vocabulary().names[:BITS]
    posebits, emb = posebit_world(600, bits=BITS, seed=4, noise=1.0)
    posebits[0, 2] = -1
    gallery = make_gallery(root, 600, posebits, names)
    image = Embedder(TinyImageNet(), Preprocessing(input_size=32), "cpu")
    language = PosebitEmbedder(torch.nn.Linear(BITS, 128), "cpu", posebit_names=names)
    return RetrievalEngine.from_arrays(gallery, emb, image, language, vocabulary=get_vocabulary())


def test_image_query_matches_brute_force_and_has_ground_truth(engine: RetrievalEngine) -> None:
    result = engine.search(Query.image(7), k=10)
    ref = np.argsort(np.linalg.norm(engine.embeddings - engine.embeddings[7], axis=1))[:10]
    assert result.indices[0] == 7 and set(result.indices) == set(ref)
    assert list(result.ids) == list(engine.gallery.ids[result.indices])
    assert set(result.gt_distances) == {"2d", "3d", "procrustes", "hamming"}
    assert result.gt_distances["3d"][0] == pytest.approx(0.0, abs=1e-6)
    assert result.correct is None and result.index_kind == "exact (IndexFlatIP)"


def test_split_filter(engine: RetrievalEngine) -> None:
    result = engine.search(Query.image(7), k=30, split="test")
    assert np.all(engine.gallery.split[result.indices] == 2)


def test_posebit_modes_and_correctness(engine: RetrievalEngine) -> None:
    names = engine.gallery.posebit_names
    conditions = ((names[0], 1), (names[3], 0))
    for mode in ("full", "conditional", "mask"):
        result = engine.search(Query.posebits(conditions, mode), k=20, split="test")  # type: ignore[arg-type]
        assert result.correct is not None and result.agreement is not None
        assert result.agreement.shape == (20, 2)
        bits = engine.gallery.posebits[result.indices]
        expected = (bits[:, 0] == 1) & (bits[:, 3] == 0)
        np.testing.assert_array_equal(result.correct, expected)
        assert np.all(np.diff(result.distances) >= -1e-6)
    mask_result = engine.search(Query.posebits(conditions, "mask"), k=20, split="test")
    assert mask_result.mask is not None and mask_result.query_vector is None
    assert mask_result.correct is not None and mask_result.correct.mean() >= 0.7
    total = engine.count_matching(dict(conditions), split="test")
    assert 0 < total < 300


def test_conditional_posebyte_keeps_conditions(engine: RetrievalEngine) -> None:
    names = engine.gallery.posebit_names
    full = engine.posebyte_for({names[1]: 1}, "full")
    conditional = engine.posebyte_for({names[1]: 1}, "conditional")
    assert full[1] == conditional[1] == 1 and full.sum() == 1
    assert set(np.unique(conditional)) <= {0.0, 1.0}


def test_conditional_query_contrasts_each_asked_bit_against_its_flipped_completion(
    engine: RetrievalEngine,
) -> None:
    names = engine.gallery.posebit_names
    conditions = ((names[0], 1), (names[3], 0))
    term = PosebitTerm(conditions, "conditional")
    embed = engine.posebit_embedder.embed  # type: ignore[union-attr]
    completed = embed(engine.posebyte_for(conditions, "conditional")[None, :])[0]
    flipped = [((names[0], 0), (names[3], 0)), ((names[0], 1), (names[3], 1))]
    others = embed(np.stack([engine.posebyte_for(c, "conditional") for c in flipped]))
    strength = engine.conditional_contrast
    assert strength > 0
    expected = completed + strength / 2 * (completed[None, :] - others).mean(axis=0)  # shared by 2 bits
    np.testing.assert_allclose(engine.term_vector(term), expected / np.linalg.norm(expected), atol=1e-5)
    # the thesis' query, the completed posebyte alone, with contrast 0
    np.testing.assert_allclose(engine.term_vector(term, contrast=0.0), completed, atol=1e-6)
    stronger = completed + 8.0 / 2 * (completed[None, :] - others).mean(axis=0)
    np.testing.assert_allclose(
        engine.term_vector(term, contrast=8.0), stronger / np.linalg.norm(stronger), atol=1e-5
    )


def test_a_negative_contrast_is_refused_not_taken_for_the_thesis_query(engine: RetrievalEngine) -> None:
    term = PosebitTerm(((engine.gallery.posebit_names[0], 1),), "conditional")
    with pytest.raises(QueryError, match="0 or more"):
        engine.term_vector(term, contrast=-1.0)
    with pytest.raises(QueryError, match="0 or more"):
        engine.search(Query((term,)), k=5, contrast=-0.5)


def test_arithmetic_feedback_and_file_queries(engine: RetrievalEngine, tmp_path: Path) -> None:
    vocabulary = engine.vocabulary
    label = get_vocabulary().labels[0]
    query = parse_query(f"2*[img 17] + [{label}] - 0.5*[img 3]", vocabulary)
    result = engine.search(query, k=5)
    expected = 2 * engine.embeddings[17] + engine.term_vector(query.terms[1]) - 0.5 * engine.embeddings[3]  # type: ignore[arg-type]
    assert result.query_vector is not None
    np.testing.assert_allclose(result.query_vector, expected / np.linalg.norm(expected), atol=1e-5)
    feedback = Query.image(17).plus(ImageTerm(gallery_index=result.indices[1], weight=-1.0))
    assert engine.search(feedback, k=5).indices[0] != result.indices[1]
    masked = Query((ImageTerm(gallery_index=5), PosebitTerm(((engine.gallery.posebit_names[0], 1),), "mask")))
    combined = engine.search(masked, k=5)
    assert combined.mask is not None and combined.query_vector is not None
    path = tmp_path / "x.png"
    Image.fromarray(np.full((40, 30, 3), 120, np.uint8)).save(path)
    assert len(engine.search(Query((ImageTerm(path=str(path)),)), k=3)) == 3
    (tmp_path / "bad.jpg").write_bytes(b"not an image")
    with pytest.raises(CorruptFileError):
        engine.embed_image_file(tmp_path / "bad.jpg")
    with pytest.raises(QueryError):
        engine.search(Query((ImageTerm(gallery_index=3), ImageTerm(gallery_index=3, weight=-1.0))))
    with pytest.raises(QueryError):
        engine.search(Query.image(10_000))


def test_projection_cache_and_placement(engine: RetrievalEngine) -> None:
    coords = engine.project("pca")
    assert coords.shape == (600, 2) and coords.dtype == np.float32
    assert engine.project("pca") is coords  # cached
    np.testing.assert_allclose(engine.place_in_projection(engine.embeddings[4], "pca"), coords[4], atol=1e-4)
    mask = engine.mask_for({engine.gallery.posebit_names[0]: 1})
    sub = engine.project("pca", subspace_mask=mask)
    assert sub is not coords
    layouts: list[np.ndarray] = []
    tsne = engine.project(
        "tsne", {"n_iter": 60, "early_exaggeration_iter": 40, "every": 20}, on_layout=layouts.append
    )
    assert tsne.shape == (600, 2) and len(layouts) >= 4
    assert engine.place_in_projection(engine.embeddings[0], "tsne").shape == (2,)
    with pytest.raises(QueryError):
        engine.project("isomap")


def test_gallery_with_its_own_posebit_columns(tmp_path: Path) -> None:
    posebits, emb = posebit_world(200, bits=3, seed=6)
    gallery = make_gallery(tmp_path, 200, posebits, ("my_bit_a", "my_bit_b", "my_bit_c"), joints=False)
    engine = RetrievalEngine.from_arrays(gallery, emb)
    query = parse_query("[my bit a=1, my_bit_c=0]{mask}", engine.vocabulary)
    result = engine.search(query, k=10)
    assert result.correct is not None and result.correct.mean() >= 0.7
    assert result.gt_distances == {}
    assert engine.set_device("cpu").name == "cpu"
    with pytest.raises(QueryError):
        engine.search(parse_query("[my_bit_a=1]{full}", engine.vocabulary))  # no posebit network
