"""Query trees compiled for the index: shared term ids and closures over them.

Every distinct term (field, words, prefix) of every topic gets one integer id, so a
word named by a thousand topics is looked up once per article. A query tree becomes
a tree of small closures over a ``Truth`` (the term ids known present, plus a lazy
check for phrases), which is what makes evaluating hundreds of candidate topics per
article cheap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from feedsvc.topics.prepared import FIELD_MASKS, PreparedArticle
from feedsvc.topics.query import And, Node, Not, Term

__all__ = ["Predicate", "TermTable", "Truth", "compile_node"]

TermKey = tuple[str, tuple[str, ...], bool]


@dataclass(slots=True)
class TermTable:
    """The distinct terms of all topics, by id."""

    terms: list[Term] = field(default_factory=list)
    ids: dict[TermKey, int] = field(default_factory=dict)

    def add(self, term: Term) -> int:
        known = self.ids.get(term.key)
        if known is None:
            known = self.ids[term.key] = len(self.terms)
            self.terms.append(term)
        return known


@dataclass(slots=True)
class Truth:
    """Which terms hold in one article: ``present`` is filled by the index's scan for
    words, prefixes and keywords; phrases are checked on demand and remembered."""

    prepared: PreparedArticle
    terms: list[Term]
    present: set[int]
    seen_prefixes: dict[str, int]
    phrases: dict[int, bool] = field(default_factory=dict)

    def phrase(self, term_id: int) -> bool:
        known = self.phrases.get(term_id)
        if known is None:
            term = self.terms[term_id]
            known = self.phrases[term_id] = self.prepared.term_matches(term, self.seen_prefixes)
        return known

    def holds(self, term_id: int) -> bool:
        if len(self.terms[term_id].words) > 1:
            return self.phrase(term_id)
        return term_id in self.present


Predicate = Callable[[Truth], bool]


def compile_node(node: Node, table: TermTable) -> Predicate:
    """A closure equivalent to evaluating ``node``; depth is bounded by the parser."""
    if isinstance(node, Term):
        return _compile_term(node, table)
    if isinstance(node, Not):
        operand = compile_node(node.operand, table)
        return lambda truth: not operand(truth)
    parts = tuple(compile_node(child, table) for child in node.operands)
    if isinstance(node, And):
        if len(parts) == 2:
            left, right = parts
            return lambda truth: left(truth) and right(truth)
        return lambda truth: all(part(truth) for part in parts)
    if len(parts) == 2:
        first, second = parts
        return lambda truth: first(truth) or second(truth)
    return lambda truth: any(part(truth) for part in parts)


def _compile_term(term: Term, table: TermTable) -> Predicate:
    term_id = table.add(term)
    if len(term.words) == 1:
        return lambda truth: term_id in truth.present
    words, field_mask = term.words, FIELD_MASKS[term.field]

    def phrase(truth: Truth) -> bool:
        # Most candidate phrases lack a word: rule them out before the position check.
        masks, shared = truth.prepared.form_masks, field_mask
        for word in words:
            shared &= masks.get(word, 0)
            if not shared:
                return False
        return truth.phrase(term_id)

    return phrase
