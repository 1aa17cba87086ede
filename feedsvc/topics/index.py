"""All topics compiled into one inverted index, matched against one article at a time.

Each topic registers a few *trigger* terms: a set of terms at least one of which must
be present whenever its query is true (for ``a OR b`` both, for ``a AND b`` only the
rarer-looking side, never a negated term; a phrase through its longest word).
Matching an article looks each of its distinct tokens up once: the token's clitic
forms against the word table by exact form and the prefix table at every prefix
length it holds, remembered per token, and section/source by value. Only the topics
the present terms trigger are evaluated, so the cost follows the article's length
and the topics it hits, not the number of topics.
Queries that could be true with none of their terms present are rejected by the
parser, which is what makes "evaluate only triggered topics" exact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from feedsvc.errors import TopicConfigError
from feedsvc.models import Article
from feedsvc.normalize.arabic import normalize_text, word_forms
from feedsvc.topics.compiled import Accept, TermTable, Truth, compile_accept
from feedsvc.topics.model import Topic
from feedsvc.topics.prepared import FIELD_MASKS, PreparedArticle, prepare
from feedsvc.topics.query import KEYWORD_FIELDS, And, Node, Not, Or, Term

__all__ = ["TopicIndex", "compile_topics"]

# Distinct tokens whose term hits an index remembers; news vocabulary stays well below.
_TOKEN_MEMO_SIZE = 1 << 18


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
    """The compiled topics; ``match`` answers which topic slugs an article belongs to.

    The index memoizes, per distinct token, which of its terms the token's clitic
    forms satisfy (most tokens satisfy none). The memo is bounded and only ever
    holds answers, so an index can be shared and reused freely.
    """

    def __init__(self, entries: Sequence[_Entry]) -> None:
        self._entries = tuple(entries)
        self._slugs = tuple(entry.topic.slug for entry in self._entries)
        self._by_slug = {slug: i for i, slug in enumerate(self._slugs)}
        self._table = TermTable()
        self._accepts = [_compile_entry(entry, self._table) for entry in self._entries]
        self._words: dict[str, list[tuple[int, int]]] = {}
        self._prefixes: dict[str, list[tuple[int, int]]] = {}
        self._keywords: dict[tuple[str, str, bool], list[int]] = {}
        for term_id, term in enumerate(self._table.terms):
            self._register(term_id, term)
        self._prefix_lengths = sorted({len(prefix) for prefix in self._prefixes})
        self._triggers = _triggers(self._entries, self._table)
        self._token_hits: dict[str, tuple[tuple[int, int], ...]] = {}
        self._quiet_tokens: set[str] = set()
        self._keyword_hits: dict[tuple[str, str], tuple[int, ...]] = {}

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
        truth = self._truth(prepared)
        present, phrase, section, source = truth.present, truth.phrase, prepared.section, prepared.source
        candidates: set[int] = set()
        triggers = self._triggers
        for term_id in present:
            candidates.update(triggers[term_id])
        slugs, accepts = self._slugs, self._accepts
        return frozenset(
            slugs[number] for number in candidates if accepts[number](present, phrase, section, source)
        )

    def match_scan(self, article: Article | PreparedArticle) -> frozenset[str]:
        """Reference answer without the trigger tables: every topic evaluated."""
        prepared = article if isinstance(article, PreparedArticle) else prepare(article)
        truth = self._truth(prepared)
        present, phrase, section, source = truth.present, truth.phrase, prepared.section, prepared.source
        return frozenset(
            slug
            for slug, accepts in zip(self._slugs, self._accepts, strict=True)
            if accepts(present, phrase, section, source)
        )

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
        """The word, prefix and keyword terms present: each distinct token once."""
        present: set[int] = set()
        known, quiet = self._token_hits, self._quiet_tokens
        for field_bit, tokens in prepared.distinct:
            for token in tokens - quiet:
                hits = known.get(token)
                if hits is None:
                    hits = self._hits_of(token)
                for term_id, wanted in hits:
                    if wanted & field_bit:
                        present.add(term_id)
        present.update(self._keyword_terms("section", prepared.section))
        present.update(self._keyword_terms("source", prepared.source))
        return Truth(prepared, self._table, present)

    def _hits_of(self, token: str) -> tuple[tuple[int, int], ...]:
        """(term id, fields it searches) for each word or prefix term a form of
        ``token`` satisfies; remembered, up to ``_TOKEN_MEMO_SIZE`` tokens."""
        words, prefixes, lengths = self._words, self._prefixes, self._prefix_lengths
        found: list[tuple[int, int]] = []
        for form in word_forms(token):
            found += words.get(form, ())
            for length in lengths:
                if length > len(form):
                    break
                found += prefixes.get(form[:length], ())
        hits = tuple(dict.fromkeys(found))
        if len(self._token_hits) + len(self._quiet_tokens) >= _TOKEN_MEMO_SIZE:
            self._token_hits.clear()
            self._quiet_tokens.clear()
        if hits:
            self._token_hits[token] = hits
        else:
            self._quiet_tokens.add(token)
        return hits

    def _keyword_terms(self, field: str, value: str) -> tuple[int, ...]:
        """The section: or source: terms ``value`` satisfies, whole or by prefix."""
        hits = self._keyword_hits.get((field, value))
        if hits is None:
            keywords = self._keywords
            found = list(keywords.get((field, value, False), ()))
            for length in range(1, len(value) + 1):
                found += keywords.get((field, value[:length], True), ())
            if len(self._keyword_hits) >= _TOKEN_MEMO_SIZE:
                self._keyword_hits.clear()
            hits = self._keyword_hits[(field, value)] = tuple(found)
        return hits


def _compile_entry(entry: _Entry, table: TermTable) -> Accept:
    parsed_exclude = entry.topic.parsed_exclude
    exclude = parsed_exclude.root if parsed_exclude is not None else None
    return compile_accept(entry.topic.parsed_query.root, exclude, entry.sections, entry.sources, table)


def _triggers(entries: Sequence[_Entry], table: TermTable) -> list[tuple[int, ...]]:
    """Per term id, the topics to evaluate when it holds. A phrase triggers through
    its longest word in each field it searches: a necessary condition."""
    triggers: list[list[int]] = [[] for _ in table.terms]
    for number, entry in enumerate(entries):
        for term in _trigger_terms(entry.topic.parsed_query.root):
            term_id = table.ids[term.key]
            if not table.is_phrase(term_id):
                triggers[term_id].append(number)
                continue
            longest = max(range(len(term.words)), key=lambda i: len(term.words[i]))
            for _, word_ids in table.phrase_fields[term_id]:
                triggers[word_ids[longest]].append(number)
    return [tuple(dict.fromkeys(topics)) for topics in triggers]


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
