"""Saving and restoring a whole session (JSON), and exporting results and selections.

Session files are written atomically (a crash never leaves half a file). On load every field is
validated; a relative path is resolved against the session file's folder and may not escape it
(``../../etc/passwd`` is refused), an absolute path must name an image file or a gallery folder (see
:func:`resolve_session_path`), gallery indices must be in range, unknown posebits are refused.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from posebrowser.core.query import ImageTerm, PosebitTerm, Query, SelectionTerm
from posebrowser.data.gallery_format import SPLITS
from posebrowser.errors import DataError, PosebrowserError, QueryError, UnsafeFileError
from posebrowser.fileio import atomic_write_bytes
from posebrowser.gui.frames import FrameCriterion
from posebrowser.gui.query_edit import posebit_mode
from posebrowser.gui.session import Session
from posebrowser.gui.session_choices import (
    check_choices,
    choices_to_dict,
    frame_criterion_from,
    projection_params_from,
)
from posebrowser.gui.state import DISTANCE_METRICS, PARTIAL_METHODS, PROJECTION_METHODS

SESSION_FORMAT = "posebrowser-session"
SESSION_VERSION = 1
MAX_SESSION_BYTES = 20 * 1024 * 1024
MAX_RESULTS = 1000


def _portable_path(path: str, base: Path) -> str:
    """``path`` relative to ``base`` when inside it (sessions travel with their data), else absolute."""
    resolved = Path(path).resolve()
    try:
        return resolved.relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(resolved)


IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:|\\")


def resolve_session_path(value: object, base: Path, session_file: Path, kind: str = "image") -> str:
    """Validate a path stored in a session (``kind`` "image" or "gallery") and return it resolved.

    The rule: a relative path (POSIX separators) must resolve — symlinks followed — to a place inside the
    session's folder ``base``. An absolute path (written when the data lay outside that folder) is
    accepted only for what a session can refer to: an image file with an image suffix, or a gallery
    folder; anything else (``/etc/passwd``) is refused. Windows-style paths (``C:``, backslashes) are
    refused everywhere: they cannot mean the same place on this machine.
    """
    if not isinstance(value, str) or not value or "\x00" in value:
        raise DataError("The session file holds an invalid path.", path=session_file)
    if _WINDOWS_PATH.search(value):
        raise UnsafeFileError(
            f"The session file holds a Windows-style path {value!r}; refusing it.", path=session_file
        )
    candidate = Path(value)
    if not candidate.is_absolute():
        resolved = (base / candidate).resolve()
        if not resolved.is_relative_to(base.resolve()):
            raise UnsafeFileError(
                f"The session file refers to {value!r}, outside its own folder; refusing it.",
                path=session_file,
            )
        return str(resolved)
    resolved = candidate.resolve()
    allowed = resolved.suffix.lower() in IMAGE_SUFFIXES if kind == "image" else not resolved.is_file()
    if not allowed:
        what = "an image file" if kind == "image" else "a gallery folder"
        raise UnsafeFileError(
            f"The session file refers to {value!r}, which is not {what}; refusing it.", path=session_file
        )
    return str(resolved)


def session_to_dict(session: Session, base: Path) -> dict[str, Any]:
    terms: list[dict[str, Any]] = []
    for term in session.query.terms if session.query is not None else ():
        if isinstance(term, SelectionTerm):
            terms.append(
                {
                    "type": "selection",
                    "weight": float(term.weight),
                    "name": term.name,
                    "indices": [int(i) for i in term.indices],
                }
            )
        elif isinstance(term, ImageTerm):
            terms.append(
                {
                    "type": "image",
                    "weight": float(term.weight),
                    "gallery_index": None if term.gallery_index is None else int(term.gallery_index),
                    "path": None if term.path is None else _portable_path(term.path, base),
                }
            )
        else:
            terms.append(
                {
                    "type": "posebits",
                    "weight": float(term.weight),
                    "mode": term.mode,
                    "conditions": [[name, int(value)] for name, value in term.conditions],
                }
            )
    settings = session.settings
    return {
        "format": SESSION_FORMAT,
        "version": SESSION_VERSION,
        "gallery": None if session.gallery_path is None else _portable_path(session.gallery_path, base),
        "query": terms,
        "conditions": {name: int(value) for name, value in session.ordered_conditions()},
        "settings": {
            "partial_method": settings.partial_method,
            "weight_asked_bits": settings.weight_asked_bits,
            "split": settings.split,
            "filter_by_posebits": settings.filter_by_posebits,
            "k": settings.k,
            "projection_method": settings.projection_method,
            "subspace": settings.subspace,
            "colour_by": settings.colour_by,
            **choices_to_dict(session.frame_criterion, settings.projection_params),
        },
        "selection": [int(i) for i in session.selection],
    }


def save_session(session: Session, path: str | Path) -> None:
    path = Path(path)
    data = session_to_dict(session, path.parent)
    atomic_write_bytes(path, json.dumps(data, indent=2).encode("utf-8"))


def read_session(path: str | Path) -> dict[str, Any]:
    """Read and validate a session file; returns it with paths resolved to absolute strings."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_SESSION_BYTES:
            raise DataError("The session file is too large to be a posebrowser session.", path=path)
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as error:
        raise DataError(f"The session file cannot be read ({error}).", path=path) from error
    if not isinstance(data, dict) or data.get("format") != SESSION_FORMAT:
        raise DataError("This is not a posebrowser session file.", path=path)
    if data.get("version") != SESSION_VERSION:
        raise DataError(f"Unsupported session version {data.get('version')!r}.", path=path)
    _check_structure(data, path)
    base = path.parent
    if data.get("gallery") is not None:
        data["gallery"] = resolve_session_path(data["gallery"], base, path, kind="gallery")
    settings = data.get("settings", {})
    allowed: dict[str, list[str | None]] = {
        "partial_method": [m for m, _ in PARTIAL_METHODS],
        "projection_method": [m for m, _ in PROJECTION_METHODS],
        "split": [None, *SPLITS],
    }
    if not isinstance(settings, dict) or any(
        settings.get(key, values[0]) not in values for key, values in allowed.items()
    ):
        raise DataError("The session file holds invalid settings.", path=path)
    colour = str(settings.get("colour_by", "none"))
    if not (
        colour == "none"
        or colour.startswith("posebit:")
        or colour.removeprefix("distance:") in dict(DISTANCE_METRICS)
    ):
        raise DataError(f"The session file holds an invalid colouring {colour!r}.", path=path)
    check_choices(settings, path)
    for term in data.get("query", []):
        if not isinstance(term, dict) or term.get("type") not in ("image", "posebits", "selection"):
            raise DataError("The session file holds an invalid query term.", path=path)
        if term.get("type") == "image" and term.get("path") is not None:
            term["path"] = resolve_session_path(term["path"], base, path)
    return data


