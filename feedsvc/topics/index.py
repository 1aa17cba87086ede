"""All topics compiled into one inverted index, matched against one article at a time.

Each topic registers a few *trigger* terms: a set of terms at least one of which must
be present whenever its query is true (for ``a OR b`` both, for ``a AND b`` only the
rarer-looking side, never a negated term). Matching an article looks each of its
distinct forms up once in the trigger tables (words by exact form, prefixes by every
prefix length the tables hold, section/source by value) and evaluates only the
topics found, so the cost follows the article's length, not the number of topics.
Queries that could be true with none of their terms present are rejected by the
parser, which is what makes "evaluate only triggered topics" exact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from feedsvc.errors import TopicConfigError
from feedsvc.models import Article
from feedsvc.normalize.arabic import normalize_text
from feedsvc.topics.compiled import Predicate, TermTable, Truth, compile_node
from feedsvc.topics.model import Topic
from feedsvc.topics.prepared import FIELD_MASKS, PreparedArticle, prepare
from feedsvc.topics.query import KEYWORD_FIELDS, And, Node, Not, Or, Term

__all__ = ["TopicIndex", "compile_topics"]



@dataclass(frozen=True, slots=True)
class _Entry:
    topic: Topic
    sections: frozenset[str]
    sources: frozenset[str]


def compile_topics(topics: Iterable[Topic]) -> TopicIndex:
    """Build the index; raises TopicConfigError when two topics share a slug."""
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


class TopicIndex:
    """The compiled topics; ``match`` answers which topic slugs an article belongs to."""

    def __init__(self, entries: Sequence[_Entry]) -> None:
        self._entries = tuple(entries)
        self._by_slug = {entry.topic.slug: i for i, entry in enumerate(self._entries)}
        self._table = TermTable()
        self._accepts = [_compile_entry(entry, self._table) for entry in self._entries]
        terms = self._table.terms
        self._words: dict[str, list[tuple[int, int]]] = {}
        self._prefixes: dict[str, list[tuple[int, int]]] = {}
        self._keywords: dict[tuple[str, str, bool], list[int]] = {}
        for term_id, term in enumerate(terms):
            self._register(term_id, term)
        self._prefix_lengths = sorted({len(prefix) for prefix in self._prefixes})
        # Topics to evaluate when a term holds; phrase triggers are keyed by a word.
        self._term_triggers: list[list[int]] = [[] for _ in terms]
        self._phrase_triggers: dict[str, list[int]] = {}
        for number, entry in enumerate(self._entries):
            for term in _trigger_terms(entry.topic.parsed_query.root):
                if len(term.words) > 1:
                    self._phrase_triggers.setdefault(max(term.words, key=len), []).append(number)
                else:
                    self._term_triggers[self._table.ids[term.key]].append(number)

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
        return tuple(entry.topic.slug for entry in self._entries)

    def topic(self, slug: str) -> Topic:
        """The topic named ``slug``; raises KeyError for an unknown slug."""
        return self._entries[self._by_slug[slug]].topic

    def prepare(self, article: Article) -> PreparedArticle:
        """Normalize ``article`` once, to match it against several indexes or slugs."""
        return prepare(article)

    def match(self, article: Article | PreparedArticle) -> frozenset[str]:
        """The slugs of the topics ``article`` belongs to (query, exclude, filters)."""
        prepared = article if isinstance(article, PreparedArticle) else prepare(article)
        candidates, truth = self._scan(prepared)
        entries, accepts = self._entries, self._accepts
        return frozenset(entries[n].topic.slug for n in candidates if accepts[n](truth))

    def match_scan(self, article: Article | PreparedArticle) -> frozenset[str]:
        """Reference answer without the trigger tables: every topic evaluated."""
        prepared = article if isinstance(article, PreparedArticle) else prepare(article)
        _, truth = self._scan(prepared)
        return frozenset(
            entry.topic.slug
            for entry, accepts in zip(self._entries, self._accepts, strict=True)
            if accepts(truth)
        )

    def explain(self, slug: str, article: Article | PreparedArticle) -> tuple[str, ...]:
        """The terms of topic ``slug`` present in ``article``; exclude terms are
        prefixed ``exclude `` so an operator sees why an article was dropped."""
        topic = self.topic(slug)
        prepared = article if isinstance(article, PreparedArticle) else prepare(article)
        _, truth = self._scan(prepared)
        ids = self._table.ids
        found = [t.label for t in topic.parsed_query.terms if truth.holds(ids[t.key])]
        if topic.parsed_exclude is not None:
            excluded = topic.parsed_exclude.terms
            found += [f"exclude {t.label}" for t in excluded if truth.holds(ids[t.key])]
        return tuple(dict.fromkeys(found))

    def _scan(self, prepared: PreparedArticle) -> tuple[set[int], Truth]:
        """Look every form up once: the terms present and the topics they trigger."""
        words, prefixes, lengths = self._words, self._prefixes, self._prefix_lengths
        phrase_triggers = self._phrase_triggers
        present: set[int] = set()
        candidates: set[int] = set()
        seen: dict[str, int] = {}
        for form, mask in prepared.form_masks.items():
            for term_id, wanted in words.get(form, ()):
                if mask & wanted:
                    present.add(term_id)
            if form in phrase_triggers:
                candidates.update(phrase_triggers[form])
            for length in lengths:
                if length > len(form):
                    break
                head = form[:length]
                if head in prefixes:
                    seen[head] = seen.get(head, 0) | mask
                    present.update(t for t, wanted in prefixes[head] if mask & wanted)
        for field, value in (("section", prepared.section), ("source", prepared.source)):
            present.update(self._keywords.get((field, value, False), ()))
            for length in range(1, len(value) + 1):
                present.update(self._keywords.get((field, value[:length], True), ()))
        for term_id in present:
            candidates.update(self._term_triggers[term_id])
        return candidates, Truth(prepared, self._table.terms, present, seen)


def _compile_entry(entry: _Entry, table: TermTable) -> Predicate:
    """One closure: the section and source filters, the query, then the exclude."""
    query = compile_node(entry.topic.parsed_query.root, table)
    parsed_exclude = entry.topic.parsed_exclude
    exclude = compile_node(parsed_exclude.root, table) if parsed_exclude else None
    sections, sources = entry.sections, entry.sources

    def accepts(truth: Truth) -> bool:
        prepared = truth.prepared
        if sections and prepared.section not in sections:
            return False
        if sources and prepared.source not in sources:
            return False
        return query(truth) and not (exclude is not None and exclude(truth))

    return accepts


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
