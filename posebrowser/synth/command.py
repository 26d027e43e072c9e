"""``posebrowser synth``: generate the built-in synthetic gallery (or any size of it) from a seed.

Example: ``posebrowser synth --count 5000 --seed 0 --out resources/gallery --workers 2``. Re-running the
same command after an interruption resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from posebrowser.errors import PosebrowserError


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``synth`` sub-command."""
    parser = subparsers.add_parser(
        "synth",
        help="generate a synthetic pose-annotated gallery",
        description="Render posed human bodies with exact 2D/3D joints, visibility, cameras and posebits "
        "into a posebrowser gallery folder. Deterministic for a seed; resumes after an interruption.",
    )
    parser.add_argument("--count", type=int, required=True, help="number of images")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", type=Path, required=True, help="output gallery folder (new or empty)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    parser.add_argument("--size", type=int, default=128, help="image side in pixels (default 128)")
    parser.add_argument("--name", default=None, help="gallery name (default: the folder name)")
    parser.add_argument("--json", action="store_true", help="print the manifest as JSON")
    _add_distribution_options(parser)
    parser.set_defaults(func=run_synth)


_RANGES = {
    "elevation": "camera elevation in degrees (> 0 looks down)",
    "azimuth": "camera azimuth around the person in degrees",
    "roll": "camera roll about its optical axis in degrees",
    "distance": "camera distance in metres (with --fill it fixes the focal length)",
    "fill": "share of the frame the person's longer side spans",
    "height": "body height factor",
    "girth": "body girth (horizontal scale) factor",
}


def _add_distribution_options(parser: argparse.ArgumentParser) -> None:
    from posebrowser.synth.options import DEFAULT_OPTIONS, STRESS_SETS

    group = parser.add_argument_group(
        "distribution", "what the images show (defaults: the broad distribution of the built-in gallery)"
    )
    group.add_argument(
        "--stress",
        choices=sorted(STRESS_SETS),
        default=None,
        help="start from a named stress distribution instead of the defaults",
    )
    for name, text in _RANGES.items():
        low, high = getattr(DEFAULT_OPTIONS, name)
        group.add_argument(
            f"--{name}",
            type=float,
            nargs=2,
            metavar=("LOW", "HIGH"),
            default=None,
            help=f"{text} (default {low:g} {high:g})",
        )
    group.add_argument(
        "--clip-share",
        type=float,
        default=None,
        help=f"share of motion-clip poses (default {DEFAULT_OPTIONS.clip_share:g})",
    )
    group.add_argument(
        "--perturb-share",
        type=float,
        default=None,
        help=f"share of perturbed clip poses (default {DEFAULT_OPTIONS.perturb_share:g}); rest: random",
    )
    group.add_argument(
        "--shape-blend",
        type=float,
        default=None,
        help=f"largest blend weight between two body meshes (default {DEFAULT_OPTIONS.shape_blend:g})",
    )
    group.add_argument(
        "--bodies",
        type=int,
        nargs="+",
        default=None,
        help="body-bank meshes to draw from (default " + " ".join(map(str, DEFAULT_OPTIONS.bodies)) + ")",
    )


def options_from_args(args: argparse.Namespace) -> Any:
    """The :class:`SynthOptions` the command line asks for (a stress set, then the explicit options)."""
    from dataclasses import replace

    from posebrowser.synth.options import DEFAULT_OPTIONS, STRESS_SETS

    options = STRESS_SETS[args.stress] if getattr(args, "stress", None) else DEFAULT_OPTIONS
    changes: dict[str, Any] = {
        name: tuple(getattr(args, name)) for name in _RANGES if getattr(args, name, None) is not None
    }
    for name in ("clip_share", "perturb_share", "shape_blend"):
        if getattr(args, name, None) is not None:
            changes[name] = float(getattr(args, name))
    if getattr(args, "bodies", None):
        changes["bodies"] = tuple(args.bodies)
    return replace(options, **changes)


def run_synth(args: argparse.Namespace) -> int:
    """Run the generator with a tqdm progress bar on stderr; returns the exit status."""
    from tqdm import tqdm

    from posebrowser.synth.generate import generate_gallery

    bar = tqdm(
        total=args.count,
        unit="img",
        file=sys.stderr,
        desc="synth",
        disable=args.json and not sys.stderr.isatty(),
    )

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        options = options_from_args(args)
        manifest: dict[str, Any] = generate_gallery(
            args.out,
            args.count,
            seed=args.seed,
            size=args.size,
            workers=args.workers,
            name=args.name,
            progress=progress,
            options=options,
        )
    except PosebrowserError as error:
        bar.close()
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        bar.close()
        print("Interrupted; run the same command again to resume.", file=sys.stderr)
        return 130
    bar.close()
    if args.json:
        print(json.dumps(manifest, indent=2))
    else:
        print(f"Wrote {manifest['count']} images to {args.out} (content hash {manifest['content_hash']}).")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m posebrowser.synth.command synth --count 16 --out DIR``."""
    parser = argparse.ArgumentParser(prog="posebrowser")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
