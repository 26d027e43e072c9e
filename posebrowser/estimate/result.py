"""What the pose estimator says about one image: a :class:`PoseEstimate` or a :class:`NoPersonFound`.

Both are frozen, serialise to plain JSON (:meth:`to_json_dict`) and read back (:func:`outcome_from_json`);
the per-image cache stores exactly that JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from posebrowser.pose.skeleton import NUM_JOINTS

NoPersonReason = Literal["no-person", "image-too-small"]
#: Mean joint confidence below which an estimate is flagged as low-confidence.
LOW_CONFIDENCE = 0.5


@dataclass(frozen=True)
class PersonBox:
    """The detected person's box in pixels of the image as given (x right, y down; x1/y1 exclusive)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def area(self) -> float:
        return max(self.width, 0.0) * max(self.height, 0.0)

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)


@dataclass(frozen=True, eq=False)
class PoseEstimate:
    """One person's estimated pose.

    Attributes:
        image_size: (width, height) of the image in pixels.
        box: the person's box (landmark extent plus a margin), in pixels.
        joints_2d: ``(16, 2)`` float32 pixel coordinates in the skeleton's joint order.
        joints_3d: ``(16, 3)`` float32 metres, pelvis-centred, Z up (x = image right, y = away from the
            camera), assuming a level camera; the frame posebits are computed in.
        confidence: ``(16,)`` float32 in [0, 1], how likely each joint is visible in the image.
        posebits: ``(B,)`` int8 over the vocabulary ``vocabulary_version``: 1, 0, or −1 where the bit is
            unknown (a joint it needs has low confidence, or its margin is within the hysteresis band).
        people_found: how many people the estimator saw; the largest one is described.
        estimator: the estimator version that produced this (model bundle and joint mapping).
    """

    image_size: tuple[int, int]
    box: PersonBox
    joints_2d: NDArray[np.float32]
    joints_3d: NDArray[np.float32]
    confidence: NDArray[np.float32]
    posebits: NDArray[np.int8]
    vocabulary_version: str
    people_found: int
    estimator: str

    def __post_init__(self) -> None:
        shapes = {"joints_2d": (NUM_JOINTS, 2), "joints_3d": (NUM_JOINTS, 3), "confidence": (NUM_JOINTS,)}
        for name, shape in shapes.items():
            if np.shape(getattr(self, name)) != shape:
                raise ValueError(f"{name} must have shape {shape}, got {np.shape(getattr(self, name))}.")

    @property
    def mean_confidence(self) -> float:
        return float(np.mean(self.confidence))

    @property
    def low_confidence(self) -> bool:
        """True when the mean joint confidence is below :data:`LOW_CONFIDENCE` (say so to the user)."""
        return self.mean_confidence < LOW_CONFIDENCE

    @property
    def several_people(self) -> bool:
        return self.people_found > 1

    @property
    def known_posebits(self) -> int:
        return int(np.count_nonzero(self.posebits >= 0))

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "status": "person",
            "image_size": list(self.image_size),
            "box": [round(v, 2) for v in self.box.as_tuple()],
            "joints_2d": np.round(self.joints_2d.astype(np.float64), 2).tolist(),
            "joints_3d": np.round(self.joints_3d.astype(np.float64), 4).tolist(),
            "confidence": np.round(self.confidence.astype(np.float64), 4).tolist(),
            "posebits": self.posebits.astype(int).tolist(),
            "vocabulary_version": self.vocabulary_version,
            "people_found": self.people_found,
            "mean_confidence": round(self.mean_confidence, 4),
            "low_confidence": self.low_confidence,
            "estimator": self.estimator,
        }


@dataclass(frozen=True)
class NoPersonFound:
    """The image was read but no person could be described (``reason`` says why, ``message`` in words)."""

    reason: NoPersonReason
    message: str
    image_size: tuple[int, int]
    estimator: str

    def to_json_dict(self) -> dict[str, Any]:
        return {"status": "no-person", "reason": self.reason, "message": self.message,
                "image_size": list(self.image_size), "estimator": self.estimator}


EstimateOutcome = PoseEstimate | NoPersonFound


def _size(value: Any) -> tuple[int, int]:
    width, height = (int(v) for v in value)
    return width, height


def outcome_from_json(payload: dict[str, Any]) -> EstimateOutcome:
    """Read back :meth:`PoseEstimate.to_json_dict` / :meth:`NoPersonFound.to_json_dict`.

    Raises KeyError, TypeError or ValueError on malformed input (the cache treats those as a miss).
    """
    if payload["status"] == "no-person":
        reason = payload["reason"]
        if reason not in ("no-person", "image-too-small"):
            raise ValueError(f"unknown reason {reason!r}")
        return NoPersonFound(reason, str(payload["message"]), _size(payload["image_size"]),
                             str(payload["estimator"]))
    if payload["status"] != "person":
        raise ValueError(f"unknown status {payload['status']!r}")
    return PoseEstimate(
        image_size=_size(payload["image_size"]),
        box=PersonBox(*(float(v) for v in payload["box"])),
        joints_2d=np.asarray(payload["joints_2d"], dtype=np.float32),
        joints_3d=np.asarray(payload["joints_3d"], dtype=np.float32),
        confidence=np.asarray(payload["confidence"], dtype=np.float32),
        posebits=np.asarray(payload["posebits"], dtype=np.int8),
        vocabulary_version=str(payload["vocabulary_version"]),
        people_found=int(payload["people_found"]),
        estimator=str(payload["estimator"]),
    )
