"""GalleryController on a fake engine: opening a gallery resets the whole session and picks the default
split, a failed open is reported and ends its job, the device switch reports a fallback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from fake_engine import make_engine
from session_rig import make_rig

from posebrowser.core.query import ImageTerm, Query
from posebrowser.data.gallery_format import SPLITS
from posebrowser.errors import DataError
from posebrowser.gui.controllers.gallery import GalleryController, default_split, engine_info


def test_opening_a_gallery_resets_the_session_and_draws_its_map(qtbot: Any, tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.queries.request_query(Query((ImageTerm(gallery_index=3, path=None, weight=1.0),)))
    rig.queries.request_query(Query((ImageTerm(gallery_index=4, path=None, weight=1.0),)))
    rig.state.set_conditions({rig.engine.vocabulary.names[0]: 1})
    rig.state.set_selection([1, 2])
    rig.engine.warnings = ("The model is older than the gallery.",)  # type: ignore[attr-defined]
    rig.recorder.clear()
    rig.galleries.load()
    state = rig.state
    assert (state.query, state.results, state.conditions, state.selection.size) == (None, None, {}, 0)
    assert state.gallery_path == str(rig.engine.gallery.root)
    assert rig.recorder.args("message") == [("The model is older than the gallery.",)]
    assert rig.recorder.args("history_changed") == [(False, False)], "a new gallery starts a new history"
    assert rig.recorder.args("job_started")[0] == ("engine", "Loading gallery and model…")
    assert rig.recorder.args("match_count_changed") == [(120,)]
    assert state.projection is not None and state.projection.method == state.settings.projection_method
    (info,) = rig.recorder.args("engine_changed")[0]
    assert info == engine_info(rig.engine) and info.gallery_size == 120 and info.model_name == "fake_net"


def test_the_layout_cache_does_not_outlive_its_gallery(qtbot: Any, tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.projections.request_projection("tsne")
    other = make_engine(tmp_path / "other", count=60, seed=3)
    opened = GalleryController(rig.state, rig.workers, lambda ctx, path: other, rig.queries, rig.projections)
    opened.load(str(tmp_path / "other"))
    rig.projections.request_projection("tsne")
    assert "project:tsne" in other.calls, "the other gallery's t-SNE is computed, not taken from the cache"
    assert rig.state.projection.coords.shape == (60, 2)  # type: ignore[union-attr]
    assert rig.state.gallery_path == str(tmp_path / "other")


def test_a_failed_open_is_reported_and_ends_its_job(qtbot: Any, tmp_path: Path) -> None:
    rig = make_rig(tmp_path, load=False)
    error = DataError("No gallery here.")

    def broken(ctx: Any, path: str | None) -> Any:
        raise error

    failing = GalleryController(rig.state, rig.workers, broken, rig.queries, rig.projections)
    loaded: list[bool] = []
    failing.load("nowhere", on_loaded=lambda: loaded.append(True))
    assert rig.recorder.events == [
        ("job_started", ("engine", "Loading gallery and model…")),
        ("job_finished", ("engine",)),
        ("error_occurred", (error,)),
    ]
    assert loaded == [] and rig.state.engine is None


def test_the_default_split_is_test_only_with_an_image_model_and_test_items(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "images", count=50)
    assert default_split(engine) is None, "no image model: every item"
    engine.image_embedder = object()  # type: ignore[attr-defined]
    assert default_split(engine) == "test"
    engine.gallery.split = np.full(50, SPLITS.index("train"), dtype=np.uint8)
    assert default_split(engine) is None, "no test items: every item"


def test_a_device_fallback_is_reported(qtbot: Any, tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.galleries.set_device("cuda")
    assert rig.recorder.args("message") == [("Using cpu: CUDA is not available; using the CPU.",)]
    rig.recorder.clear()
    rig.galleries.set_device("cpu")
    assert rig.recorder.args("message") == [] and rig.recorder.names() == ["engine_changed"]
    assert rig.engine.calls[-2:] == ["device:cuda", "device:cpu"]


def test_the_status_bar_names_a_mirror_view_net_by_its_plain_net() -> None:
    from types import SimpleNamespace

    from posebrowser.nets.mirror_view import MirrorViewNet
    from posebrowser.nets.registry import build_net

    plain = build_net("compact_resnet", width=0.125, blocks=[1, 1, 1, 1], embedding_dim=128)
    engine = SimpleNamespace(
        gallery=[],
        image_embedder=SimpleNamespace(module=MirrorViewNet(plain), model_sha256="837e55f8ab"),
        device=SimpleNamespace(name="cpu"),
        index=SimpleNamespace(kind="exact"),
    )
    assert engine_info(engine).model_name == "CompactImageNet + mirrored view 837e55f8"
    engine.image_embedder.module = plain
    assert engine_info(engine).model_name == "CompactImageNet 837e55f8"


def test_the_status_bar_names_every_reader_of_the_fused_model() -> None:
    from types import SimpleNamespace

    from torch import nn

    from posebrowser.gui.controllers.gallery import _model_name
    from posebrowser.nets.keypoint_reader import KeypointReader

    class LiteImageNet(nn.Module):
        pass

    reader = SimpleNamespace(module=KeypointReader.__new__(KeypointReader))
    joints = SimpleNamespace(module=None)
    fused = SimpleNamespace(module=LiteImageNet(), model_sha256="99ca66ff1234", fusion=object(),
                            readers=[joints, reader])
    assert _model_name(SimpleNamespace(image_embedder=fused, model_name=None)) == (
        "LiteImageNet + pose estimator + keypoint reader 99ca66ff")
    fused.readers = [joints]
    assert _model_name(SimpleNamespace(image_embedder=fused, model_name=None)) == (
        "LiteImageNet + pose estimator 99ca66ff")
