"""ProjectionController on a fake engine: layouts are cached per method, parameters and subspace; a
failed or cancelled layout leaves the shown map and the settings naming it; the query's point follows
the results; a distance colouring the query cannot give falls back to plain points."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from session_rig import Rig, make_rig

from posebrowser.core.query import ImageTerm, Query
from posebrowser.errors import DataError, JobCancelledError


@pytest.fixture
def rig(qtbot: Any, tmp_path: Path) -> Rig:
    return make_rig(tmp_path)


def recorded_projections(rig: Rig) -> list[tuple[str, dict[str, Any]]]:
    """Make the engine record (method, params) of every layout it computes."""
    asked: list[tuple[str, dict[str, Any]]] = []
    project = rig.engine.project

    def recording(method: str, params: Any = None, **options: Any) -> Any:
        asked.append((method, dict(params or {})))
        return project(method, params, **options)

    rig.engine.project = recording  # type: ignore[method-assign]
    return asked


def test_layouts_are_cached_per_method_and_parameters(rig: Rig) -> None:
    asked = recorded_projections(rig)
    projections = rig.projections
    projections.request_projection("tsne")
    projections.set_projection_params("tsne", {"perplexity": 50.0})
    projections.set_projection_params("umap", {"n_neighbors": 40})  # not shown: nothing computed
    projections.set_projection_params("tsne", {"perplexity": 50.0})  # unchanged: nothing computed
    projections.request_projection("pca")  # the PCA map of the load is cached
    projections.request_projection("tsne")  # the perplexity-50 map is cached
    projections.set_projection_params("tsne", {})  # back to the defaults: cached too
    assert asked == [("tsne", {}), ("tsne", {"perplexity": 50.0})]
    assert rig.state.projection is not None and rig.state.projection.method == "tsne"
    assert projections.projection_params("umap") == {"n_neighbors": 40}


def test_a_subspace_map_follows_the_ticks_and_has_no_query_point(rig: Rig) -> None:
    name = rig.engine.vocabulary.names[0]
    rig.queries.request_query(Query((ImageTerm(gallery_index=3, path=None, weight=1.0),)))
    assert rig.state.projection is not None and rig.state.projection.query_point is not None
    rig.state.set_conditions({name: 1})
    rig.projections.request_projection(subspace=True)
    assert rig.state.projection.subspace == ((name, 1),)
    assert rig.state.projection.query_point is None, "a subspace map cannot place the query"


def test_the_query_point_is_placed_where_the_engine_places_it(rig: Rig) -> None:
    rig.queries.request_query(Query((ImageTerm(gallery_index=3, path=None, weight=1.0),)))
    shown = rig.state.projection
    assert shown is not None and shown.final
    expected = rig.engine.place_in_projection(rig.state.results.result.query_vector, "pca")  # type: ignore[union-attr]
    np.testing.assert_allclose(shown.query_point, expected)  # type: ignore[arg-type]


@pytest.mark.parametrize("error", [DataError("The map broke."), JobCancelledError("Projection cancelled.")])
def test_a_failed_layout_leaves_the_shown_map_and_the_settings_name_it(rig: Rig, error: Exception) -> None:
    shown = rig.state.projection
    project = rig.engine.project

    def failing(method: str, *args: Any, **options: Any) -> Any:
        if method == "tsne":
            raise error
        return project(method, *args, **options)

    rig.engine.project = failing  # type: ignore[method-assign]
    rig.projections.request_projection("tsne", subspace=False)
    assert rig.state.projection is shown and rig.state.settings.projection_method == "pca"
    assert rig.recorder.names().count("job_started") == rig.recorder.names().count("job_finished") == 1
    if isinstance(error, JobCancelledError):
        assert rig.recorder.args("info") == [
            ("Projection cancelled; the map still shows the previous one (PCA).",)
        ]
        assert rig.recorder.args("error_occurred") == []
    else:
        assert rig.recorder.args("error_occurred") == [(error,)]


def test_describe_names_the_subspace_posebits(rig: Rig) -> None:
    bits = rig.engine.vocabulary.bits
    rig.state.set_conditions({bits[0].name: 1, bits[3].name: 0})
    rig.projections.request_projection("tsne", subspace=True)
    assert rig.projections.describe(rig.state.projection) == (  # type: ignore[arg-type]
        f"t-SNE of the subspace of: {bits[0].label}, not {bits[3].label}"
    )


def test_a_distance_colouring_the_query_cannot_give_falls_back_to_plain(rig: Rig, tmp_path: Path) -> None:
    rig.queries.request_query(Query((ImageTerm(gallery_index=3, path=None, weight=1.0),)))
    rig.projections.set_colour_by("distance:hamming")
    assert rig.state.colours.values is not None and rig.state.colours.values.shape == (120,)
    photo = str(rig.engine.gallery.image_path(0))  # a file, not a gallery item: no ground truth
    rig.recorder.clear()
    rig.queries.request_image_file(photo)
    assert rig.state.colours.spec == "distance:hamming" and rig.state.colours.values is None
    assert rig.recorder.args("error_occurred") == [] and len(rig.recorder.args("info")) == 1
    rig.projections.set_colour_by("distance:hamming")  # asked for by the user: an error, not a fallback
    assert len(rig.recorder.args("error_occurred")) == 1


def test_colour_by_none_and_posebit(rig: Rig) -> None:
    name = rig.engine.vocabulary.names[2]
    rig.projections.set_colour_by(f"posebit:{name}")
    values = rig.state.colours.values
    assert values is not None and rig.state.colours.categorical
    column = rig.engine.gallery.posebits[:, 2]
    np.testing.assert_array_equal(np.isnan(values), column < 0)
    np.testing.assert_array_equal(values[column >= 0], column[column >= 0])
    rig.projections.set_colour_by("none")
    assert rig.state.colours.values is None and rig.state.settings.colour_by == "none"
