"""All topics compiled into one inverted index, matched against one article at a time.

Matching an article looks each of its distinct tokens up once per field: the
token's clitic forms against the word table by exact form and the prefix table at
every prefix length it holds, remembered per token and field as the ids of the
terms it satisfies there, and section/source by value. The terms present then
set off their topics through the trigger tables (``triggers``): some topics are
certain from one term, the others are evaluated, phrase topics only once all the
phrase's words are present in a field. So the cost follows the article's length
and the topics it hits, not the number of topics.
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from itertools import chain
from operator import itemgetter
from typing import Any

from feedsvc.errors import TopicConfigError
from feedsvc.models import Article
from feedsvc.normalize.arabic import normalize_text, word_forms
from feedsvc.topics.bulk import collector_paused
from feedsvc.topics.compiled import (
    Accept,
    AcceptSpec,
    TermTable,
    Truth,
    accept_from_spec,
    accept_spec,
    compile_accept,
)
from feedsvc.topics.model import Topic
from feedsvc.topics.prepared import BODY, FIELD_MASKS, TAG, TITLE, PreparedArticle, prepare
from feedsvc.topics.query import KEYWORD_FIELDS, Term
from feedsvc.topics.triggers import Hits, TopicShape, Triggers, build_triggers

__all__ = ["IndexState", "TopicIndex", "compile_topics"]

# Distinct tokens whose term hits an index remembers; news vocabulary stays well below.
_TOKEN_MEMO_SIZE = 1 << 18
_FIELD_BITS = (TITLE, BODY, TAG)
_TERMS, _TOPICS, _GATES = (itemgetter(i) for i in range(3))


@dataclass(frozen=True, slots=True)
class _Entry:
    topic: Topic
    sections: frozenset[str]
    sources: frozenset[str]


def compile_topics(topics: Iterable[Topic]) -> TopicIndex:
    """Build the index; raises TopicConfigError when two topics share a slug."""
    with collector_paused():
        entries = tuple(_entry(topic) for topic in topics)
        counts = Counter(entry.topic.slug for entry in entries)
        duplicates = sorted(slug for slug, count in counts.items() if count > 1)
        if duplicates:
            raise TopicConfigError([f"duplicate topic slug {slug!r}" for slug in duplicates])
        return TopicIndex(entries)


def _entry(topic: Topic) -> _Entry:
    return _Entry(
        topic,
        frozenset(normalize_text(section) for section in topic.sections),
        frozenset(normalize_text(source) for source in topic.sources),
    )


class _FieldHits(dict[str, Hits]):
    """One field's memo: token → what it sets off in that field.

    A missing token is learned for every field at once, so a lookup of a known
    token, the usual case, never leaves C. The index is held weakly: it holds its
    memos, and an index with no cycle is freed by reference counting alone, also
    after the heap was frozen at start-up (``feedsvc.topics.bulk``).
    """

    __slots__ = ("_field_bit", "_learn")

    def __init__(self, field_bit: int, learn: Callable[[str], dict[int, Hits]]) -> None:
        super().__init__()
        self._field_bit = field_bit
        self._learn = weakref.WeakMethod(learn)

    def __missing__(self, token: str) -> Hits:
        learn = self._learn()
        assert learn is not None, "a memo outlived its index"
        return learn(token)[self._field_bit]


class TopicIndex:
    """The compiled topics; ``match`` answers which topic slugs an article belongs to.

    The index memoizes, per distinct token, which of its terms the token's clitic
    forms satisfy in each field (most tokens satisfy none, and are kept in one set
    of quiet tokens). The memo is bounded and only ever holds answers, so an index
    can be shared and reused freely.
    """

    def __init__(self, entries: Sequence[_Entry], compiled: _Compiled | None = None) -> None:
        self._entries = tuple(entries)
        self._slugs = tuple(entry.topic.slug for entry in self._entries)
        # Indexed by number or by ~number (a negative index reads from the end).
        self._slug_of = self._slugs + self._slugs[::-1]
        self._by_slug = {slug: i for i, slug in enumerate(self._slugs)}
        if compiled is None:
            self._table = TermTable()
            self._accepts = [_compile_entry(entry, self._table) for entry in self._entries]
        else:  # from a snapshot: the same tables, without parsing or compiling a query
            self._table, self._accepts = compiled.table, compiled.accepts
        self._words: dict[str, list[tuple[int, int]]] = {}
        self._prefixes: dict[str, list[tuple[int, int]]] = {}
        self._keywords: dict[tuple[str, str, bool], list[int]] = {}
        for term in self._table.terms:
            # The table's own int objects: the ids in the generated functions, the
            # memos and the trigger tables are then the same few objects in memory.
            self._register(self._table.ids[term.key], term)
        self._prefix_lengths = sorted({len(prefix) for prefix in self._prefixes})
        self._triggers = compiled.triggers if compiled is not None else build_triggers(
            [_shape(entry) for entry in self._entries], self._table)
        self._field_hits = {bit: _FieldHits(bit, self._learn) for bit in _FIELD_BITS}
        self._quiet_tokens: set[str] = set()
        # Phrase word → the learned tokens carrying it; cleared with the memos.
        self._phrase_words = frozenset(
            word_id for fields in self._table.phrase_fields.values() for _, word_ids in fields for word_id in word_ids
        )
        self._spelled: dict[int, set[str]] = {}
        self._keyword_memo: dict[tuple[str, str], Hits] = {}

    # -- snapshots: the compiled tables as plain values ------------------------------

    def state(self) -> IndexState:
        """Everything compiling the topics produced, as tuples, lists, dicts, sets,
        strings and numbers only (``topics.snapshot`` stores it)."""
        table = self._table
        return (
            tuple(_topic_fields(entry.topic) for entry in self._entries),
            tuple((t.field, t.words, t.prefix, t.position) for t in table.terms),
            table.phrase_fields,
            tuple(accept_spec(accept) for accept in self._accepts),
            (self._triggers.topics, self._triggers.gates, self._triggers.blockers),
        )

    @classmethod
    def from_state(cls, state: IndexState) -> TopicIndex:
        """The index ``state`` describes, as ``compile_topics`` made it: no query is
        parsed and no topic compiled again."""
        topics, terms, phrase_fields, accepts, (set_off, gates, blockers) = state
        table = TermTable(phrase_fields=dict(phrase_fields))
        for number, (field, words, prefix, position) in enumerate(terms):
            term = Term(field, tuple(words), prefix, position)
            table.terms.append(term)
            table.ids[term.key] = number
        compiled = _Compiled(table, [accept_from_spec(spec) for spec in accepts],
                             Triggers(list(set_off), list(gates), list(blockers)))
        return cls([_entry(_topic(fields)) for fields in topics], compiled)

    def _register(self, term_id: int, term: Term) -> None:
        if term.field in KEYWORD_FIELDS:
            self._keywords.setdefault((term.field, term.words[0], term.prefix), []).append(term_id)
        elif len(term.words) == 1:
            target = self._prefixes if term.prefix else self._words
            target.setdefault(term.words[0], []).append((term_id, FIELD_MASKS[term.field]))

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def slugs(self) -> tuple[str, ...]:
        return self._slugs

    def topic(self, slug: str) -> Topic:
        """The topic named ``slug``; raises KeyError for an unknown slug."""
        return self._entries[self._by_slug[slug]].topic

    def prepare(self, article: Article) -> PreparedArticle:
        """Normalize ``article`` once, to match it against several indexes or slugs."""
        return prepare(article)

    def match(self, article: Article | PreparedArticle) -> frozenset[str]:
        """The slugs of the topics ``article`` belongs to (query, exclude, filters)."""
        prepared = article if isinstance(article, PreparedArticle) else prepare(article)
        hits = self._hits(prepared)
        present = set(chain.from_iterable(map(_TERMS, hits)))
        if not present:
            return frozenset()
        topics = set(chain.from_iterable(map(_TOPICS, hits)))
        for others, gated in chain.from_iterable(map(_GATES, hits)):
            if present.issuperset(others):
                topics.update(gated)
        phrase = Truth(prepared, self._table, present, self._spelled).phrase
        section, source, accepts = prepared.section, prepared.source, self._accepts
        # ~number: sure unless blocked; a topic also triggered otherwise is evaluated too.
        blockers = self._triggers.blockers
        matched = [
            n for n in topics if (present.isdisjoint(blockers[n]) if n < 0 else accepts[n](present, phrase, section, source))
        ]
        return frozenset(map(self._slug_of.__getitem__, matched))

    def explain(self, slug: str, article: Article | PreparedArticle) -> tuple[str, ...]:
        """The terms of topic ``slug`` present in ``article``; exclude terms are
        prefixed ``exclude `` so an operator sees why an article was dropped."""
        topic = self.topic(slug)
        prepared = article if isinstance(article, PreparedArticle) else prepare(article)
        truth = self._truth(prepared)
        ids = self._table.ids
        found = [t.label for t in topic.parsed_query.terms if truth.holds(ids[t.key])]
        if topic.parsed_exclude is not None:
            excluded = topic.parsed_exclude.terms
            found += [f"exclude {t.label}" for t in excluded if truth.holds(ids[t.key])]
        return tuple(dict.fromkeys(found))

    def _truth(self, prepared: PreparedArticle) -> Truth:
        """Every term's truth in ``prepared``, for ``explain``."""
        return Truth(prepared, self._table, set(chain.from_iterable(map(_TERMS, self._hits(prepared)))), self._spelled)

    def _hits(self, prepared: PreparedArticle) -> list[Hits]:
        """What the article's tokens and keyword values set off: each distinct token
        looked up once per field, and only if it is not known to satisfy nothing."""
        field_hits, quiet = self._field_hits, self._quiet_tokens
        if len(quiet) + len(field_hits[TITLE]) >= _TOKEN_MEMO_SIZE:
            # Cleared here, between articles, never within one: the spellings of
            # phrase words learned for an article must last until its phrases are checked.
            quiet.clear()
            self._spelled.clear()
            for memo in field_hits.values():
                memo.clear()
        hits = [self._keyword_hits("section", prepared.section), self._keyword_hits("source", prepared.source)]
        for field_bit, tokens in prepared.distinct:
            hits += map(field_hits[field_bit].__getitem__, tokens - quiet)
        return hits

    def _learn(self, token: str) -> dict[int, Hits]:
        """Per field bit, what the word and prefix terms a form of ``token``
        satisfies there set off; remembered in the field memos, or as a quiet token.
        A token carrying a phrase word is added to that word's spellings."""
        words, prefixes, lengths = self._words, self._prefixes, self._prefix_lengths
        found: list[tuple[int, int]] = []
        for form in word_forms(token):
            found += words.get(form, ())
            for length in lengths:
                if length > len(form):
                    break
                found += prefixes.get(form[:length], ())
        per_field = {
            bit: self._triggers.hits(term_id for term_id, wanted in found if wanted & bit) for bit in _FIELD_BITS
        }
        if found:
            for bit, memo in self._field_hits.items():
                memo[token] = per_field[bit]
            for term_id in self._phrase_words.intersection(term_id for term_id, _ in found):
                self._spelled.setdefault(term_id, set()).add(token)
        else:
            self._quiet_tokens.add(token)
        return per_field

    def _keyword_hits(self, field: str, value: str) -> Hits:
        """What the section: or source: terms ``value`` satisfies, whole or by
        prefix, set off; remembered per value."""
        hits = self._keyword_memo.get((field, value))
        if hits is None:
            keywords = self._keywords
            found = list(keywords.get((field, value, False), ()))
            for length in range(1, len(value) + 1):
                found += keywords.get((field, value[:length], True), ())
            if len(self._keyword_memo) >= _TOKEN_MEMO_SIZE:
                self._keyword_memo.clear()
            hits = self._keyword_memo[(field, value)] = self._triggers.hits(found)
        return hits


