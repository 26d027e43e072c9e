"""Ground-truth distances against brute-force per-pair oracles, invariances and error handling."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from posebrowser.errors import DataError, QueryError
from posebrowser.pose import similarity
from posebrowser.pose.similarity import (
    METRICS,
    distances_2d,
    distances_3d,
    distances_hamming,
    distances_procrustes,
    metric_by_name,
    pairwise_distances,
)


def poses(n: int, dims: int, seed: int) -> NDArray[np.float64]:
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 16, dims)) * 0.4 + rng.normal(size=(n, 1, dims)) * 3.0


def brute_aligned(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.zeros((len(a), len(b)))
    for i, first in enumerate(a):
        for k, second in enumerate(b):
            valid = np.isfinite(first).all(axis=1) & np.isfinite(second).all(axis=1)
            centred_first = first - first[np.isfinite(first).all(axis=1)].mean(axis=0)
            centred_second = second - second[np.isfinite(second).all(axis=1)].mean(axis=0)
            out[i, k] = np.mean(
                [np.linalg.norm(centred_first[j] - centred_second[j]) for j in np.flatnonzero(valid)])
    return out


def brute_procrustes(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    out = np.zeros((len(a), len(b)))
    for i, first in enumerate(a):
        for k, second in enumerate(b):
            x = first - first.mean(axis=0)
            y = second - second.mean(axis=0)
            x /= np.sqrt((x**2).sum(axis=1).mean())
            y /= np.sqrt((y**2).sum(axis=1).mean())
            rotation, _ = Rotation.align_vectors(x, y)  # independent Kabsch: min Σ |x_j − R y_j|²
            out[i, k] = np.linalg.norm(x - rotation.apply(y), axis=1).mean()
    return out


def brute_facing(pose: NDArray[np.float64]) -> NDArray[np.float64]:
    """Independent oracle: turn about Z (scipy) so the right→left hip line points along +x."""
    across = pose[3] - pose[2]
    yaw = np.arctan2(across[1], across[0])
    return np.asarray(Rotation.from_euler("z", -yaw).apply(pose))


def test_2d_and_3d_match_brute_force() -> None:
    a2, b2 = poses(7, 2, 1) * 100, poses(9, 2, 2) * 100
    a3, b3 = poses(6, 3, 3), poses(5, 3, 4)
    result = distances_2d(a2, b2)
    assert result.dtype == np.float32 and result.shape == (7, 9)
    np.testing.assert_allclose(result, brute_aligned(a2, b2), rtol=1e-5)
    facing_a = np.stack([brute_facing(p) for p in a3])
    facing_b = np.stack([brute_facing(p) for p in b3])
    np.testing.assert_allclose(distances_3d(a3, b3), brute_aligned(facing_a, facing_b), rtol=1e-5)


def test_3d_ignores_the_direction_a_person_faces_but_not_lean() -> None:
    a = poses(5, 3, 11)
    turned = a @ Rotation.from_euler("z", 75, degrees=True).as_matrix().T
    np.testing.assert_allclose(np.diag(distances_3d(a, turned)), 0, atol=1e-5)
    leaning = a @ Rotation.from_euler("x", 30, degrees=True).as_matrix().T
    assert (np.diag(distances_3d(a, leaning)) > 0.01).all()


def test_missing_joints_are_left_out() -> None:
    a, b = poses(4, 2, 5), poses(3, 2, 6)
    a[1, 3] = np.nan
    b[2, [0, 7]] = np.nan
    np.testing.assert_allclose(distances_2d(a, b), brute_aligned(a, b), rtol=1e-5)


def test_3d_ignores_translation() -> None:
    a = poses(5, 3, 7)
    assert np.allclose(np.diag(distances_3d(a, a + np.array([5.0, -2.0, 1.0]))), 0, atol=1e-5)
    rotated = a @ Rotation.from_euler("y", 40, degrees=True).as_matrix().T
    assert (np.diag(distances_3d(a, rotated)) > 0.01).all()


def test_procrustes_matches_independent_kabsch() -> None:
    a, b = poses(5, 3, 8), poses(6, 3, 9)
    result = distances_procrustes(a, b)
    assert result.dtype == np.float32 and result.shape == (5, 6)
    np.testing.assert_allclose(result, brute_procrustes(a, b), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(result, distances_procrustes(b, a).T, rtol=1e-4, atol=1e-6)


def test_procrustes_invariances_and_zero_for_identical() -> None:
    a, b = poses(6, 3, 10), poses(4, 3, 11)
    rotations = Rotation.random(4, random_state=12).as_matrix()
    moved = 3.7 * np.einsum("nij,nkj->nki", rotations, b) + np.array([1.0, 2.0, -3.0])
    np.testing.assert_allclose(
        distances_procrustes(a, moved), distances_procrustes(a, b), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.diag(distances_procrustes(a, a)), 0, atol=1e-5)
    mirrored = a * np.array([-1.0, 1.0, 1.0])  # a reflection is not a rotation: stays distinct
    assert (np.diag(distances_procrustes(a, mirrored)) > 1e-3).all()


def test_chunking_gives_the_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = poses(11, 3, 13), poses(13, 3, 14)
    bits_a = (np.random.default_rng(15).random((11, 40)) < 0.5).astype(np.int8)
    full = [distances_3d(a, b), distances_procrustes(a, b), distances_hamming(bits_a, bits_a[::-1])]
    monkeypatch.setattr(similarity, "_PAIR_BUDGET", 150)
    chunked = [distances_3d(a, b), distances_procrustes(a, b), distances_hamming(bits_a, bits_a[::-1])]
    for expected, actual in zip(full, chunked, strict=True):
        np.testing.assert_allclose(actual, expected, rtol=1e-6)


def test_hamming_is_fraction_of_differing_bits() -> None:
    rng = np.random.default_rng(16)
    a = (rng.random((5, 30)) < 0.4).astype(np.uint8)
    b = (rng.random((8, 30)) < 0.6).astype(np.uint8)
    expected = np.array([[np.count_nonzero(x != y) / 30 for y in b] for x in a])
    np.testing.assert_allclose(distances_hamming(a, b), expected, rtol=1e-6)
    assert distances_hamming(a, b).dtype == np.float32


def test_hamming_ignores_unknown_bits() -> None:
    a = np.array([[1, 0, -1, 1], [-1, -1, -1, -1]], dtype=np.int8)
    b = np.array([[1, 1, 1, -1], [0, 0, 0, 0]], dtype=np.int8)
    result = distances_hamming(a, b)
    assert result[0, 0] == pytest.approx(1 / 2)  # bits 0 and 1 known on both sides; bit 1 differs
    assert result[0, 1] == pytest.approx(2 / 3)
    assert np.isnan(result[1]).all()


def test_metrics_and_lookup() -> None:
    assert [m.name for m in METRICS] == ["2d", "3d", "procrustes", "hamming"]
    assert metric_by_name("Procrustes").needs == "joints_3d"
    with pytest.raises(QueryError, match="procrustes"):
        metric_by_name("euclid")


def test_pairwise_distances_on_a_gallery() -> None:
    joints_3d = poses(10, 3, 17)
    bits = (np.random.default_rng(18).random((10, 12)) < 0.5).astype(np.int8)
    gallery = SimpleNamespace(joints_2d=None, joints_3d=joints_3d, posebits=bits, root="/galleries/demo")
    rows, cols = np.array([3, 0, 9]), np.array([1, 2])
    result = pairwise_distances("3d", gallery, rows, cols)
    assert result.shape == (3, 2)
    np.testing.assert_allclose(result, distances_3d(joints_3d[rows], joints_3d[cols]))
    np.testing.assert_allclose(pairwise_distances("hamming", gallery, rows, cols),
                               distances_hamming(bits[rows], bits[cols]))
    with pytest.raises(DataError, match="no 2D joints") as info:
        pairwise_distances("2d", gallery, rows, cols)
    assert "demo" in str(info.value)
