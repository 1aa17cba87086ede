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
per node. Within an ``AND``, an ``OR`` and between query and exclude, the parts
without a phrase come first, so a phrase is searched only when the cheap set
lookups leave the answer open (the operators have no side effects, so the order
never changes the answer).

The generated source holds only parameter names and the operators ``and``, ``or``,
``not``: the term ids, sections and sources are bound as the function's default
arguments. Topics of the same shape therefore share one compiled code object, and
10,000 topics make a few hundred code objects instead of 10,000, which keeps
evaluating a candidate from touching memory no other topic uses.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import CodeType, FunctionType

from feedsvc.topics.prepared import BODY, FIELD_MASKS, TAG, TITLE, PreparedArticle
from feedsvc.topics.query import KEYWORD_FIELDS, And, Field, Node, Not, Term

__all__ = ["Accept", "AcceptSpec", "TermKey", "TermTable", "Truth", "accept_from_spec", "accept_spec",
           "compile_accept", "compile_expression", "has_phrase"]

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
    words, prefixes and keywords; phrases are checked on demand and remembered.

    ``spelled`` maps each phrase word (a word term id) to tokens known to carry it,
    a superset of those in this article; the index keeps it, so finding a phrase's
    tokens in a field is one small set intersection per word. It is only a hint: a
    word present in the field with no token found there is looked up in the article.
    """

    prepared: PreparedArticle
    table: TermTable
    present: set[int]
    spelled: Mapping[int, Collection[str]]
    phrases: dict[int, bool] = field(default_factory=dict)

    def phrase(self, term_id: int) -> bool:
        known = self.phrases.get(term_id)
        if known is None:
            known = False
            present, spelled, prepared = self.present, self.spelled, self.prepared
            for field_bit, word_ids in self.table.phrase_fields[term_id]:
                # Most candidate phrases lack a word in the field: no text is searched.
                if not present.issuperset(word_ids):
                    continue
                tokens = prepared.field_tokens(field_bit)
                carriers = [tokens.intersection(spelled.get(i, ())) for i in word_ids]
                if not all(carriers):  # each word is present: find its tokens without the hint
                    carriers = [frozenset(prepared.carriers(field_bit, word)) for word in self.table.terms[term_id].words]
                if prepared.sequence_in_field(carriers, field_bit):
                    known = True
                    break
            self.phrases[term_id] = known
        return known

    def holds(self, term_id: int) -> bool:
        if self.table.is_phrase(term_id):
            return self.phrase(term_id)
        return term_id in self.present


def has_phrase(node: Node) -> bool:
    """Whether evaluating ``node`` may search text for a phrase."""
    if isinstance(node, Term):
        return len(node.words) > 1 and node.field not in KEYWORD_FIELDS
    if isinstance(node, Not):
        return has_phrase(node.operand)
    return any(has_phrase(child) for child in node.operands)


def compile_expression(node: Node, table: TermTable, ids: list[int]) -> str:
    """Python source equivalent to ``node`` over ``present`` and ``phrase``; the
    term ids are appended to ``ids`` and named ``_0``, ``_1``… in the source.

    Depth is bounded by the parser (16 levels), far below the compiler's limit.
    """
    if isinstance(node, Term):
        name = f"_{len(ids)}"
        ids.append(table.add(node))
        if node.field not in KEYWORD_FIELDS and len(node.words) > 1:
            return f"phrase({name})"
        return f"{name} in present"
    if isinstance(node, Not):
        return f"not ({compile_expression(node.operand, table, ids)})"
    joiner = " and " if isinstance(node, And) else " or "
    children = sorted(node.operands, key=has_phrase)  # stable: phrase-free parts first
    return joiner.join(f"({compile_expression(child, table, ids)})" for child in children)


def compile_accept(
    query: Node,
    exclude: Node | None,
    sections: frozenset[str],
    sources: frozenset[str],
    table: TermTable,
) -> Accept:
    """One function: the section and source filters, then the query and the exclude,
    whichever has no phrase first."""
    tests = []
    if sections:
        tests.append("section in sections")
    if sources:
        tests.append("source in sources")
    ids: list[int] = []
    parts = [(query, False)] + ([(exclude, True)] if exclude is not None else [])
    for node, negated in sorted(parts, key=lambda part: has_phrase(part[0])):
        text = compile_expression(node, table, ids)
        tests.append(f"not ({text})" if negated else f"({text})")
    names = "".join(f", _{number}" for number in range(len(ids)))
    source_text = f"lambda present, phrase, section, source, sections, sources{names}: " + " and ".join(tests)
    return accept_from_spec((source_text, (sections, sources, *ids)))


# Generated functions see no builtins: their source uses none.
_GLOBALS: dict[str, object] = {"__builtins__": {}}


@lru_cache(maxsize=1 << 12)
def _template(source_text: str) -> CodeType:
    """The code object of one topic shape, compiled once and shared."""
    module = compile(source_text, "<topic>", "eval")
    code = next(const for const in module.co_consts if isinstance(const, CodeType))
    _SOURCES[code] = source_text
    return code


# Each shape's source, by its code object: what a snapshot of the index keeps of a
# topic's function (the source and the default arguments), to make it again.
_SOURCES: dict[CodeType, str] = {}

AcceptSpec = tuple[str, tuple[object, ...]]


def accept_spec(accept: Accept) -> AcceptSpec:
    """What makes ``accept`` again: its shape's source and its bound arguments."""
    function: FunctionType = accept  # type: ignore[assignment]
    return _SOURCES[function.__code__], function.__defaults__ or ()


def accept_from_spec(spec: AcceptSpec) -> Accept:
    source_text, defaults = spec
    accept: Accept = FunctionType(_template(source_text), _GLOBALS, "accept", defaults)
    return accept