@dataclass(frozen=True, slots=True)
class _Compiled:
    table: TermTable
    accepts: list[Accept]
    triggers: Triggers


# A topic's plain fields, in Topic's order (max_age in seconds): what a snapshot keeps.
TopicFields = tuple[str, str, str, str, str | None, tuple[str, ...], tuple[str, ...],
                    float | None, int | None]
IndexState = tuple[tuple[TopicFields, ...], tuple[tuple[Any, ...], ...], Any,
                   tuple[AcceptSpec, ...], tuple[Any, Any, Any]]


def _topic_fields(topic: Topic) -> TopicFields:
    max_age = topic.max_age.total_seconds() if topic.max_age is not None else None
    return (topic.slug, topic.title, topic.description, topic.query, topic.exclude,
            topic.sections, topic.sources, max_age, topic.limit)


def _topic(fields: TopicFields) -> Topic:
    slug, title, description, query, exclude, sections, sources, max_age, limit = fields
    return Topic(slug, title, description, query, exclude, tuple(sections), tuple(sources),
                 timedelta(seconds=max_age) if max_age is not None else None, limit)


def _compile_entry(entry: _Entry, table: TermTable) -> Accept:
    parsed_exclude = entry.topic.parsed_exclude
    exclude = parsed_exclude.root if parsed_exclude is not None else None
    return compile_accept(entry.topic.parsed_query.root, exclude, entry.sections, entry.sources, table)


def _shape(entry: _Entry) -> TopicShape:
    exclude = entry.topic.parsed_exclude
    filtered = bool(entry.sections or entry.sources)
    return TopicShape(entry.topic.parsed_query.root, exclude.root if exclude is not None else None, filtered)
