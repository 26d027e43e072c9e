"""Query expressions: parse, round-trip through to_expr, and errors with positions."""

from __future__ import annotations

import pytest

from posebrowser.core.query import ImageTerm, PosebitTerm, Query
from posebrowser.core.query_parser import parse_query
from posebrowser.errors import QueryError, UnknownPosebitError


class FakeVocabulary:
    names = ("right_wrist_above_head", "left_knee_bent", "feet_apart")
    labels = ("right wrist is above the head", "left knee is bent", "feet are far apart")

    def index(self, name_or_label: str) -> int:
        for table in (self.names, self.labels):
            if name_or_label in table:
                return table.index(name_or_label)
        raise UnknownPosebitError(f"{name_or_label} is not a posebit")

    def __len__(self) -> int:
        return 3


VOCAB = FakeVocabulary()
LABELS = dict(zip(VOCAB.names, VOCAB.labels, strict=True))


def test_parses_the_product_example() -> None:
    q = parse_query("2*[img 17] + [right wrist is above the head] - 0.5*[img 3]", VOCAB)
    assert q.terms == (
        ImageTerm(gallery_index=17, weight=2.0),
        PosebitTerm((("right_wrist_above_head", 1),), "conditional", 1.0),
        ImageTerm(gallery_index=3, weight=-0.5),
    )


@pytest.mark.parametrize(
    "expr",
    [
        "[img 0]",
        "-[file:/tmp/some photo.jpg] + 3*[img 12]",
        "[left knee is bent=1, feet_apart=0]{mask}",
        "0.25*[feet are far apart=0]{full} - 1.5*[left_knee_bent]{conditional}",
        "1e-3 [img 4]",
    ],
)
def test_round_trip(expr: str) -> None:
    q = parse_query(expr, VOCAB)
    assert parse_query(q.to_expr(), VOCAB) == q
    assert parse_query(q.to_expr(LABELS), VOCAB) == q


def test_relevance_feedback_and_asked_conditions() -> None:
    q = Query.posebits([("left_knee_bent", 1)]).plus(ImageTerm(gallery_index=5, weight=-0.5))
    assert q.to_expr() == "[left_knee_bent=1] - 0.5*[img 5]"
    assert q.asked_conditions() == (("left_knee_bent", 1),)
    clash = Query((PosebitTerm((("feet_apart", 1),)), PosebitTerm((("feet_apart", 0),))))
    with pytest.raises(QueryError):
        clash.asked_conditions()


@pytest.mark.parametrize(
    ("expr", "position", "error"),
    [
        ("", 0, QueryError),
        ("   ", 0, QueryError),
        ("[img 3] [img 4]", 8, QueryError),
        ("[img 3", 0, QueryError),
        ("[nose is blue=1]", 1, UnknownPosebitError),
        ("[img 1] + [feet_apart, elbow]", 23, UnknownPosebitError),
        ("[feet_apart=2]", 12, QueryError),
        ("[feet_apart]{fancy}", 13, QueryError),
        ("[img 2]{mask}", 7, QueryError),
        ("2*", 2, QueryError),
        ("[]", 1, QueryError),
        ("[feet_apart, feet_apart=0]", 1, QueryError),
    ],
)
def test_errors_carry_positions(expr: str, position: int, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        parse_query(expr, VOCAB)
    assert getattr(info.value, "position", None) == position
    assert f"column {position + 1}" in str(info.value)


def test_term_validation() -> None:
    with pytest.raises(QueryError):
        ImageTerm()
    with pytest.raises(QueryError):
        PosebitTerm(())
    with pytest.raises(QueryError):
        Query(())


@pytest.mark.parametrize(
    "path",
    [
        "/photos/a]b.jpg",
        "/photos/[draft] me.png",
        'C:\\shots\\say "cheese".jpg',
        " leading space.png",
        "/x/y\\]z.png",
    ],
)
def test_file_terms_with_brackets_quotes_and_backslashes_round_trip(path: str) -> None:
    """Before: a ']' in a file path ended the term early and the expression failed to parse."""
    query = Query((ImageTerm(path=path, weight=-2.0), ImageTerm(gallery_index=3)))
    text = query.to_expr()
    parsed = parse_query(text, VOCAB)
    assert parsed == query and parsed.terms[0].path == path


def test_quoted_file_term_needs_a_path_and_its_closing_bracket() -> None:
    with pytest.raises(QueryError):
        parse_query('[file:""]', VOCAB)
    with pytest.raises(QueryError):
        parse_query('[file:"/a.png"', VOCAB)
