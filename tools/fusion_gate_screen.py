"""Screen per-image fusion weights set by how much the readers agree (validation data only; never the test
split).

The shipped fused model blends each image's three rows at fixed weights, ``normalise(0.6·cnn +
(0.2·joints + 0.2·lifter)·R)``. A reader that has misread an image (a left/right swap, a tilted
estimate) often disagrees with the others, so this screen tries weights that follow the agreement of the
rows of one image (all in the CNN's space after ``R``): both readers halved where the joints net's and the
lifter's rows disagree (cosine under a threshold); both scaled linearly with that cosine about its median;
each reader scaled by its own cosine with the CNN's row. Rows without a person keep the CNN's row, as
in the product. A second set of rows keeps the fixed weights and lets the lifter read each image's
landmarks four ways (as read, and with the legs, the arms or the whole body left/right-swapped, the
keypoint net's confusions): the hypothesis closest to the image's true pose (a bound: it looks at the
ground truth), or the one closest to the CNN's row, the original kept unless a swap is closer by a margin.
Scored on the val halves of ``tools/ablation.py`` with the shipped models (the keypoint
reader's own lifter)::

    python tools/fusion_gate_screen.py builtin steep cs12

The sets are those of ``tools/keypoint_lifter_screen.py`` (its :data:`SETS`; ``models/README.md`` says
how the steep and camera-shift galleries are made).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import ablation  # sibling scripts: run as `python tools/...`, their folder is on sys.path
import keypoint_lifter_screen as screen
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
READER_WEIGHT = 0.2


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def weightings(cnn: np.ndarray, joints: np.ndarray, lifted: np.ndarray, person: np.ndarray
               ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Label → (joints-net weight, lifter weight) per row, every one 0 where there is no person."""
    base = READER_WEIGHT * person.astype(float)
    agree = (joints * lifted).sum(1)
    middle = float(np.median(agree[person]))
    out = {"fixed 0.2 / 0.2 (shipped)": (base, base)}
    for threshold in (0.3, 0.5):
        gate = np.where(agree > threshold, 1.0, 0.5)
        out[f"both halved where they agree < {threshold}"] = (base * gate, base * gate)
    for slope in (0.5, 1.0):
        scaled = np.clip(base * (1 + slope * (agree - middle)), 0, 0.35)
        out[f"both linear in their agreement, slope {slope}"] = (scaled, scaled)
    with_cnn = [(cnn * rows).sum(1) for rows in (joints, lifted)]
    joint_w, lifter_w = (base * np.clip(1 + c - np.median(c[person]), 0.3, 1.7) for c in with_cnn)
    out["each by its agreement with the CNN"] = (joint_w, lifter_w)
    return out


def swap_hypotheses(lifter: Any, landmarks: np.ndarray) -> np.ndarray:
    """``(4, N, 128)`` lifted rows of the landmarks as read and with each confusion of :data:`SWAPS`."""
    import torch

    from posebrowser.nets.keypoint_reader import landmark_features
    from posebrowser.training.keypoint_trainer import SWAPS

    readings = [landmarks] + [landmarks[:, order] for order, _ in SWAPS]
    with torch.inference_mode():
        return np.stack([lifter(torch.from_numpy(landmark_features(r))).numpy() for r in readings])


def chosen_liftings(data: dict[str, Any], landmarks: np.ndarray, lifter: Any, joints_embedder: Any,
                    rotation: np.ndarray) -> dict[str, np.ndarray]:
    """Label → the lifted row chosen per image among :func:`swap_hypotheses` (joints-net space)."""
    lifted = swap_hypotheses(lifter, landmarks)
    truth = joints_embedder.embed_joints(data["gallery"].joints_3d[data["rows"]])
    every = np.arange(lifted.shape[1])
    out = {"closest to the true pose (bound)": lifted[np.argmax((lifted * truth).sum(-1), 0), every]}
    with_cnn = ((lifted @ rotation) * data["cnn"]).sum(-1)
    for margin in (0.0, 0.1, 0.2):
        score = with_cnn.copy()
        score[0] += margin
        out[f"closest to the CNN's row, margin {margin}"] = lifted[np.argmax(score, 0), every]
    return out


def _print_row(name: str, label: str, data: dict[str, Any], blended: np.ndarray) -> None:
    table = np.zeros((len(data["gallery"]), 128), np.float32)
    table[data["rows"]] = blended
    scores = ablation._scores(table, data["queries"], data["database"], data["gallery"])
    print(ablation.screen_row(f"{name}: {label}", scores), flush=True)


def score_set(name: str, estimator: Any, joints_embedder: Any, reader: Any, rotation: np.ndarray) -> None:
    read_landmarks: dict[str, np.ndarray] = {}

    def read(gallery: Any, rows: np.ndarray, _cache: Path | None) -> tuple[np.ndarray, np.ndarray]:
        landmarks, found = screen.net_landmarks(reader, gallery, rows)
        read_landmarks["rows"] = landmarks
        return landmarks, found

    data = screen.set_rows(name, estimator, joints_embedder, reader.lifter.eval(), read, False)
    person = data["person"]
    cnn = data["cnn"]
    joints = np.where(person[:, None], data["joints"], 0.0) @ rotation
    lifted = np.where(person[:, None], data["lifted"], 0.0) @ rotation
    for label, (a, b) in weightings(cnn, joints, lifted, person).items():
        blended = _unit((1 - a - b)[:, None] * cnn + a[:, None] * joints + b[:, None] * lifted)
        _print_row(name, label, data, blended)
    weight = READER_WEIGHT * person[:, None]
    choices = chosen_liftings(data, read_landmarks["rows"], reader.lifter, joints_embedder, rotation)
    for label, chosen in choices.items():
        blended = _unit((1 - 2 * weight) * cnn + weight * (joints + chosen @ rotation))
        _print_row(name, f"fixed weights, lifted reading {label}", data, blended)


def main() -> int:
    from posebrowser.core.fused_embedder import FusedEmbedder
    from posebrowser.core.joints_embedder import JointsEmbedder
    from posebrowser.estimate.estimator import PoseEstimator
    from posebrowser.nets.checkpoint import load_model

    names = sys.argv[1:] or ["builtin"]
    joints_embedder = JointsEmbedder.from_checkpoint(ROOT / "models" / "joints_net", "cpu")
    fused = FusedEmbedder.from_checkpoint(ROOT / "models" / "fused_net", "cpu")
    rotation = fused.fusion.rotations()[0].numpy()
    reader, _ = load_model(ROOT / "models" / "keypoint_reader", expect_kind="image")
    print(ablation.screen_header("val halves"))
    for name in names:
        score_set(name, PoseEstimator(), joints_embedder, reader, rotation)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
