"""Docstrings, comments and docs stand on their own: they cite no document that is not in the repository
(developer notes outside it, their file names, or section numbers of one) — every file of the package,
tests, benchmarks, tools, packaging and docs, and the top-level documents, with no exceptions."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("posebrowser", "tests", "benchmarks", "tools", "packaging", "docs", ".ci")
TOP_LEVEL = ("README.md", "CONTEXT.md", "Makefile", "pyproject.toml")
SUFFIXES = {".py", ".sh", ".spec", ".md", ".toml", ".txt", ".xml", ".desktop", ".cfg", ".ini", ""}
#: Section signs, the developer notes' folder and file names, and phrases that point at them.
OUTSIDE = re.compile(
    r"§|thesis-reference|design[ -]doc|design/|shared/"
    r"|\b(?:architecture|product|performance|synthetic-gallery|offline-assets)\.md|\bseeds/"
)


def checked_files() -> list[Path]:
    files = [ROOT / name for name in TOP_LEVEL]
    for folder in CHECKED:
        files += [
            path
            for path in sorted((ROOT / folder).rglob("*"))
            if path.is_file() and path.suffix in SUFFIXES and "__pycache__" not in path.parts
        ]
    return [path for path in files if path.exists() and path != Path(__file__)]


def test_no_citations_of_documents_outside_the_repository() -> None:
    found = []
    files = checked_files()
    assert ROOT / "posebrowser" / "training" / "sampling.py" in files  # every package folder, no exceptions
    assert ROOT / "posebrowser" / "synth" / "camera.py" in files
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:90]}")
    assert not found, "cite only what is in the repository:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "line",
    [
        '"""Pinhole cameras fitted tightly around a posed body (synthetic-gallery.md §5.6).',
        "Batch composition (thesis-reference 8.1, fixing 14.9/14.10)",
        "# thesis image net: posebit fc2/fc3 = image fc6/fc7, frozen (§8.2)",
        "see the design doc for the tie rule",
        "as in ../shared/design/architecture.md",
        "the budget of performance.md",
        "listed in product.md",
        "the seeds/ notes",
    ],
)
def test_the_pattern_catches_citations(line: str) -> None:
    assert OUTSIDE.search(line)


@pytest.mark.parametrize(
    "line",
    [
        "Shared settings for the nets tests: one torch thread, deterministic seeds.",
        "def mutated_bytes(draw: st.DrawFn, seeds: list[bytes]) -> bytes:",
        "Loading of the baked synthetic-gallery assets in ``resources/synth`` (see its ``NOTICE.md``).",
        "the thesis flips a whole triplet batch together (one coin per batch)",
    ],
)
def test_the_pattern_leaves_plain_words_alone(line: str) -> None:
    assert not OUTSIDE.search(line)
