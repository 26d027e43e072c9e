"""Every marker declared in pyproject.toml marks some test, so ``-m slow`` / ``-m cuda`` select something
(both once selected nothing: the long tests ran in ``make test`` and no CUDA test existed)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_declared_marker_is_used() -> None:
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    declared = {line.split(":")[0].strip() for line in options["markers"]}
    sources = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("test_*.py"))
    used = set(re.findall(r"pytest\.mark\.(\w+)", sources))
    assert {"slow", "cuda", "gui"} <= declared
    assert declared <= used, f"declared but never used: {sorted(declared - used)}"
    assert "--strict-markers" in options.get("addopts", ""), "an undeclared marker must be an error"
