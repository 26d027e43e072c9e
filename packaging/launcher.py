"""Entry point of the frozen app (PyInstaller): ``posebrowser`` runs the command line, and with no
arguments or ``gui [options]`` the desktop app (``gui --quit-after-shown`` is the start-up smoke test)."""

from __future__ import annotations

import multiprocessing
import sys


def main() -> int:
    multiprocessing.freeze_support()  # the synth generator's worker processes re-enter here
    arguments = sys.argv[1:]
    if not arguments or arguments[0] == "gui":
        from posebrowser.app import main as app_main

        return int(app_main(arguments[1:]))
    from posebrowser.cli import main as cli_main

    return int(cli_main(arguments))


if __name__ == "__main__":
    raise SystemExit(main())
