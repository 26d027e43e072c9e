"""How wrong the pose estimator's 3-D joints are: a Gaussian error model measured on rendered images.

Both the estimated and the ground-truth joints are put in one joints-net frame
(:func:`posebrowser.nets.joints_net.joints_frame`: pelvis-centred, metres; facing-aligned by default, or
the torso's own axes — the model's ``frame``, which a net trained with it must share) and the
residual ``estimated − truth`` of each image with a person is a 48-vector (16 joints × xyz). The model is
that vector's mean and full 48 × 48 covariance (so correlated errors — a whole body tilted because the
estimator assumes a level camera, a mirrored limb pair — are kept), plus how often no person is found
at all and how often each joint comes back with low confidence. :meth:`EstimatorNoise.sample` draws
realistic estimates of clean poses for training; the JSON file says how it was measured.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from posebrowser.errors import DataError
from posebrowser.fileio import atomic_write_bytes
from posebrowser.nets.joints_net import FRAMES, joints_frame
from posebrowser.pose.skeleton import NUM_JOINTS

NOISE_FORMAT = "posebrowser-estimator-noise"
NOISE_FORMAT_VERSION = 1
DIMS = NUM_JOINTS * 3
FRAME_TEXT = {
    "facing": "pelvis-centred, facing-aligned Z-up metres (posebrowser.nets.joints_net.joints_frame)",
    "torso": "pelvis-centred metres in the torso's axes: z along the spine, x along the hips "
    "(posebrowser.nets.joints_net.torso_frame)",
}
#: Added to the covariance's diagonal before the Cholesky factorisation (m²): keeps it positive definite.
JITTER = 1e-9


@dataclass(frozen=True, eq=False)
class EstimatorNoise:
    """Residual ``estimated − truth`` in the joints-net frame: ``mean`` (48,), ``covariance`` (48, 48)
    (metres, m²); ``no_person_rate`` (share of images without a person found); ``low_confidence_rate``
    (16,) (share of found people with each joint's confidence below the estimator's threshold);
    ``measured``: how, where and on how many images it was measured; ``frame``: the joints-net frame the
    residuals live in."""

    mean: NDArray[np.float64]
    covariance: NDArray[np.float64]
    no_person_rate: float = 0.0
    low_confidence_rate: NDArray[np.float64] = field(default_factory=lambda: np.zeros(NUM_JOINTS))
    measured: Mapping[str, Any] = field(default_factory=dict)
    frame: str = "facing"

    def __post_init__(self) -> None:
        if self.frame not in FRAMES:
            raise ValueError(f"frame must be one of {FRAMES}, not {self.frame!r}")
        if np.shape(self.mean) != (DIMS,) or np.shape(self.covariance) != (DIMS, DIMS):
            raise ValueError(f"mean must be ({DIMS},) and covariance ({DIMS}, {DIMS}).")
        if np.shape(self.low_confidence_rate) != (NUM_JOINTS,):
            raise ValueError(f"low_confidence_rate must be ({NUM_JOINTS},).")

    @property
    def per_joint_rms(self) -> NDArray[np.float64]:
        """(16,) root-mean-square error of each joint (m), bias included."""
        second = np.diag(self.covariance) + self.mean**2
        return np.asarray(np.sqrt(second.reshape(NUM_JOINTS, 3).sum(axis=1)), dtype=np.float64)

    def sample(self, truth: ArrayLike, rng: np.random.Generator, scale: float = 1.0) -> NDArray[np.float32]:
        """Simulated estimates ``(N, 16, 3)`` float32 of clean poses ``truth`` (any Z-up frame): a residual
        drawn from the model, times ``scale`` (0 = clean), added in the joints-net frame, and the result
        put back in that frame (as a real estimate would be)."""
        clean = joints_frame(truth, self.frame).astype(np.float64)
        if scale == 0.0:
            return clean.astype(np.float32)
        factor = np.linalg.cholesky(self.covariance + JITTER * np.eye(DIMS))
        draws = rng.standard_normal((len(clean), DIMS)) @ factor.T + self.mean
        return joints_frame(clean + scale * draws.reshape(-1, NUM_JOINTS, 3), self.frame)

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "format": NOISE_FORMAT,
            "format_version": NOISE_FORMAT_VERSION,
            "frame": FRAME_TEXT[self.frame],
            "frame_name": self.frame,
            "measured": dict(self.measured),
            "no_person_rate": round(float(self.no_person_rate), 6),
            "low_confidence_rate": np.round(self.low_confidence_rate, 6).tolist(),
            "per_joint_rms_m": np.round(self.per_joint_rms, 6).tolist(),
            "mean": np.round(self.mean, 7).tolist(),
            "covariance": np.round(self.covariance, 9).tolist(),
        }

    @classmethod
    def from_json_dict(cls, payload: Mapping[str, Any]) -> EstimatorNoise:
        if payload.get("format") != NOISE_FORMAT or payload.get("format_version") != NOISE_FORMAT_VERSION:
            raise ValueError(f"not a {NOISE_FORMAT} v{NOISE_FORMAT_VERSION} document")
        covariance = np.asarray(payload["covariance"], dtype=np.float64)
        return cls(
            mean=np.asarray(payload["mean"], dtype=np.float64),
            covariance=(covariance + covariance.T) / 2,  # rounding in the file may break the symmetry
            no_person_rate=float(payload["no_person_rate"]),
            low_confidence_rate=np.asarray(payload["low_confidence_rate"], dtype=np.float64),
            measured=dict(payload.get("measured", {})),
            frame=str(payload.get("frame_name", "facing")),
        )

    def save(self, path: str | Path) -> None:
        text = json.dumps(self.to_json_dict(), indent=1, sort_keys=False)
        atomic_write_bytes(Path(path), (text + "\n").encode("utf-8"))

    @classmethod
    def load(cls, path: str | Path) -> EstimatorNoise:
        """Read a file written by :meth:`save`; DataError naming the file when it is missing or malformed."""
        try:
            return cls.from_json_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise DataError("The estimator noise model does not exist.", path=path) from None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise DataError(f"The estimator noise model cannot be read ({error}).", path=path) from error


def residuals(estimated: ArrayLike, truth: ArrayLike, frame: str = "facing") -> NDArray[np.float64]:
    """``(N, 48)`` residuals ``estimated − truth`` of paired ``(N, 16, 3)`` poses, both in the joints-net
    ``frame`` (each is put in it first)."""
    est = joints_frame(estimated, frame).astype(np.float64)
    gt = joints_frame(truth, frame).astype(np.float64)
    if est.shape != gt.shape:
        raise ValueError(f"Paired poses needed, got {est.shape} and {gt.shape}.")
    return (est - gt).reshape(len(est), DIMS)


def fit_noise(
    estimated: ArrayLike,
    truth: ArrayLike,
    *,
    images: int | None = None,
    low_confidence: ArrayLike | None = None,
    measured: Mapping[str, Any] | None = None,
    frame: str = "facing",
) -> EstimatorNoise:
    """The Gaussian residual model of ``estimated`` vs ``truth`` (paired ``(N, 16, 3)``, people found).

    ``images``: how many images were tried (≥ N; the rest had no person found), default N;
    ``low_confidence``: ``(N, 16)`` bool, joints below the estimator's confidence threshold.
    """
    values = residuals(estimated, truth, frame)
    if len(values) < 2:
        raise ValueError("At least two estimated poses are needed to fit a noise model.")
    tried = len(values) if images is None else int(images)
    if tried < len(values):
        raise ValueError(f"images ({tried}) cannot be fewer than the poses found ({len(values)}).")
    flags = np.zeros((len(values), NUM_JOINTS)) if low_confidence is None else np.asarray(low_confidence)
    return EstimatorNoise(
        mean=values.mean(axis=0),
        covariance=np.cov(values, rowvar=False),
        no_person_rate=1.0 - len(values) / tried,
        low_confidence_rate=flags.astype(np.float64).mean(axis=0),
        measured={"people_found": len(values), "images": tried, **(measured or {})},
        frame=frame,
    )
