"""What the presence of each term sets off: the trigger tables of the index.

Each topic registers a few *trigger* terms: a set of terms at least one of which must
be present whenever its query is true (for ``a OR b`` both, for ``a AND b`` only the
rarer-looking side, never a negated term). Queries that could be true with none of
their terms present are rejected by the parser, which is what makes "evaluate only
triggered topics" exact.

A trigger term leads to its topic in one of three ways:

- *sure*: the term alone decides the topic, up to its *blockers*. The topic is
  ``D AND NOT B1 AND NOT B2…`` (the ``NOT`` parts and the exclude optional), where
  the term is a word, prefix or keyword reached from ``D`` through ``OR`` only, and
  each ``B`` is an ``OR`` of words, prefixes and keywords; the topic has no section
  or source filter. It then matches exactly when none of the blockers' terms is
  present: a set check instead of a call. Such a topic is listed as ``~number`` (a
  negative integer) among the topics a term sets off, so one pass serves both kinds.
- *evaluate*: the topic's function is called.
- *gate*, for a phrase: per field the phrase searches, the topic is evaluated only
  when every word of the phrase is present in that field. The gate hangs on the
  phrase's longest word there, so it is looked at only when that word is present,
  and holds the other words.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import NamedTuple

from feedsvc.topics.compiled import TermKey, TermTable, has_phrase
from feedsvc.topics.query import KEYWORD_FIELDS, And, Node, Not, Or, Term

__all__ = ["NO_HITS", "Gate", "Hits", "TopicShape", "Triggers", "build_triggers"]

# (ids of a phrase's other words as word terms of one field, topics to evaluate when
# they are all present)
Gate = tuple[tuple[int, ...], tuple[int, ...]]


class TopicShape(NamedTuple):
    """What the trigger tables need of one topic."""

    query: Node
    exclude: Node | None
    filtered: bool  # a section or source filter


class Hits(NamedTuple):
    """What one token in one field (or one section or source value) sets off.

    Tuples rather than sets: a few of these are touched per token of an article,
    and small tuples keep that memory compact.
    """

    terms: tuple[int, ...]  # the terms it satisfies
    topics: tuple[int, ...]  # topics to evaluate, and ~number for each sure topic
    gates: tuple[Gate, ...]  # phrase gates anchored on those terms


NO_HITS = Hits((), (), ())


@dataclass(frozen=True, slots=True)
class Triggers:
    """Per term id, the topics it sets off (``~number`` when sure) and the phrase
    gates anchored on it (empty for most terms).

    ``blockers`` is indexed by ``~number``: a negative index reads a list from its
    end, so it holds the topics' blocker term ids in reverse order, and topic
    ``number``'s are at ``blockers[~number]`` without computing ``number``.
    """

    topics: list[tuple[int, ...]]
    gates: list[tuple[Gate, ...]]
    blockers: list[frozenset[int]]

    def hits(self, term_ids: Iterable[int]) -> Hits:
        """The merged ``Hits`` of a token or value satisfying ``term_ids``."""
        terms = _unique(term_ids)
        if not terms:
            return NO_HITS
        return Hits(
            terms,
            _unique(chain.from_iterable(self.topics[term_id] for term_id in terms)),
            tuple(chain.from_iterable(self.gates[term_id] for term_id in terms)),
        )


def build_triggers(topics: Sequence[TopicShape], table: TermTable) -> Triggers:
    """The trigger tables of ``topics`` (numbered in order) over ``table``'s terms."""
    count = len(table.terms)
    set_off: list[list[int]] = [[] for _ in range(count)]
    gates: list[dict[tuple[int, ...], list[int]]] = [{} for _ in range(count)]
    blockers: list[frozenset[int]] = []
    for number, shape in enumerate(topics):
        sure = ~number  # one int object per topic, however many terms list it
        deciding, blocking = _sure_form(shape)
        blockers.append(frozenset(table.ids[key] for key in blocking))
        for term in _trigger_terms(shape.query):
            term_id = table.ids[term.key]
            if not table.is_phrase(term_id):
                set_off[term_id].append(sure if term.key in deciding else number)
                continue
            longest = max(range(len(term.words)), key=lambda i: len(term.words[i]))
            for _, word_ids in table.phrase_fields[term_id]:
                anchor = word_ids[longest]
                others = _unique(word_id for word_id in word_ids if word_id != anchor)
                gates[anchor].setdefault(others, []).append(number)
    return Triggers(
        topics=[_unique(numbers) for numbers in set_off],
        gates=[tuple((others, _unique(of)) for others, of in anchored.items()) for anchored in gates],
        blockers=blockers[::-1],
    )


def _unique(numbers: Iterable[int]) -> tuple[int, ...]:
    return tuple(dict.fromkeys(numbers))


def _sure_form(shape: TopicShape) -> tuple[set[TermKey], set[TermKey]]:
    """(deciding term keys, blocker term keys) of a topic of the form described in
    the module doc; no deciding terms when the topic has another form."""
    parts = shape.query.operands if isinstance(shape.query, And) else (shape.query,)
    positive = [part for part in parts if not isinstance(part, Not)]
    negated = [part.operand for part in parts if isinstance(part, Not)]
    negated += [shape.exclude] if shape.exclude is not None else []
    blocking = [_any_of(node) for node in negated]
    if shape.filtered or len(positive) != 1 or any(keys is None for keys in blocking):
        return set(), set()
    return _deciding_terms(positive[0]), set().union(*(keys for keys in blocking if keys is not None))


def _deciding_terms(node: Node) -> set[TermKey]:
    """Keys of the terms whose presence alone makes ``node`` true: words, prefixes
    and keywords reached through ``OR`` only (a phrase needs its text searched)."""
    if isinstance(node, Term):
        return set() if has_phrase(node) else {node.key}
    if isinstance(node, Or):
        return set().union(*(_deciding_terms(child) for child in node.operands))
    return set()


def _any_of(node: Node) -> set[TermKey] | None:
    """The term keys of ``node`` when it is true exactly when one of them is present
    (an ``OR`` of words, prefixes and keywords), else None."""
    if isinstance(node, Term):
        return None if has_phrase(node) else {node.key}
    if isinstance(node, Or):
        keys = [_any_of(child) for child in node.operands]
        return None if any(k is None for k in keys) else set().union(*(k for k in keys if k is not None))
    return None


def _trigger_terms(node: Node, negated: bool = False) -> list[Term]:
    """Terms one of which is present whenever ``node`` is true (see module doc).

    Mirrors ``query.requires_term`` on the negation normal form of ``node``; the
    parser guarantees the root has such a set.
    """
    if isinstance(node, Term):
        return [] if negated else [node]
    if isinstance(node, Not):
        return _trigger_terms(node.operand, not negated)
    options = [_trigger_terms(child, negated) for child in node.operands]
    if isinstance(node, And) != negated:  # a conjunction: one usable side suffices
        usable = [option for option in options if option]
        return min(usable, key=_cost, default=[])
    if isinstance(node, Or) != negated and all(options):
        return [term for option in options for term in option]
    return []


def _cost(terms: list[Term]) -> int:
    """Rough selectivity: long words and phrases are rare, sections and prefixes common."""
    return sum(_term_cost(term) for term in terms)


def _term_cost(term: Term) -> int:
    if term.field in KEYWORD_FIELDS:
        return 50
    longest = max(len(word) for word in term.words)
    cost = 10 - min(longest, 8) - (2 if len(term.words) > 1 else 0)
    return cost + (4 if term.prefix else 0)
