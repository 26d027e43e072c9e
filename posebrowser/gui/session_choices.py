"""The view choices a session file carries besides query, ticks and selection: the frame criterion
(what makes a result's frame green) and the projection parameters per method — written, checked and
read back.

In the file both live under ``settings``::

    "frame_criterion": {"kind": "threshold", "metric": "2d", "threshold": 12.5},
    "projection_params": {"tsne": {"perplexity": 50.0}, "umap": {"n_neighbors": 40}}

A file without them (written before they were saved) restores the defaults. A value outside what the
app offers (an unknown criterion or metric, a perplexity of 10⁹, an unknown parameter) refuses the
whole file, like every other invalid field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from posebrowser.errors import DataError
from posebrowser.gui.frames import CRITERIA, DEFAULT_THRESHOLDS, FrameCriterion
from posebrowser.gui.state import PROJECTION_PARAMETERS

#: The largest threshold the results view's threshold box accepts.
MAX_THRESHOLD = 1e6


def choices_to_dict(
    criterion: FrameCriterion, projection_params: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The ``settings`` entries for ``criterion`` and ``projection_params`` (JSON-ready copies)."""
    return {
        "frame_criterion": {
            "kind": criterion.kind,
            "metric": criterion.metric,
            "threshold": float(criterion.threshold),
        },
        "projection_params": {method: dict(params) for method, params in projection_params.items() if params},
    }


def check_choices(settings: dict[str, Any], session_file: Path) -> None:
    """Refuse (DataError) a ``settings`` block whose frame criterion or projection parameters are not
    ones the app offers; absent entries are fine."""
    if "frame_criterion" in settings:
        _check_criterion(settings["frame_criterion"], session_file)
    if "projection_params" in settings:
        _check_projection_params(settings["projection_params"], session_file)


def frame_criterion_from(settings: dict[str, Any]) -> FrameCriterion:
    """The frame criterion of a checked ``settings`` block (the default when it has none)."""
    stored = settings.get("frame_criterion")
    if stored is None:
        return FrameCriterion()
    return FrameCriterion(str(stored["kind"]), str(stored["metric"]), float(stored["threshold"]))


def projection_params_from(settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The projection parameters of a checked ``settings`` block (empty = the core's defaults)."""
    stored: dict[str, dict[str, Any]] = settings.get("projection_params", {})
    return {
        method: {name: PROJECTION_PARAMETERS[method][name][0](value) for name, value in params.items()}
        for method, params in stored.items()
    }


def _check_criterion(stored: object, session_file: Path) -> None:
    if (
        not isinstance(stored, dict)
        or set(stored) != {"kind", "metric", "threshold"}
        or stored["kind"] not in dict(CRITERIA)
        or stored["metric"] not in DEFAULT_THRESHOLDS
        or not _number_in(stored["threshold"], 0.0, MAX_THRESHOLD, integral=False)
    ):
        raise DataError("The session file holds an invalid frame criterion.", path=session_file)


def _check_projection_params(stored: object, session_file: Path) -> None:
    def bad(what: str) -> DataError:
        return DataError(f"The session file holds invalid projection parameters ({what}).", path=session_file)

    if not isinstance(stored, dict):
        raise bad("not a mapping")
    for method, params in stored.items():
        offered = PROJECTION_PARAMETERS.get(method)
        if offered is None or not isinstance(params, dict):
            raise bad(f"method {method!r}")
        for name, value in params.items():
            if name not in offered:
                raise bad(f"{method} has no parameter {name!r}")
            kind, low, high = offered[name]
            if not _number_in(value, low, high, integral=kind is int):
                raise bad(f"{method} {name} = {value!r}")


def _number_in(value: object, low: float, high: float, integral: bool) -> bool:
    """True for a JSON number (not a flag) in [low, high] — so neither NaN, infinite nor an integer too
    large for a float — and an integer when ``integral``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if integral and not isinstance(value, int):
        return False
    return low <= value <= high  # compares big integers exactly; NaN compares False
