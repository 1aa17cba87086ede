"""The topic query language: an immutable AST and its recursive-descent parser.

Grammar (precedence NOT > AND > OR; adjacency is AND)::

    query   := or
    or      := and ("OR" and)*
    and     := not (["AND"] not)*
    not     := "NOT" not | atom
    atom    := "(" or ")" | field term | field "(" or ")" | term
    field   := ("title" | "body" | "section" | "tag" | "source") ":"
    term    := word | word "*" | phrase

Work is bounded: at most ``MAX_QUERY_CHARS`` characters, ``MAX_DEPTH`` levels of
parentheses and NOT, ``MAX_TERMS`` terms and ``MAX_PHRASE_WORDS`` words a phrase.
Every fault raises ``QueryError(reason, position)`` with a 0-based position.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal

from feedsvc.errors import QueryError
from feedsvc.normalize.arabic import normalize_text, tokenize
from feedsvc.topics.lexer import Kind, Lexeme, lex

__all__ = ["And", "Field", "Node", "Not", "Or", "Query", "Term", "parse_query"]

MAX_QUERY_CHARS = 2000
MAX_DEPTH = 16
MAX_TERMS = 64
MAX_PHRASE_WORDS = 12
MIN_PREFIX_CHARS = 2

Field = Literal["any", "title", "body", "section", "tag", "source"]
FIELDS: tuple[Field, ...] = ("title", "body", "section", "tag", "source")
KEYWORD_FIELDS = frozenset(("section", "source"))


@dataclass(frozen=True, slots=True)
class Term:
    """A word, a prefix (``سوري*``) or a phrase, scoped to a field.

    ``words`` are normalized tokens; for ``section:`` and ``source:`` it holds one
    normalized value compared whole.
    """

    field: Field
    words: tuple[str, ...]
    prefix: bool
    position: int

    @property
    def key(self) -> tuple[Field, tuple[str, ...], bool]:
        return (self.field, self.words, self.prefix)

    @property
    def label(self) -> str:
        text = " ".join(self.words)
        text = f'"{text}"' if len(self.words) > 1 else text + ("*" if self.prefix else "")
        return text if self.field == "any" else f"{self.field}:{text}"


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node
    position: int


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]
    position: int


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]
    position: int


Node = Term | Not | And | Or


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    root: Node
    terms: tuple[Term, ...]  # in the order written


# A topics file parses each query twice (checked by the loader, then held by its Topic)
# and a reload parses every unchanged query again: the trees are immutable, so the same
# text gives the very same tree. Sized for the largest topics file (2 queries a topic).
@functools.lru_cache(maxsize=1 << 16)
def parse_query(text: str) -> Query:
    """Parse ``text``; raises QueryError for any malformed or match-everything query."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query longer than {MAX_QUERY_CHARS} characters", MAX_QUERY_CHARS)
    lexemes = lex(text)
    if not lexemes:
        raise QueryError("empty query", 0)
    parser = _Parser(lexemes, len(text))
    root = parser.parse()
    if not requires_term(root):
        raise QueryError(
            "query would match every article: it needs a term that must be present",
            max(_first_not(root), 0),
        )
    return Query(text, root, tuple(parser.terms))


def requires_term(node: Node, negated: bool = False) -> bool:
    """Whether ``node`` can only be true when at least one of its terms is present."""
    if isinstance(node, Term):
        return not negated
    if isinstance(node, Not):
        return requires_term(node.operand, not negated)
    conjunctive = isinstance(node, And) != negated
    results = [requires_term(child, negated) for child in node.operands]
    return any(results) if conjunctive else all(results)


def _first_not(node: Node) -> int:
    """Where to point a match-everything error: the first NOT, else the start."""
    if isinstance(node, Not):
        return node.position
    if isinstance(node, Term):
        return -1
    found = [p for p in (_first_not(child) for child in node.operands) if p >= 0]
    return min(found, default=-1)


