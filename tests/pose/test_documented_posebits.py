"""Every posebit the README, the glossary and the docstrings quote exists in the shipped vocabulary
(before: "right wrist is above the head" was quoted everywhere and the CLI rejected it)."""

from __future__ import annotations

import re
from pathlib import Path

from posebrowser.pose.posebits import get_vocabulary

ROOT = Path(__file__).resolve().parents[2]
QUOTED = re.compile(r"[\"\[]((?:left|right) [a-z ]+? (?:is|are) [a-z ]+?)[\"\]=]")


def test_quoted_posebit_labels_are_in_the_vocabulary() -> None:
    labels = set(get_vocabulary().labels)
    files = [ROOT / "README.md", ROOT / "CONTEXT.md", *sorted((ROOT / "posebrowser").rglob("*.py"))]
    quoted = {(path.name, m.group(1)) for path in files for m in QUOTED.finditer(path.read_text())}
    assert len(quoted) >= 3
    unknown = sorted((name, label) for name, label in quoted if label not in labels)
    assert not unknown, f"documented posebits that do not exist: {unknown}"
