"""The estimator noise model: fitted on seeded synthetic residuals of known mean and covariance it gives
them back (brute-force oracle); what it samples refits to itself; it survives its JSON file."""

from __future__ import annotations

import numpy as np
import pytest
from pose_fakes import random_poses

from posebrowser.errors import DataError
from posebrowser.estimate.noise import DIMS, EstimatorNoise, fit_noise, residuals
from posebrowser.nets.joints_net import joints_frame
from posebrowser.pose.skeleton import L_HIP, PELVIS, R_HIP

FRAME_JOINTS = (R_HIP, L_HIP, PELVIS)  # noise on these would move the frame itself


def known_noise(rng: np.random.Generator) -> EstimatorNoise:
    """A mean and a full (correlated) covariance that leave the frame's joints alone."""
    free = np.ones((16, 3), dtype=bool)
    free[list(FRAME_JOINTS)] = False
    free_dims = np.flatnonzero(free.reshape(-1))
    factor = rng.normal(0, 0.03, (len(free_dims), len(free_dims)))
    covariance = np.zeros((DIMS, DIMS))
    covariance[np.ix_(free_dims, free_dims)] = (
        factor @ factor.T / len(free_dims) + np.eye(len(free_dims)) * 1e-4
    )
    mean = np.zeros(DIMS)
    mean[free_dims] = rng.normal(0, 0.02, len(free_dims))
    return EstimatorNoise(mean, covariance)


def test_fit_recovers_a_known_mean_and_covariance(rng) -> None:
    truth = joints_frame(random_poses(rng, 30_000)).astype(np.float64)
    model = known_noise(rng)
    draws = rng.multivariate_normal(model.mean, model.covariance, size=len(truth))
    estimated = truth + draws.reshape(-1, 16, 3)
    flags = rng.uniform(size=(len(truth), 16)) < np.linspace(0.0, 0.3, 16)
    fitted = fit_noise(estimated, truth, images=len(truth) + 3000, low_confidence=flags)
    scale = np.diag(model.covariance).max()
    assert np.abs(fitted.covariance - model.covariance).max() < 0.05 * scale
    assert np.abs(fitted.mean - model.mean).max() < 5 * np.sqrt(scale / len(truth))
    assert fitted.no_person_rate == pytest.approx(3000 / 33_000)
    np.testing.assert_allclose(fitted.low_confidence_rate, np.linspace(0.0, 0.3, 16), atol=0.015)
    assert fitted.measured["people_found"] == 30_000


def test_what_the_model_samples_refits_to_the_model(rng) -> None:
    model = known_noise(rng)
    truth = random_poses(rng, 20_000)
    sampled = model.sample(truth, np.random.default_rng(7))
    refit = fit_noise(sampled, truth)
    scale = np.diag(model.covariance).max()
    assert np.abs(refit.covariance - model.covariance).max() < 0.06 * scale
    np.testing.assert_allclose(model.sample(truth[:5], rng, scale=0.0), joints_frame(truth[:5]), atol=1e-6)


def test_residuals_are_measured_in_the_joints_net_frame(rng) -> None:
    truth = random_poses(rng, 10)
    turned = truth.copy()
    turned[..., :2] = -turned[..., :2]  # a half turn about the vertical and a move: the same pose
    np.testing.assert_allclose(residuals(turned + 5.0, truth), 0.0, atol=1e-5)


def test_json_round_trip_and_errors(tmp_path, rng) -> None:
    model = known_noise(rng)
    path = tmp_path / "noise.json"
    EstimatorNoise(model.mean, model.covariance, 0.08, np.full(16, 0.1), {"images": 9}).save(path)
    loaded = EstimatorNoise.load(path)
    np.testing.assert_allclose(loaded.covariance, model.covariance, atol=1e-9)
    np.testing.assert_allclose(loaded.mean, model.mean, atol=1e-7)
    assert loaded.no_person_rate == pytest.approx(0.08) and loaded.measured == {"images": 9}
    with pytest.raises(DataError, match="does not exist"):
        EstimatorNoise.load(tmp_path / "absent.json")
    path.write_text('{"format": "other"}')
    with pytest.raises(DataError, match="cannot be read"):
        EstimatorNoise.load(path)
    with pytest.raises(ValueError, match="fewer"):
        fit_noise(random_poses(rng, 4), random_poses(rng, 4), images=3)


def test_a_torso_frame_model_measures_in_that_frame_draws_in_it_and_round_trips(rng, tmp_path) -> None:
    from scipy.spatial.transform import Rotation

    truth = random_poses(rng, 300)
    # a whole-body tilt, as an estimator that assumes a level camera makes, plus a little joint noise
    tilt = Rotation.from_euler("x", rng.uniform(0.2, 0.4, (300, 1))).as_matrix()
    estimated = truth @ tilt + rng.normal(0, 0.01, truth.shape)
    facing = fit_noise(estimated, truth)
    torso = fit_noise(estimated, truth, frame="torso")
    assert torso.frame == "torso" and facing.frame == "facing"
    # the torso frame does not see the tilt: its residuals are the joint noise alone
    assert torso.per_joint_rms.mean() < 0.5 * facing.per_joint_rms.mean()
    draws = torso.sample(truth[:5], rng)
    np.testing.assert_allclose(joints_frame(draws, "torso"), draws, atol=1e-5)
    torso.save(tmp_path / "noise.json")
    again = EstimatorNoise.load(tmp_path / "noise.json")
    assert again.frame == "torso"
    np.testing.assert_allclose(again.covariance, torso.covariance, atol=1e-8)
    with pytest.raises(ValueError, match="frame must be one of"):
        EstimatorNoise(np.zeros(DIMS), np.eye(DIMS), frame="world")