def _check_structure(data: dict[str, Any], path: Path) -> None:
    """Refuse a session whose fields have the wrong JSON types (lists, pairs, numbers, flags)."""

    def bad(what: str) -> DataError:
        return DataError(f"The session file holds an invalid {what}.", path=path)

    def is_condition(name: object, value: object) -> bool:
        return isinstance(name, str) and not isinstance(value, bool) and value in (0, 1)

    def is_number(value: object) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    query = data.get("query", [])
    if not isinstance(query, list):
        raise bad("query")
    for term in query:
        if not isinstance(term, dict) or not is_number(term.get("weight", 1.0)):
            raise bad("query term")
        index = term.get("gallery_index")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int)):
            raise bad("gallery index")
        members = term.get("indices", [])
        if not isinstance(members, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in members
        ):
            raise bad("selection term")
        if not isinstance(term.get("name", "selection"), str):
            raise bad("selection name")
        pairs = term.get("conditions", [])
        if not isinstance(pairs, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and is_condition(*pair) for pair in pairs
        ):
            raise bad("posebit term")
        if not isinstance(term.get("mode", "conditional"), str):
            raise bad("posebit mode")
    conditions = data.get("conditions", {})
    if not isinstance(conditions, dict) or not all(is_condition(k, v) for k, v in conditions.items()):
        raise bad("posebit selection")
    selection = data.get("selection", [])
    if not isinstance(selection, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in selection
    ):
        raise bad("selection")
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise bad("settings")
    if not is_number(settings.get("k", 50)) or not isinstance(settings.get("colour_by", "none"), str):
        raise bad("settings")
    flags = ("filter_by_posebits", "subspace", "weight_asked_bits")
    if not all(isinstance(settings.get(flag, False), bool) for flag in flags):
        raise bad("settings")


