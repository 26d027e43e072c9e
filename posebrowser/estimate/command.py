"""``posebrowser estimate IMAGE|DIR``: estimate the pose in photos (cached per image, resumable).

Examples::

    posebrowser estimate photo.jpg --json
    posebrowser estimate ~/Pictures/people --cache-dir /tmp/estimates
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from posebrowser.errors import DataError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("estimate", help="estimate joints and posebits of the person in photos")
    parser.add_argument("target", type=Path, help="an image file, or a folder (searched recursively)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--cache-dir", type=Path, default=None, help="estimate cache folder")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    parser.set_defaults(func=run_estimate)


def _targets(target: Path) -> tuple[list[Path], bool]:
    """The files to estimate and whether ``target`` was a folder."""
    from posebrowser.data.image_folder import list_images

    if target.is_dir():
        return [target / name for name in list_images(target)], True
    if not target.exists():
        raise DataError("There is no such image file or folder.", path=target)
    return [target], False


def _line(path: Path, record: dict[str, Any]) -> str:
    if "error" in record:
        return f"{path}: unreadable — {record['error']}"
    if record["status"] == "no-person":
        return f"{path}: no person — {record['message']}"
    known = sum(1 for bit in record["posebits"] if bit >= 0)
    notes = [f"mean joint confidence {record['mean_confidence']:.2f}", f"{known} posebits known"]
    if record["people_found"] > 1:
        notes.append(f"{record['people_found']} people, the largest described")
    if record["low_confidence"]:
        notes.append("LOW CONFIDENCE")
    return f"{path}: person — " + ", ".join(notes)


def run_estimate(args: argparse.Namespace) -> int:
    from posebrowser.estimate.cache import EstimateCache, default_estimate_cache_dir, estimate_files
    from posebrowser.estimate.estimator import PoseEstimator
    from posebrowser.pose.skeleton import JOINT_NAMES

    files, is_folder = _targets(args.target)
    with PoseEstimator() as estimator:
        cache = None if args.no_cache else EstimateCache(args.cache_dir or default_estimate_cache_dir(),
                                                         estimator.version)
        results = estimate_files(files, estimator, cache)
        if not is_folder and results[0].outcome is None:
            raise DataError(str(results[0].error))
        records = []
        for item in results:
            record: dict[str, Any] = {"path": str(item.path)}
            if item.outcome is None:
                record["error"] = item.error
            else:
                record.update(item.outcome.to_json_dict(), cached=item.cached)
            records.append(record)
        if args.json:
            payload = {"estimator": estimator.version, "joint_names": list(JOINT_NAMES),
                       "posebit_names": list(estimator.vocabulary.names), "images": records}
            json.dump(payload, sys.stdout, indent=1)
            sys.stdout.write("\n")
        else:
            for item, record in zip(results, records, strict=True):
                print(_line(item.path, record))
    return 0
