"""The headless core stays Qt-free: the import-linter contract covers every module, and importing the CLI
and the core really leaves Qt out of ``sys.modules``."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import posebrowser

ROOT = Path(__file__).resolve().parents[1]
QT_SIDE = {"gui", "app", "__init__", "__main__"}


def _contract() -> dict[str, object]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    return next(c for c in contracts if c["name"].startswith("Qt only"))


def test_qt_contract_covers_every_module_outside_the_gui() -> None:
    """Before: fileio.py and any new top-level module were outside the contract."""
    listed = {name.removeprefix("posebrowser.") for name in _contract()["source_modules"]}  # type: ignore[union-attr]
    package = Path(posebrowser.__file__).parent
    top_level = {p.stem for p in package.glob("*.py")} | {
        p.name for p in package.iterdir() if (p / "__init__.py").exists()
    }
    missing = top_level - QT_SIDE - listed
    assert not missing, f"add {sorted(missing)} to the Qt contract in pyproject.toml"


def test_importing_the_cli_and_core_loads_no_qt() -> None:
    modules = [
        "posebrowser.cli",
        "posebrowser.core.engine",
        "posebrowser.core.command",
        "posebrowser.evaluation.command",
        "posebrowser.training.command",
        "posebrowser.synth.command",
        "posebrowser.fileio",
        "posebrowser.core.masks",
        "posebrowser.nets.efficientnet",
    ]
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + (
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'superqt'))\n"
            "print(','.join(bad))\n"
        )
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "", f"Qt modules imported by the headless core: {out.stdout.strip()}"


def test_no_import_cycles_between_sibling_modules() -> None:
    """Before: core.query imported core.query_parser (lazily), which imports core.query."""
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run(
        [str(lint), "--contract", "acyclic", "--no-cache"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0, out.stdout[-2000:]