@dataclass(frozen=True)
class RestorePlan:
    """A session file checked against the loaded engine: everything :func:`apply_session` will set."""

    terms: tuple[Any, ...]
    conditions: dict[str, int]
    selection: tuple[int, ...]
    partial_method: str
    weight_asked_bits: bool
    split: str | None
    filter_by_posebits: bool
    k: int
    projection_method: str
    subspace: bool
    colour_by: str
    frame_criterion: FrameCriterion
    projection_params: dict[str, dict[str, Any]]


def plan_session(session: Session, data: dict[str, Any], session_file: Path) -> RestorePlan:
    """Check ``data`` (from :func:`read_session`) against the loaded engine; changes nothing."""
    engine = session.engine
    size = len(engine.gallery)
    names = set(engine.vocabulary.names)

    def index(value: object) -> int:
        if not isinstance(value, int) or not 0 <= value < size:
            raise DataError(
                f"The session refers to gallery item {value!r}, which does not exist.", path=session_file
            )
        return value

    def conditions(pairs: Any) -> tuple[tuple[str, int], ...]:
        result = tuple((str(name), int(value)) for name, value in pairs)
        unknown = [name for name, value in result if name not in names or value not in (0, 1)]
        if unknown:
            raise DataError(
                f"The session asks for unknown posebits: {', '.join(unknown)}.", path=session_file
            )
        return result

    terms: list[Any] = []
    for term in data.get("query", []):
        weight = _number(term.get("weight", 1.0), -100.0, 100.0, session_file)
        if term["type"] == "selection":
            try:
                terms.append(
                    SelectionTerm(
                        indices=tuple(index(i) for i in term.get("indices", [])),
                        name=str(term.get("name", "selection")),
                        weight=weight,
                    )
                )
            except QueryError as error:
                raise DataError(
                    f"The session holds an invalid selection term: {error}", path=session_file
                ) from error
        elif term["type"] == "image":
            gallery_index = term.get("gallery_index")
            terms.append(
                ImageTerm(
                    gallery_index=None if gallery_index is None else index(gallery_index),
                    path=term.get("path"),
                    weight=weight,
                )
            )
        else:
            terms.append(
                PosebitTerm(
                    conditions=conditions(term.get("conditions", [])),
                    mode=posebit_mode(str(term.get("mode", "conditional"))),
                    weight=weight,
                )
            )
    settings = data.get("settings", {})
    return RestorePlan(
        terms=tuple(terms),
        conditions=dict(conditions(dict(data.get("conditions", {})).items())),
        selection=tuple(index(i) for i in data.get("selection", [])),
        partial_method=settings.get("partial_method", "conditional"),
        weight_asked_bits=bool(settings.get("weight_asked_bits", True)),
        split=settings.get("split"),
        filter_by_posebits=bool(settings.get("filter_by_posebits", False)),
        k=int(_number(settings.get("k", 50), 1, MAX_RESULTS, session_file)),
        projection_method=settings.get("projection_method", "pca"),
        subspace=bool(settings.get("subspace", False)),
        colour_by=str(settings.get("colour_by", "none")),
        frame_criterion=frame_criterion_from(settings),
        projection_params=projection_params_from(settings),
    )


