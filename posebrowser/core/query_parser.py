"""Parser for query expressions.

Grammar (whitespace is free between tokens)::

    expr      := ['+' | '-'] term (('+' | '-') term)*
    term      := [number ['*']] '[' body ']' ['{' mode '}']
    body      := 'img' INT | 'file:' PATH | 'sel' '"' NAME '":' INT+ | condition (',' condition)*
    condition := LABEL_OR_NAME ['=' ('0' | '1')]          (omitted value means 1; omitted bit = don't care)
    mode      := 'full' | 'conditional' | 'mask'

Examples: ``2*[img 17] + [right wrist is above the neck] - 0.5*[img 3]``,
``[file:/photos/x.jpg]`` (``[file:"/photos/a]b.jpg"]`` for a path with brackets or quotes; ``\\"`` and
``\\\\`` inside the quotes), ``[left knee is bent=1, right knee is bent=0]{mask}``,
``[sel "arms up": 3 17 42]`` (a named selection: the centroid of gallery items 3, 17 and 42).
Errors are :class:`QueryError` / :class:`UnknownPosebitError` whose message gives the 1-based column and
which carry ``position`` (0-based offset) as an attribute.
"""

from __future__ import annotations

import re

from posebrowser.core.query import (
    POSEBIT_MODES,
    ImageTerm,
    PosebitMode,
    PosebitTerm,
    Query,
    SelectionTerm,
    Term,
    VocabularyLike,
)
from posebrowser.errors import QueryError, UnknownPosebitError

_QUOTED_FILE = re.compile(r'\s*file:\s*"((?:[^"\\]|\\.)*)"\s*\]', re.IGNORECASE)
_NUMBER = re.compile(r"(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_IMG = re.compile(r"\s*img\s+(\d+)\s*$", re.IGNORECASE)
_SELECTION = re.compile(r'\s*sel\s*"([^"\]\\]*)"\s*:\s*(\d+(?:\s+\d+)*)\s*\]', re.IGNORECASE)


def _error(message: str, expr: str, position: int, unknown: bool = False) -> QueryError:
    cls = UnknownPosebitError if unknown else QueryError
    err = cls(f"{message} (at column {position + 1} of '{expr}').")
    err.position = position  # type: ignore[attr-defined]
    return err


class _Parser:
    def __init__(self, expr: str, vocabulary: VocabularyLike) -> None:
        self.expr = expr
        self.vocabulary = vocabulary
        self.pos = 0

    def skip_space(self) -> None:
        while self.pos < len(self.expr) and self.expr[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip_space()
        return self.expr[self.pos] if self.pos < len(self.expr) else ""

    def parse(self) -> Query:
        if not self.expr.strip():
            raise _error("The query is empty: add an image or a posebit", self.expr, 0)
        terms: list[Term] = []
        sign = 1.0
        if self.peek() in "+-" and self.peek():
            sign = -1.0 if self.expr[self.pos] == "-" else 1.0
            self.pos += 1
        while True:
            terms.append(self.term(sign))
            op = self.peek()
            if not op:
                return Query(tuple(terms))
            if op not in "+-":
                raise _error(f"Expected '+' or '-' between terms, found '{op}'", self.expr, self.pos)
            sign = -1.0 if op == "-" else 1.0
            self.pos += 1

    def term(self, sign: float) -> Term:
        weight = 1.0
        self.skip_space()
        match = _NUMBER.match(self.expr, self.pos)
        if match:
            weight = float(match.group(0))
            self.pos = match.end()
            if self.peek() == "*":
                self.pos += 1
        if self.peek() != "[":
            found = self.peek() or "the end"
            raise _error(f"Expected '[' to start a term, found '{found}'", self.expr, self.pos)
        start = self.pos + 1
        quoted = _QUOTED_FILE.match(self.expr, start)
        if quoted is not None:  # [file:"any path, with \" and \\ escaped"]
            self.pos = quoted.end()
            path = re.sub(r"\\(.)", r"\1", quoted.group(1))
            if not path:
                raise _error("'file:' needs a path", self.expr, start)
            return ImageTerm(path=path, weight=sign * weight)
        selection = _SELECTION.match(self.expr, start)
        if selection is not None:  # [sel "name": 3 17 42]
            self.pos = selection.end()
            indices = tuple(int(i) for i in selection.group(2).split())
            return SelectionTerm(indices=indices, name=selection.group(1), weight=sign * weight)
        end = self.expr.find("]", start)
        if end < 0:
            raise _error("A '[' is never closed with ']'", self.expr, self.pos)
        self.pos = end + 1
        mode: PosebitMode | None = None
        if self.peek() == "{":
            mode = self.mode()
        return self.body(start, end, sign * weight, mode)

    def mode(self) -> PosebitMode:
        open_at = self.pos
        close = self.expr.find("}", open_at)
        if close < 0:
            raise _error("A '{' is never closed with '}'", self.expr, open_at)
        text = self.expr[open_at + 1 : close].strip().lower()
        if text not in POSEBIT_MODES:
            raise _error(
                f"Unknown mode '{text}'; use one of {', '.join(POSEBIT_MODES)}", self.expr, open_at + 1
            )
        self.pos = close + 1
        return text  # type: ignore[return-value]

    def body(self, start: int, end: int, weight: float, mode: PosebitMode | None) -> Term:
        text = self.expr[start:end]
        stripped = text.strip()
        if not stripped:
            raise _error("An empty term '[]'", self.expr, start)
        image = _IMG.match(text)
        is_file = stripped.lower().startswith("file:")
        if (image or is_file) and mode is not None:
            raise _error("A mode applies to posebit terms only", self.expr, end + 1)
        if image:
            return ImageTerm(gallery_index=int(image.group(1)), weight=weight)
        if is_file:
            path = stripped[5:].strip()
            if not path:
                raise _error("'file:' needs a path", self.expr, start)
            return ImageTerm(path=path, weight=weight)
        conditions: list[tuple[str, int]] = []
        offset = start
        for part in text.split(","):
            conditions.append(self.condition(part, offset))
            offset += len(part) + 1
        names = [n for n, _ in conditions]
        if len(set(names)) != len(names):
            raise _error("The same posebit is set twice in one term", self.expr, start)
        return PosebitTerm(tuple(conditions), mode or "conditional", weight)

    def condition(self, part: str, offset: int) -> tuple[str, int]:
        lead = len(part) - len(part.lstrip())
        label, eq, value_text = part.partition("=")
        label = label.strip()
        if not label:
            raise _error("A posebit name is missing", self.expr, offset + lead)
        value = 1
        if eq:
            value_text = value_text.strip()
            if value_text not in ("0", "1"):
                at = offset + part.index("=") + 1
                raise _error(f"A posebit value must be 1 or 0, not '{value_text}'", self.expr, at)
            value = int(value_text)
        try:
            index = self.vocabulary.index(label)
        except (UnknownPosebitError, KeyError, ValueError):
            raise _error(f"Unknown posebit '{label}'", self.expr, offset + lead, unknown=True) from None
        return self.vocabulary.names[index], value


def parse_query(expr: str, vocabulary: VocabularyLike) -> Query:
    """Parse ``expr`` into a :class:`Query`; bit labels or names are resolved to names via ``vocabulary``."""
    return _Parser(expr, vocabulary).parse()
