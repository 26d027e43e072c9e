"""The numpy rasteriser against a brute-force per-pixel loop."""

from __future__ import annotations

import numpy as np
import pytest

from posebrowser.synth.raster import interpolate, rasterize, rasterize_brute_force


def _assert_same(screen: np.ndarray, faces: np.ndarray, width: int, height: int) -> None:
    fast = rasterize(screen, faces, width, height)
    slow = rasterize_brute_force(screen, faces, width, height)
    np.testing.assert_array_equal(fast.triangle, slow.triangle)
    np.testing.assert_allclose(fast.depth, slow.depth, rtol=1e-6)
    np.testing.assert_allclose(fast.barycentric, slow.barycentric, atol=1e-6)


def test_two_overlapping_triangles_match_brute_force() -> None:
    # a near triangle (depth 1..1.5) partly covering a far one (depth 3), opposite windings
    screen = np.array(
        [
            [1.2, 1.1, 3.0],
            [11.3, 2.0, 3.0],
            [4.0, 9.6, 3.0],
            [3.1, 0.4, 1.0],
            [2.2, 8.7, 1.5],
            [9.9, 6.3, 1.2],
        ]
    )
    faces = np.array([[0, 1, 2], [3, 4, 5]])
    _assert_same(screen, faces, 12, 10)
    fast = rasterize(screen, faces, 12, 10)
    assert set(np.unique(fast.triangle)) == {-1, 0, 1}


def test_random_scene_matches_brute_force() -> None:
    rng = np.random.default_rng(7)
    screen = np.concatenate([rng.uniform(-3, 19, (18, 2)), rng.uniform(0.5, 5, (18, 1))], 1)
    faces = rng.permutation(18).reshape(6, 3)
    _assert_same(screen, faces, 16, 14)


def test_pixel_centres_and_clipping() -> None:
    # triangle covering exactly the pixel centres (0.5, 0.5) .. (2.5, 2.5) lower-left half; partly off-screen
    screen = np.array(
        [
            [0.5, 0.5, 1.0],
            [2.5, 2.5, 1.0],
            [0.5, 2.5, 1.0],
            [-5.0, -5.0, 2.0],
            [-1.0, -5.0, 2.0],
            [-5.0, 1.0, 2.0],
        ]
    )
    faces = np.array([[0, 1, 2], [3, 4, 5]])
    frags = rasterize(screen, faces, 4, 4)
    expected = np.zeros((4, 4), bool)
    expected[[0, 1, 1, 2, 2, 2], [0, 0, 1, 0, 1, 2]] = True
    np.testing.assert_array_equal(frags.mask, expected)
    _assert_same(screen, faces, 4, 4)


def test_behind_camera_and_degenerate_triangles_are_skipped() -> None:
    screen = np.array([[0, 0, -1.0], [5, 0, 1.0], [0, 5, 1.0], [1, 1, 1.0], [2, 2, 1.0], [3, 3, 1.0]])
    frags = rasterize(screen, np.array([[0, 1, 2], [3, 4, 5]]), 6, 6)
    assert not frags.mask.any()
    assert np.isinf(frags.depth).all()


@pytest.mark.parametrize("value", [0.25, 2.0])
def test_interpolation_of_constant_and_linear_attributes(value: float) -> None:
    screen = np.array([[0.0, 0.0, 1.0], [8.0, 0.0, 1.0], [0.0, 8.0, 1.0]])
    faces = np.array([[0, 1, 2]])
    frags = rasterize(screen, faces, 8, 8)
    constant = interpolate(frags, faces, np.full((3, 1), value))
    np.testing.assert_allclose(constant, value, rtol=1e-6)
    xs = interpolate(frags, faces, screen[:, :1])  # x is affine in screen space at constant depth
    rows, cols = np.nonzero(frags.mask)
    np.testing.assert_allclose(xs[:, 0], cols + 0.5, atol=1e-5)
    assert len(rows) > 10
