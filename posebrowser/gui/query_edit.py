"""Pure helpers that build new queries from old ones, and the back/forward history (no Qt)."""

from __future__ import annotations

from typing import cast

from posebrowser.core.query import POSEBIT_MODES, ImageTerm, PosebitMode, PosebitTerm, Query, SelectionTerm
from posebrowser.errors import QueryError

Term = ImageTerm | PosebitTerm | SelectionTerm


def posebit_mode(mode: str) -> PosebitMode:
    """``mode`` checked against the core's posebit modes ("full", "conditional", "mask")."""
    if mode not in POSEBIT_MODES:
        raise QueryError(f"Unknown posebit method {mode!r}.")
    return cast(PosebitMode, mode)


def reweighted(term: Term, weight: float) -> Term:
    """The same term with another weight."""
    if isinstance(term, SelectionTerm):
        return SelectionTerm(indices=term.indices, name=term.name, weight=weight)
    if isinstance(term, ImageTerm):
        return ImageTerm(gallery_index=term.gallery_index, path=term.path, weight=weight)
    return PosebitTerm(conditions=term.conditions, mode=term.mode, weight=weight)


def renamed(term: SelectionTerm, name: str) -> SelectionTerm:
    """The same selection under another name (QueryError for a name the expression cannot hold)."""
    return SelectionTerm(indices=term.indices, name=name, weight=term.weight)


def next_selection_name(query: Query | None) -> str:
    """ "selection 1", "selection 2", …: the first name no selection term of ``query`` has."""
    taken = {t.name for t in (query.terms if query is not None else ()) if isinstance(t, SelectionTerm)}
    number = 1
    while f"selection {number}" in taken:
        number += 1
    return f"selection {number}"


def with_conditions(query: Query | None, conditions: tuple[tuple[str, int], ...], mode: str) -> Query | None:
    """``query`` with its posebit terms replaced by one term for ``conditions`` (none when empty).

    A plain image click (one image term) is replaced by the posebit query; a composed query (several
    terms, or already holding posebits) keeps its image terms so ticking refines the arithmetic. The
    posebit term keeps the weight of the one it replaces.
    """
    old_terms = tuple(query.terms) if query is not None else ()
    posebit_terms = [t for t in old_terms if isinstance(t, PosebitTerm)]
    composed = bool(posebit_terms) or len(old_terms) > 1
    kept: list[Term] = [t for t in old_terms if not isinstance(t, PosebitTerm)] if composed else []
    if conditions:
        weight = posebit_terms[0].weight if posebit_terms else 1.0
        kept.append(PosebitTerm(conditions=conditions, mode=posebit_mode(mode), weight=weight))
    return Query(tuple(kept)) if kept else None


class QueryHistory:
    """Queries in the order they were made; ``back``/``forward`` move a cursor without forgetting."""

    def __init__(self) -> None:
        self._queries: list[Query] = []
        self._position = -1

    def push(self, query: Query) -> None:
        """Record ``query`` after the cursor (dropping any forward entries)."""
        del self._queries[self._position + 1 :]
        self._queries.append(query)
        self._position = len(self._queries) - 1

    def back(self) -> Query | None:
        if not self.can_go_back:
            return None
        self._position -= 1
        return self._queries[self._position]

    def forward(self) -> Query | None:
        if not self.can_go_forward:
            return None
        self._position += 1
        return self._queries[self._position]

    @property
    def can_go_back(self) -> bool:
        return self._position > 0

    @property
    def can_go_forward(self) -> bool:
        return self._position < len(self._queries) - 1
