"""The joints-net trainer: its neighbour search against brute force, its batches' layout, and a tiny
seeded run that lowers the loss and repeats exactly."""

from __future__ import annotations

import numpy as np
import torch
from pose_fakes import random_poses

from posebrowser.estimate.noise import DIMS, EstimatorNoise
from posebrowser.nets.joints_net import joints_frame
from posebrowser.pose.similarity import distances_3d
from posebrowser.training.joints_trainer import (
    JointsBatches,
    JointsTrainConfig,
    aligned_for_metric,
    candidate_neighbours,
    embed_joints,
    train_joints_net,
)


def test_candidate_neighbours_match_brute_force_3d_distances(rng) -> None:
    poses = random_poses(rng, 120)
    full = distances_3d(poses, poses).astype(np.float64)
    np.fill_diagonal(full, np.inf)
    indices, distances = candidate_neighbours(aligned_for_metric(poses), 119, block=50)
    np.testing.assert_allclose(distances, np.sort(full, axis=1)[:, :119], atol=1e-5)
    np.testing.assert_allclose(np.take_along_axis(full, indices, axis=1), distances, atol=1e-5)


def test_batches_put_each_anchor_with_its_positives_and_split_by_the_radius(rng) -> None:
    poses = random_poses(rng, 200)
    batches = JointsBatches(aligned_for_metric(poses), JointsTrainConfig(batch_size=32, group_size=4))
    indices, positive, negative = batches.sample(np.arange(8), rng)
    truth = distances_3d(poses[indices], poses[indices])
    radius = batches.radii[indices][:, None]
    off_diagonal = ~np.eye(len(indices), dtype=bool)
    np.testing.assert_array_equal(positive.numpy(), (truth <= radius + 1e-6) & off_diagonal)
    np.testing.assert_array_equal(negative.numpy(), (truth > radius + 1e-6) & off_diagonal)
    assert positive[: len(indices)].any(dim=1)[:8].all()  # every anchor brought positives


def test_a_tiny_noisy_run_lowers_the_all_triplet_loss_and_repeats_exactly(rng) -> None:
    poses = random_poses(rng, 256, jitter=0.15)
    noise = EstimatorNoise(np.zeros(DIMS), np.eye(DIMS) * 0.02**2)
    config = JointsTrainConfig(epochs=6, batch_size=64, hidden=64, candidates=60, lr=3e-3, seed=3)
    net, result = train_joints_net(poses, noise, config)
    again, _ = train_joints_net(poses, noise, config)
    assert result.history.val[-1] < 0.7 * result.initial_loss
    for name, value in net.state_dict().items():
        torch.testing.assert_close(value, again.state_dict()[name], msg=name)
    np.testing.assert_allclose(
        net.get_buffer("mean_pose").numpy(), joints_frame(poses).mean(axis=0), atol=1e-6
    )
    vectors = embed_joints(net, poses[:10])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_torso_run_trains_a_torso_net_and_refuses_a_facing_noise_model(rng) -> None:
    import pytest

    poses = random_poses(rng, 128, jitter=0.15)
    config = JointsTrainConfig(epochs=1, batch_size=64, hidden=32, candidates=40, seed=1, frame="torso")
    facing_noise = EstimatorNoise(np.zeros(DIMS), np.eye(DIMS) * 0.02**2)
    with pytest.raises(ValueError, match="noise model lives in the facing frame"):
        train_joints_net(poses, facing_noise, config)
    torso_noise = EstimatorNoise(np.zeros(DIMS), np.eye(DIMS) * 0.02**2, frame="torso")
    net, _ = train_joints_net(poses, torso_noise, config)
    assert net.frame == "torso" and config.net_config()["frame"] == "torso"
    np.testing.assert_allclose(
        net.get_buffer("mean_pose").numpy(), joints_frame(poses, "torso").mean(axis=0), atol=1e-6
    )
    # mined by the distance in the torso frame: the centred torso-frame poses
    aligned = aligned_for_metric(poses, "torso")
    np.testing.assert_allclose(aligned.mean(axis=1), 0, atol=1e-9)
    assert "frame" not in JointsTrainConfig().net_config()  # a facing card keeps its old config
