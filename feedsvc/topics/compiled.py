"""Query trees compiled for the index: shared term ids and one function per topic.

Every distinct term (field, words, prefix) of every topic gets one integer id, so a
word named by a thousand topics is looked up once per article. Each word of a
phrase is also registered as a word term of each field the phrase searches, so a
phrase is only searched in a field that holds all its words.

A topic's filters, query and exclude become one Python function, generated from
the parsed tree, of ``(present, phrase, section, source)``: ``present`` is the set
of term ids found in the article, ``phrase(term_id)`` checks a phrase on demand.
One call per candidate topic, with the boolean operators inlined, is what keeps
evaluating hundreds of topics per article cheap; a tree of closures costs a call
per node. The generated source holds only integer ids and the operators ``and``,
``or``, ``not``; section and source sets are passed in as bound names, never as text.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from feedsvc.topics.prepared import BODY, FIELD_MASKS, TAG, TITLE, PreparedArticle
from feedsvc.topics.query import KEYWORD_FIELDS, And, Field, Node, Not, Term

__all__ = ["Accept", "TermTable", "Truth", "compile_accept", "compile_expression"]

TermKey = tuple[str, tuple[str, ...], bool]
# (present term ids, phrase check, normalized section, normalized source) → accepted
Accept = Callable[[set[int], Callable[[int], bool], str, str], bool]


_FIELD_NAMES: dict[int, Field] = {TITLE: "title", BODY: "body", TAG: "tag"}


@dataclass(slots=True)
class TermTable:
    """The distinct terms of all topics, by id, and for each phrase, per field it
    searches, the ids of its words as word terms of that field."""

    terms: list[Term] = field(default_factory=list)
    ids: dict[TermKey, int] = field(default_factory=dict)
    phrase_fields: dict[int, tuple[tuple[int, tuple[int, ...]], ...]] = field(default_factory=dict)

    def add(self, term: Term) -> int:
        known = self.ids.get(term.key)
        if known is None:
            known = self.ids[term.key] = len(self.terms)
            self.terms.append(term)
            if len(term.words) > 1 and term.field not in KEYWORD_FIELDS:
                self.phrase_fields[known] = tuple(
                    (bit, tuple(self.add(Term(name, (word,), False, term.position)) for word in term.words))
                    for bit, name in _FIELD_NAMES.items()
                    if FIELD_MASKS[term.field] & bit
                )
        return known

    def is_phrase(self, term_id: int) -> bool:
        return term_id in self.phrase_fields


@dataclass(slots=True)
class Truth:
    """Which terms hold in one article: ``present`` is filled by the index's scan for
    words, prefixes and keywords; phrases are checked on demand and remembered."""

    prepared: PreparedArticle
    table: TermTable
    present: set[int]
    phrases: dict[int, bool] = field(default_factory=dict)

    def phrase(self, term_id: int) -> bool:
        known = self.phrases.get(term_id)
        if known is None:
            known = False
            present, words = self.present, self.table.terms[term_id].words
            for field_bit, word_ids in self.table.phrase_fields[term_id]:
                # Most candidate phrases lack a word in the field: no text is searched.
                if present.issuperset(word_ids) and self.prepared.phrase_in_field(words, field_bit):
                    known = True
                    break
            self.phrases[term_id] = known
        return known

    def holds(self, term_id: int) -> bool:
        if self.table.is_phrase(term_id):
            return self.phrase(term_id)
        return term_id in self.present


def compile_expression(node: Node, table: TermTable) -> str:
    """Python source equivalent to ``node`` over ``present`` and ``phrase``.

    Depth is bounded by the parser (16 levels), far below the compiler's limit.
    """
    if isinstance(node, Term):
        term_id = table.add(node)
        if node.field not in KEYWORD_FIELDS and len(node.words) > 1:
            return f"phrase({term_id})"
        return f"{term_id} in present"
    if isinstance(node, Not):
        return f"not ({compile_expression(node.operand, table)})"
    joiner = " and " if isinstance(node, And) else " or "
    return joiner.join(f"({compile_expression(child, table)})" for child in node.operands)


def compile_accept(
    query: Node,
    exclude: Node | None,
    sections: frozenset[str],
    sources: frozenset[str],
    table: TermTable,
) -> Accept:
    """One function: the section and source filters, the query, then the exclude."""
    tests = []
    if sections:
        tests.append("section in sections")
    if sources:
        tests.append("source in sources")
    tests.append(f"({compile_expression(query, table)})")
    if exclude is not None:
        tests.append(f"not ({compile_expression(exclude, table)})")
    source_text = "lambda present, phrase, section, source: " + " and ".join(tests)
    namespace = {"__builtins__": {}, "sections": sections, "sources": sources}
    accept: Accept = eval(compile(source_text, "<topic>", "eval"), namespace)
    return accept
