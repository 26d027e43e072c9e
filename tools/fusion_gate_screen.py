"""Screen per-image fusion weights set by how much the readers agree (validation data only; never the test
split).

The shipped fused model blends each image's three rows at fixed weights, ``normalise(0.6·cnn +
(0.2·joints + 0.2·lifter)·R)``. A reader that has misread an image (a left/right swap, a tilted
estimate) often disagrees with the others, so this screen tries weights that follow the agreement of the
rows of one image (all in the CNN's space after ``R``): both readers halved where the joints net's and the
lifter's rows disagree (cosine under a threshold); both scaled linearly with that cosine about its median;
each reader scaled by its own cosine with the CNN's row. Rows without a person keep the CNN's row, as
in the product. Scored on the val halves of ``tools/ablation.py`` with the shipped models (the keypoint
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


def score_set(name: str, estimator: Any, joints_embedder: Any, reader: Any, rotation: np.ndarray) -> None:
    def read(gallery: Any, rows: np.ndarray, _cache: Path | None) -> tuple[np.ndarray, np.ndarray]:
        return screen.net_landmarks(reader, gallery, rows)

    data = screen.set_rows(name, estimator, joints_embedder, reader.lifter.eval(), read, False)
    person = data["person"]
    cnn = data["cnn"]
    joints = np.where(person[:, None], data["joints"], 0.0) @ rotation
    lifted = np.where(person[:, None], data["lifted"], 0.0) @ rotation
    for label, (a, b) in weightings(cnn, joints, lifted, person).items():
        blended = _unit((1 - a - b)[:, None] * cnn + a[:, None] * joints + b[:, None] * lifted)
        table = np.zeros((len(data["gallery"]), 128), np.float32)
        table[data["rows"]] = blended
        scores = ablation._scores(table, data["queries"], data["database"], data["gallery"])
        print(ablation.screen_row(f"{name}: {label}", scores), flush=True)


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
