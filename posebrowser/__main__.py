"""``python -m posebrowser`` opens the GUI; ``python -m posebrowser <command> …`` runs the headless CLI."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments and not arguments[0].startswith("-"):
        from posebrowser.cli import main as cli_main

        return int(cli_main(arguments))
    from posebrowser.app import main as gui_main

    return gui_main(arguments)


if __name__ == "__main__":
    sys.exit(main())