def apply_session(session: Session, data: dict[str, Any], session_file: Path) -> None:
    """Restore ``data`` (from :func:`read_session`) into a session whose engine is loaded: all of it
    or — when any part is invalid (a DataError) — nothing."""
    plan = plan_session(session, data, session_file)
    state, settings = session.state, session.settings
    settings.partial_method = plan.partial_method
    settings.weight_asked_bits = plan.weight_asked_bits
    settings.split = plan.split
    settings.filter_by_posebits = plan.filter_by_posebits
    settings.k = plan.k
    settings.projection_params = plan.projection_params  # before the map below is asked for
    state.settings_changed.emit()
    state.set_conditions(plan.conditions)
    session.refresh_filter_and_count()
    session.request_projection(plan.projection_method, plan.subspace)
    session.set_selection(list(plan.selection))
    session.request_query(Query(plan.terms) if plan.terms else None)
    session.set_colour_by(plan.colour_by)
    session.set_frame_criterion(plan.frame_criterion)


def restore_session(session: Session, path: str | Path) -> None:
    """Read ``path`` and restore it, re-opening the engine first when the gallery differs.

    Everything that can be checked is checked before anything changes (a missing gallery, bad fields:
    a DataError, nothing applied). Success is announced once, with ``session.info``, when the session
    is applied — after the gallery has loaded when it had to be opened; a failure then is reported
    through ``session.error_occurred`` instead.
    """
    path = Path(path)
    data = read_session(path)
    gallery = data.get("gallery")
    if gallery is not None and not Path(gallery).is_dir():
        raise DataError(f"The session's gallery {gallery} does not exist; nothing was restored.", path=path)
    same = gallery is None or (
        session.gallery_path is not None and Path(gallery).resolve() == Path(session.gallery_path).resolve()
    )
    if session.engine is not None and same:
        apply_session(session, data, path)
        session.info.emit(f"Session restored from {path}.")
        return

    def loaded() -> None:
        try:
            apply_session(session, data, path)
        except PosebrowserError as error:
            session.error_occurred.emit(error)
        else:
            session.info.emit(f"Session restored from {path}.")

    session.load(gallery, on_loaded=loaded)


def results_table(session: Session) -> list[dict[str, Any]]:
    state = session.results
    if state is None:
        return []
    rows = []
    gallery_ids = getattr(state.result, "ids", None)
    for rank, (index, distance) in enumerate(zip(state.indices, state.distances, strict=True)):
        row: dict[str, Any] = {
            "rank": rank + 1,
            "index": int(index),
            "id": None if gallery_ids is None else int(np.asarray(gallery_ids)[rank]),
            "file": state.paths[rank],
            "distance": float(distance),
        }
        if state.correct is not None:
            row["correct"] = bool(state.correct[rank])
        for column, name in enumerate(state.chip_names):
            row[f"agrees:{name}"] = int(state.chip_agree[rank, column])
        rows.append(row)
    return rows


def export_results(session: Session, path: str | Path) -> int:
    """Write the ranked results as CSV or JSON (by suffix); returns the number of rows."""
    path = Path(path)
    rows = results_table(session)
    if path.suffix.lower() == ".json":
        query = session.query
        expression = "" if query is None else query.to_expr()  # every term, file paths too, has a form
        payload = {"query": expression, "results": rows}
        atomic_write_bytes(path, json.dumps(payload, indent=2).encode("utf-8"))
    else:
        atomic_write_bytes(path, _csv_bytes(rows))
    return len(rows)


def export_selection(session: Session, path: str | Path) -> int:
    """Write the lasso selection (index, file, x, y of the current projection) as CSV."""
    coords = session.projection.coords if session.projection is not None else None
    rows = []
    for index in session.selection:
        row: dict[str, Any] = {"index": int(index), "file": session.image_path(int(index))}
        if coords is not None:
            row["x"], row["y"] = float(coords[index, 0]), float(coords[index, 1])
        rows.append(row)
    atomic_write_bytes(Path(path), _csv_bytes(rows))
    return len(rows)


def _number(value: object, low: float, high: float, session_file: Path) -> float:
    """A finite number in [low, high] from a session file, else a DataError (compared before any
    conversion, so an integer too large for a float is refused too, and NaN compares False)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise DataError(f"The session file holds an invalid number {value!r}.", path=session_file)
    return float(value)


def _csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
