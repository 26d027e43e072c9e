"""The split names have one home, ``data.gallery_format.SPLITS``; the engine and the evaluation once kept
their own copies, which could drift from the gallery format."""

from __future__ import annotations

import ast
from pathlib import Path

import posebrowser
from posebrowser.data.gallery_format import SPLITS

PACKAGE = Path(posebrowser.__file__).parent
HOME = PACKAGE / "data" / "gallery_format.py"


def _split_tuple_literals(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Tuple)
        and all(isinstance(e, ast.Constant) for e in node.elts)
        and tuple(e.value for e in node.elts) == SPLITS  # type: ignore[attr-defined]
    ]


def test_split_names_are_spelled_out_only_in_the_gallery_format() -> None:
    copies = {
        str(path.relative_to(PACKAGE)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != HOME and (lines := _split_tuple_literals(path))
    }
    assert not copies, f"import SPLITS from posebrowser.data.gallery_format instead of: {copies}"
    assert _split_tuple_literals(HOME), "the home of SPLITS moved; update this test"
