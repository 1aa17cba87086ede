"""An article normalized once for matching, and the truth of one query term in it.

``prepare(article)`` tokenizes the title, the body (summary + content text) and the
tags, expands every token into its clitic forms (``word_forms``) and records, per
field, where each form occurs. Every term of every topic is then answered from these
tables, so matching thousands of topics never normalizes the article again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from feedsvc.models import Article
from feedsvc.normalize.arabic import normalize_text, tokenize, word_forms
from feedsvc.topics.query import Term

__all__ = ["BODY", "FIELD_MASKS", "TAG", "TITLE", "PreparedArticle", "prepare"]

TITLE, BODY, TAG = 1, 2, 4
FIELD_MASKS = {"any": TITLE | BODY, "title": TITLE, "body": BODY, "tag": TAG}
# Bounds the work on a pathological article; far above any real news story.
MAX_FIELD_TOKENS = 50_000

Positions = dict[str, list[int]]


@dataclass(frozen=True, slots=True)
class PreparedArticle:
    """Per-field form positions plus the keyword fields, built by ``prepare``."""

    article: Article
    positions: dict[int, Positions]
    section: str
    source: str
    form_masks: dict[str, int]  # each distinct form → the fields holding it

    def term_matches(self, term: Term, seen_prefixes: dict[str, int]) -> bool:
        """Whether ``term`` occurs in this article in the term's field.

        ``seen_prefixes`` maps each query prefix the index found in the article to
        the mask of the fields holding a form that starts with it.
        """
        if term.field == "section":
            return _keyword_matches(term, self.section)
        if term.field == "source":
            return _keyword_matches(term, self.source)
        mask = FIELD_MASKS[term.field]
        if term.prefix:
            return bool(seen_prefixes.get(term.words[0], 0) & mask)
        if len(term.words) == 1:
            return any(term.words[0] in self.positions[f] for f in _fields(mask))
        return any(_phrase_in(term.words, self.positions[f]) for f in _fields(mask))


def prepare(article: Article) -> PreparedArticle:
    """Normalize ``article`` once for matching against any number of topics."""
    positions = {
        TITLE: _index_segments((article.title,)),
        BODY: _index_segments((article.summary, article.content_text)),
        TAG: _index_segments(article.tags),
    }
    form_masks: dict[str, int] = {}
    for field_bit, field_positions in positions.items():
        for form in field_positions:
            form_masks[form] = form_masks.get(form, 0) | field_bit
    return PreparedArticle(
        article=article,
        positions=positions,
        section=normalize_text(article.section or ""),
        source=normalize_text(article.source),
        form_masks=form_masks,
    )


def _index_segments(segments: Iterable[str]) -> Positions:
    """Form → positions over ``segments``; a gap between segments stops phrases."""
    positions: Positions = {}
    lookup = positions.get
    offset = 0
    for segment in segments:
        tokens = tokenize(segment)[:MAX_FIELD_TOKENS]
        for index, token in enumerate(tokens, start=offset):
            for form in word_forms(token):
                hits = lookup(form)
                if hits is None:
                    positions[form] = [index]
                else:
                    hits.append(index)
        offset += len(tokens) + 1
        if offset > MAX_FIELD_TOKENS:
            break
    return positions


def _fields(mask: int) -> tuple[int, ...]:
    return tuple(bit for bit in (TITLE, BODY, TAG) if mask & bit)


def _phrase_in(words: tuple[str, ...], positions: Positions) -> bool:
    """Whether ``words`` occur at consecutive positions; linear in the first word's hits."""
    following = [positions.get(word) for word in words[1:]]
    if not all(following):
        return False
    later = [set(hits) for hits in following if hits is not None]
    for start in positions.get(words[0], ()):
        if all(start + step in hits for step, hits in enumerate(later, start=1)):
            return True
    return False


def _keyword_matches(term: Term, value: str) -> bool:
    wanted = term.words[0]
    return value.startswith(wanted) if term.prefix else value == wanted
