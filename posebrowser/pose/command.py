"""``posebrowser posebits``: list the posebit vocabulary."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("posebits", help="list the posebit vocabulary")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run_posebits)


def run_posebits(args: argparse.Namespace) -> int:
    from posebrowser.pose.posebits import get_vocabulary

    vocabulary = get_vocabulary()
    if args.json:
        payload = {
            "version": vocabulary.version,
            "count": len(vocabulary),
            "posebits": [
                {"index": i, "name": b.name, "label": b.label, "body_part": b.body_part, "kind": b.kind}
                for i, b in enumerate(vocabulary.bits)
            ],
        }
        print(json.dumps(payload, indent=2))
        return 0
    print(f"posebit vocabulary {vocabulary.version}: {len(vocabulary)} bits")
    for i, bit in enumerate(vocabulary.bits):
        print(f"{i:4d}  {bit.kind:9s} {bit.body_part:11s} {bit.label}")
    return 0
