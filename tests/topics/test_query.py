"""The query parser: structure, precedence, limits and every error with its position."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsvc.errors import QueryError
from feedsvc.topics.query import (
    MAX_DEPTH,
    MAX_QUERY_CHARS,
    MAX_TERMS,
    And,
    Node,
    Not,
    Term,
    parse_query,
)


def shape(node: Node) -> str:
    """A compact rendering of the tree: precedence made visible."""
    if isinstance(node, Term):
        return node.label
    if isinstance(node, Not):
        return f"NOT({shape(node.operand)})"
    name = "AND" if isinstance(node, And) else "OR"
    return f"{name}({', '.join(shape(child) for child in node.operands)})"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("سوريا", "سوريا"),
        ("سوريا لبنان", "AND(سوريا, لبنان)"),  # adjacency is AND
        ("سوريا AND لبنان OR العراق", "OR(AND(سوريا, لبنان), العراق)"),
        ("سوريا OR لبنان العراق", "OR(سوريا, AND(لبنان, العراق))"),
        ("NOT سوريا لبنان", "AND(NOT(سوريا), لبنان)"),  # NOT binds tightest
        ("غزه NOT (رياضه OR مباراه)", "AND(غزه, NOT(OR(رياضه, مباراه)))"),
        ('"الأمم المتحدة" سوري*', 'AND("الامم المتحده", سوري*)'),
        ("«مجلس الأمن»", '"مجلس الامن"'),
        ("title:(غزة OR رفح)", "OR(title:غزه, title:رفح)"),
        ("tag:\"كرة القدم\" section:sport", 'AND(tag:"كره القدم", section:sport)'),
        ("source:TASS", "source:tass"),
        ("covid-19", '"covid 19"'),  # a word that splits is a phrase
        ("and or", "AND(and, or)"),  # operators are upper case only
        ("سُورِيَا", "سوريا"),
    ],
)
def test_structure(query: str, expected: str) -> None:
    assert shape(parse_query(query).root) == expected


@pytest.mark.parametrize(
    ("query", "position", "reason"),
    [
        ("", 0, "empty query"),
        ("   ", 0, "empty query"),
        ("(سوريا OR لبنان", 0, "unbalanced '(': no ')' closes it"),
        ("سوريا OR لبنان)", 14, "unbalanced ')': no '(' opens it"),
        ("سوريا ()", 6, "empty parentheses"),
        ("foo:سوريا", 0, "unknown field 'foo:' (known: title:, body:, section:, tag:, source:)"),
        ("غزة author:x", 4, "unknown field 'author:' (known: title:, body:, section:, tag:, source:)"),
        ("NOT سوريا", 0, "query would match every article: it needs a term that must be present"),
        ("غزة OR NOT رفح", 7, "query would match every article: it needs a term that must be present"),
        ("*", 0, "wildcard needs letters before '*'"),
        ("سوريا OR س*", 9, "wildcard prefix is too short (needs 2+ letters, one word)"),
        ("سو*ريا", 2, "'*' is only allowed at the end of a word"),
        ('"الأمم المتحدة', 0, "unterminated phrase: missing closing '\"'"),
        ("سوريا »", 6, "closing quote '»' without an opening one"),
        ("سوريا AND", 9, "expected a term after 'AND', found the end of the query"),
        ("OR سوريا", 0, "expected a term, found 'OR'"),
        ("title:", 0, "expected a term or '(' after 'title:'"),
        ("title:(body:غزة)", 7, "field 'body:' inside the 'title:' scope"),
        ("، ؛", 0, "term has no letters or digits"),
    ],
)
def test_errors(query: str, position: int, reason: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query)
    assert (caught.value.position, caught.value.reason) == (position, reason)


def test_limits() -> None:
    with pytest.raises(QueryError, match="longer than"):
        parse_query("غزة " * (MAX_QUERY_CHARS // 3))
    with pytest.raises(QueryError, match="nesting deeper"):
        parse_query("(" * (MAX_DEPTH + 1) + "غزة" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(QueryError, match="nesting deeper"):
        parse_query("غزة " + "NOT " * (MAX_DEPTH + 1) + "رفح")
    with pytest.raises(QueryError, match=f"more than {MAX_TERMS} terms"):
        parse_query(" OR ".join(f"كلمه{n}" for n in range(MAX_TERMS + 1)))
    assert len(parse_query(" OR ".join(f"كلمه{n}" for n in range(MAX_TERMS))).terms) == MAX_TERMS


PIECES = st.sampled_from(
    [*'()"«»*: ANDORTitleagsc', "AND ", "OR ", "NOT ", "title:", "tag:", "سوريا", "ال", "و", "٢", "\u200f", "ـ"]
)
QUERIES = st.lists(PIECES, max_size=40).map("".join) | st.text(max_size=80)


@settings(max_examples=400)
@given(QUERIES)
def test_parser_raises_only_query_error(query: str) -> None:
    try:
        parsed = parse_query(query)
    except QueryError as error:
        assert 0 <= error.position <= len(query)
    else:
        assert parsed.terms
