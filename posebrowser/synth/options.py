"""The synthetic distribution as data: camera, framing, body shape and pose-source ranges.

:class:`SynthOptions` is what ``posebrowser synth`` exposes as options. Its defaults are the *broad*
distribution the built-in gallery and the training set are drawn from; the stress sets of
``posebrowser evaluate`` are the same generator with other options (:data:`STRESS_SETS`).

Angles are in degrees. Elevation > 0 looks down on the person; roll turns the camera about its optical
axis; azimuth is measured around the vertical axis. ``fill`` is the share of the frame the person's
longer side spans and ``distance`` the camera distance in metres: together they fix the focal length
(a close camera with a short focal length shows strong perspective, a far one with a long focal length
almost none), so the focal length is not a third free option.

Body shape: every image blends two of the body bank's meshes (weight ``shape_blend`` ∈ [0, 1] drawn
uniformly up to the given maximum) and scales the result by a height factor and a girth factor (horizontal
scale), so shapes come from a continuous space spanned by the bank rather than 16 fixed meshes.
``bodies`` restricts which meshes may be drawn (the body-shape stress set uses meshes that the training
set does not).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from posebrowser.errors import DataError

Range = tuple[float, float]

#: Body meshes the training set and the built-in gallery use (``()`` would mean all); the body-shape
#: stress set uses the others.
TRAIN_BODIES: tuple[int, ...] = tuple(range(12))
HELD_OUT_BODIES: tuple[int, ...] = (12, 13, 14, 15)


@dataclass(frozen=True)
class SynthOptions:
    """One synthetic distribution; see the module docstring for the meaning of each range."""

    elevation: Range = (-15.0, 50.0)
    azimuth: Range = (0.0, 360.0)
    roll: Range = (-12.0, 12.0)
    distance: Range = (2.0, 8.0)
    fill: Range = (0.62, 0.95)
    clip_share: float = 0.4
    perturb_share: float = 0.3
    shape_blend: float = 1.0
    height: Range = (0.92, 1.08)
    girth: Range = (0.9, 1.12)
    bodies: tuple[int, ...] = field(default=TRAIN_BODIES)

    def __post_init__(self) -> None:
        for name in ("elevation", "azimuth", "roll", "distance", "fill", "height", "girth"):
            low, high = getattr(self, name)
            if not low <= high:
                raise DataError(
                    f"Invalid synth options: the {name} range must be low ≤ high, not {low}…{high}."
                )
        checks = (
            (self.elevation[0] >= -89.0 and self.elevation[1] <= 89.0, "the elevation within −89…89°"),
            (self.fill[0] >= 0.05 and self.fill[1] <= 1.0, "the person fill within 0.05…1"),
            (self.distance[0] >= 0.8, "the camera distance at least 0.8 m"),
            (
                min(self.clip_share, self.perturb_share) >= 0.0
                and self.clip_share + self.perturb_share <= 1.0,
                "the clip and perturbed-clip shares ≥ 0 with a sum ≤ 1",
            ),
            (0.0 <= self.shape_blend <= 1.0, "the body-shape blend within 0…1"),
            (
                min(self.height[0], self.girth[0]) >= 0.5 and max(self.height[1], self.girth[1]) <= 1.5,
                "height and girth factors within 0.5…1.5",
            ),
            (all(0 <= b < 16 for b in self.bodies), "body ids within 0…15"),
        )
        for ok, rule in checks:
            if not ok:
                raise DataError(f"Invalid synth options: keep {rule}.")

    @property
    def random_share(self) -> float:
        """Share of anatomically random (non-clip) poses."""
        return 1.0 - self.clip_share - self.perturb_share

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (ranges as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SynthOptions:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise DataError(f"Unknown synth options: {', '.join(sorted(unknown))}.")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        if "bodies" in values:
            values["bodies"] = tuple(int(b) for b in values["bodies"])
        return cls(**values)

    def key(self) -> str:
        """A stable text form (part of a resumable run's configuration)."""
        return json.dumps(self.to_dict(), sort_keys=True)


DEFAULT_OPTIONS = SynthOptions()

#: Named shifted distributions for ``posebrowser evaluate --stress`` (regenerate with ``posebrowser synth
#: --stress NAME``): what each changes against the defaults.
STRESS_SETS: dict[str, SynthOptions] = {
    "random-poses": replace(DEFAULT_OPTIONS, clip_share=0.0, perturb_share=0.0),
    "camera-shift": replace(DEFAULT_OPTIONS, elevation=(40.0, 65.0), roll=(-20.0, 20.0), fill=(0.5, 0.7)),
    "body-shift": replace(DEFAULT_OPTIONS, bodies=HELD_OUT_BODIES, height=(1.05, 1.15), girth=(1.08, 1.2)),
}
