"""Choose the shipped posebit vocabulary from a sample of 3D poses.

Usage::

    python tools/select_posebits.py JOINTS.npz --out posebrowser/pose/vocabulary.json

``JOINTS.npz`` must hold ``joints_3d`` (N, 16, 3) in a world frame whose up direction is ``--up``
(default Z-up). All candidate posebits are computed, those with a positive rate outside [low, high] are
dropped, then bits correlated with an already kept, simpler bit (|r| ≥ max-corr) are dropped. The result
``{"version": ..., "names": [...]}`` is written atomically (temporary file + rename).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

from posebrowser.pose.posebits import PosebitVocabulary, candidate_posebits, select_informative_detailed


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that an interruption leaves either the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("joints", type=Path, help="npz file with joints_3d (N, 16, 3)")
    parser.add_argument("--out", type=Path, default=Path("posebrowser/pose/vocabulary.json"))
    parser.add_argument("--up", default="0,0,1", help="world up direction as x,y,z (default 0,0,1)")
    parser.add_argument("--low", type=float, default=0.05, help="lowest positive rate kept")
    parser.add_argument("--high", type=float, default=0.95, help="highest positive rate kept")
    parser.add_argument("--max-corr", type=float, default=0.9, help="drop bits with |r| at or above this")
    parser.add_argument("--json", action="store_true", help="print the counts as json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with np.load(args.joints) as data:
            joints = np.asarray(data["joints_3d"], dtype=np.float64)
        up = tuple(float(value) for value in args.up.split(","))
    except (OSError, KeyError, ValueError) as error:
        print(f"{args.joints}: cannot read joints_3d ({error}).", file=sys.stderr)
        return 2
    if joints.ndim != 3 or joints.shape[1:] != (16, 3) or len(joints) == 0:
        print(f"{args.joints}: joints_3d must have shape (N, 16, 3), got {joints.shape}.", file=sys.stderr)
        return 2
    candidates = candidate_posebits()
    bits = PosebitVocabulary.from_bits(candidates).compute(joints, up=up)
    result = select_informative_detailed(bits, candidates, args.low, args.high, args.max_corr)
    vocabulary = PosebitVocabulary.from_names(result.kept)
    write_atomically(args.out, json.dumps(vocabulary.to_json_dict(), indent=1) + "\n")
    counts = {
        "poses": len(joints),
        "candidates": len(candidates),
        "after_rate_filter": len(result.after_rate_filter),
        "after_correlation_filter": len(result.kept),
        "version": vocabulary.version,
        "out": str(args.out),
    }
    if args.json:
        print(json.dumps(counts))
    else:
        print(f"{counts['poses']} poses, {counts['candidates']} candidate posebits")
        print(f"{counts['after_rate_filter']} with a positive rate in [{args.low}, {args.high}]")
        print(f"{counts['after_correlation_filter']} kept after dropping |r| >= {args.max_corr}")
        print(f"wrote {args.out} (version {vocabulary.version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
