"""Headless command line: ``posebrowser <command> …``.

Each area registers its own sub-commands (``<area>/command.py``: ``register(subparsers)``), so this
module only wires them. Sub-command modules are imported when the parser is built, but they import
torch/faiss lazily inside their ``run_*`` functions, so ``posebrowser --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from posebrowser.errors import PosebrowserError

#: Modules that provide ``register(subparsers)``; a missing one is skipped so a partial install works.
COMMAND_MODULES: tuple[str, ...] = (
    "posebrowser.synth.command",
    "posebrowser.pose.command",
    "posebrowser.core.command",
    "posebrowser.training.command",
    "posebrowser.evaluation.command",
    "posebrowser.estimate.command",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="posebrowser",
        description="Explore pose-aware embedding spaces. Without a command, launches the desktop app.",
    )
    parser.add_argument("--version", action="version", version=_version())
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    gui = subparsers.add_parser("gui", help="launch the desktop application (the default)")
    gui.set_defaults(func=_run_gui)
    for name in COMMAND_MODULES:
        module = importlib.import_module(name)
        module.register(subparsers)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("posebrowser")
    except PackageNotFoundError:
        return "unknown"


def _run_gui(args: argparse.Namespace) -> int:
    from posebrowser.app import main as app_main

    return int(app_main([]))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code (0 ok, 1 user error, 2 usage)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if not args_list:
        return _run_gui(argparse.Namespace())
    parser = build_parser()
    args = parser.parse_args(args_list)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return int(func(args))
    except PosebrowserError as error:
        print(f"posebrowser: error: {error.user_message}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error for a command-line tool.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("posebrowser: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