class _Parser:
    def __init__(self, lexemes: list[Lexeme], end: int) -> None:
        self.lexemes = lexemes
        self.index = 0
        self.end = end
        self.terms: list[Term] = []

    def peek(self) -> Lexeme | None:
        return self.lexemes[self.index] if self.index < len(self.lexemes) else None

    def take(self) -> Lexeme:
        lexeme = self.lexemes[self.index]
        self.index += 1
        return lexeme

    def parse(self) -> Node:
        node = self.parse_or(0, "any")
        extra = self.peek()
        if extra is not None:
            raise QueryError("unbalanced ')': no '(' opens it", extra.position)
        return node

    def parse_or(self, depth: int, field: Field) -> Node:
        start = self.lexemes[self.index].position if self.peek() else self.end
        operands = [self.parse_and(depth, field)]
        while (lexeme := self.peek()) is not None and lexeme.kind is Kind.OR:
            self.take()
            operands.append(self.parse_and(depth, field))
        return operands[0] if len(operands) == 1 else Or(tuple(operands), start)

    def parse_and(self, depth: int, field: Field) -> Node:
        start = self.lexemes[self.index].position if self.peek() else self.end
        operands = [self.parse_not(depth, field)]
        while (lexeme := self.peek()) is not None and lexeme.kind not in (Kind.OR, Kind.RPAREN):
            if lexeme.kind is Kind.AND:
                self.take()
            operands.append(self.parse_not(depth, field))
        return operands[0] if len(operands) == 1 else And(tuple(operands), start)

    def parse_not(self, depth: int, field: Field) -> Node:
        lexeme = self.peek()
        if lexeme is not None and lexeme.kind is Kind.NOT:
            self.take()
            _check_depth(depth + 1, lexeme)
            return Not(self.parse_not(depth + 1, field), lexeme.position)
        return self.parse_atom(depth, field)

    def parse_atom(self, depth: int, field: Field) -> Node:
        lexeme = self.peek()
        if lexeme is None:
            previous = self.lexemes[self.index - 1] if self.index else None
            after = f" after {previous.text!r}" if previous else ""
            raise QueryError(f"expected a term{after}, found the end of the query", self.end)
        if lexeme.kind is Kind.LPAREN:
            return self.parse_group(depth, field)
        if lexeme.kind is Kind.FIELD:
            return self.parse_scoped(depth, field)
        if lexeme.kind in (Kind.WORD, Kind.PHRASE):
            return self.add_term(self.take(), field)
        raise QueryError(f"expected a term, found {lexeme.text!r}", lexeme.position)

    def parse_group(self, depth: int, field: Field) -> Node:
        opening = self.take()
        _check_depth(depth + 1, opening)
        following = self.peek()
        if following is not None and following.kind is Kind.RPAREN:
            raise QueryError("empty parentheses", opening.position)
        node = self.parse_or(depth + 1, field)
        closing = self.peek()
        if closing is None or closing.kind is not Kind.RPAREN:
            raise QueryError("unbalanced '(': no ')' closes it", opening.position)
        self.take()
        return node

    def parse_scoped(self, depth: int, field: Field) -> Node:
        scope = self.take()
        name = scope.text.lower()
        if name not in FIELDS:
            known = ", ".join(f"{known}:" for known in FIELDS)
            raise QueryError(f"unknown field '{scope.text}:' (known: {known})", scope.position)
        if field != "any":
            raise QueryError(f"field '{name}:' inside the '{field}:' scope", scope.position)
        target = self.peek()
        if target is None or target.kind not in (Kind.WORD, Kind.PHRASE, Kind.LPAREN):
            raise QueryError(f"expected a term or '(' after '{name}:'", scope.position)
        scoped: Field = FIELDS[FIELDS.index(name)]
        if target.kind is Kind.LPAREN:
            return self.parse_group(depth, scoped)
        return self.add_term(self.take(), scoped)

    def add_term(self, lexeme: Lexeme, field: Field) -> Term:
        if len(self.terms) >= MAX_TERMS:
            raise QueryError(f"more than {MAX_TERMS} terms", lexeme.position)
        term = _make_term(lexeme, field)
        self.terms.append(term)
        return term


def _check_depth(depth: int, lexeme: Lexeme) -> None:
    if depth > MAX_DEPTH:
        raise QueryError(f"nesting deeper than {MAX_DEPTH} levels", lexeme.position)


def _make_term(lexeme: Lexeme, field: Field) -> Term:
    raw, position = lexeme.text, lexeme.position
    prefix = lexeme.kind is Kind.WORD and raw.endswith("*")
    body = raw[:-1] if prefix else raw
    if lexeme.kind is Kind.WORD and "*" in body:
        raise QueryError("'*' is only allowed at the end of a word", position + body.index("*"))
    if field in KEYWORD_FIELDS:
        words: tuple[str, ...] = (normalize_text(body),) if normalize_text(body) else ()
    else:
        words = tuple(tokenize(body))
    if not words:
        reason = "wildcard needs letters before '*'" if prefix else "term has no letters or digits"
        raise QueryError(reason, position)
    if prefix and (len(words) > 1 or len(words[0]) < MIN_PREFIX_CHARS):
        reason = "splits into several words" if len(words) > 1 else "is too short"
        raise QueryError(f"wildcard prefix {reason} (needs {MIN_PREFIX_CHARS}+ letters, one word)", position)
    if len(words) > MAX_PHRASE_WORDS:
        raise QueryError(f"phrase longer than {MAX_PHRASE_WORDS} words", position)
    return Term(field, words, prefix, position)
