"""An article normalized once for matching, and the truth of one query term in it.

``prepare(article)`` tokenizes the title, the body (summary + content text) and the
tags once, and keeps per field the tokens in order and the set of distinct tokens.
The index looks the distinct tokens up in its own tables, so matching thousands of
topics never normalizes the article again. Where a word occurs is needed only to
check a phrase: the index passes the tokens carrying each word of the phrase, found
among the spellings it has learned, to ``sequence_in_field``. ``carriers`` finds
them without an index, among the few spellings that can carry a word
(``clitic_spellings``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product

from feedsvc.models import Article
from feedsvc.normalize.arabic import clitic_spellings, normalize_text, tokenize, word_forms

__all__ = ["BODY", "FIELD_MASKS", "TAG", "TITLE", "PreparedArticle", "prepare"]

TITLE, BODY, TAG = 1, 2, 4
FIELD_MASKS = {"any": TITLE | BODY, "title": TITLE, "body": BODY, "tag": TAG}
# Bounds the work on a pathological article; far above any real news story.
MAX_FIELD_TOKENS = 50_000
# Spellings of one phrase searched as text before falling back to positions.
_MAX_PHRASE_SPELLINGS = 16
# Occurrences of a phrase's first word checked one by one before searching the text.
_MAX_SCANNED = 32

Positions = dict[str, list[int]]  # a token or form → its positions in one field


@dataclass(frozen=True, slots=True)
class PreparedArticle:
    """Per-field tokens plus the keyword fields, built by ``prepare``.

    The two private dicts only remember phrase-check answers, so a prepared article
    still reads the same to every index it is matched against.
    """

    article: Article
    tokens: dict[int, list[str]]  # field bit → its tokens in order, "" between segments
    distinct: tuple[tuple[int, frozenset[str]], ...]  # (field bit, distinct tokens), non-empty
    section: str
    source: str
    _carriers: dict[tuple[int, str], tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)
    _texts: dict[int, str] = field(default_factory=dict, repr=False, compare=False)

    def field_tokens(self, field_bit: int) -> frozenset[str]:
        for bit, tokens in self.distinct:
            if bit == field_bit:
                return tokens
        return frozenset()

    def carriers(self, field_bit: int, form: str) -> tuple[str, ...]:
        """The field's distinct tokens having ``form`` among their clitic forms,
        found among the few spellings that can carry it; remembered."""
        found = self._carriers.get((field_bit, form))
        if found is None:
            spellings = self.field_tokens(field_bit).intersection(clitic_spellings(form))
            found = tuple(token for token in spellings if form in word_forms(token))
            self._carriers[(field_bit, form)] = found
        return found

    def sequence_in_field(self, carriers: Sequence[Collection[str]], field_bit: int) -> bool:
        """Whether the field has, in a row, a token of each of ``carriers`` (the
        tokens carrying each word of a phrase, in order).

        Nearly always each word has one spelling in the article: the field's tokens
        are then scanned for the first one and the rest compared after each hit. A
        word occurring very often, or a few spellings, are searched in the field's
        tokens joined by spaces (a gap between segments is two spaces); many
        spellings fall back to positions.
        """
        spellings = 1
        for found in carriers:
            spellings *= len(found)
        if not spellings:
            return False
        if spellings == 1:
            found_once = _scan(self.tokens[field_bit], [token for found in carriers for token in found])
            if found_once is not None:
                return found_once
        if spellings > _MAX_PHRASE_SPELLINGS:
            return self._sequence_by_positions(carriers, field_bit)
        text = self._texts.get(field_bit)
        if text is None:
            text = self._texts[field_bit] = " " + " ".join(self.tokens[field_bit]) + " "
        return any(f" {' '.join(spelling)} " in text for spelling in product(*carriers))

    def _sequence_by_positions(self, carriers: Sequence[Collection[str]], field_bit: int) -> bool:
        """The same answer from positions: the starts every following word confirms."""
        tokens = self.tokens[field_bit]
        starts = {index for token in carriers[0] for index in _occurrences(tokens, token)}
        for step, found in enumerate(carriers[1:], start=1):
            if not starts:
                return False
            starts.intersection_update([index - step for token in found for index in _occurrences(tokens, token)])
        return bool(starts)


def prepare(article: Article) -> PreparedArticle:
    """Normalize ``article`` once for matching against any number of topics."""
    tokens = {
        TITLE: _field_tokens((article.title,)),
        BODY: _field_tokens((article.summary, article.content_text)),
        TAG: _field_tokens(article.tags),
    }
    distinct = tuple(
        (field_bit, frozenset(field_tokens).difference(("",)))
        for field_bit, field_tokens in tokens.items()
        if any(field_tokens)
    )
    return PreparedArticle(
        article=article,
        tokens=tokens,
        distinct=distinct,
        section=_keyword_value(article.section or ""),
        source=_keyword_value(article.source),
    )


def _field_tokens(texts: Iterable[str]) -> list[str]:
    """The tokens of each text in order, with "" after each so that no phrase
    spans two texts; up to ``MAX_FIELD_TOKENS`` for the field."""
    field_tokens: list[str] = []
    for text in texts:
        field_tokens += tokenize(text)[:MAX_FIELD_TOKENS]
        field_tokens.append("")
        if len(field_tokens) > MAX_FIELD_TOKENS:
            break
    return field_tokens


def _scan(tokens: list[str], words: list[str]) -> bool | None:
    """Whether ``words`` occur in a row in ``tokens``: ``list.index`` finds each
    occurrence of the first, a slice comparison checks the rest. None when the first
    occurs more than ``_MAX_SCANNED`` times without the rest."""
    first, rest, width = words[0], words[1:], len(words)
    index = -1
    for _ in range(_MAX_SCANNED):
        try:
            index = tokens.index(first, index + 1)
        except ValueError:
            return False
        if tokens[index + 1 : index + width] == rest:
            return True
    return None


def _occurrences(tokens: list[str], token: str) -> list[int]:
    """Every index of ``token``; ``list.count`` and ``list.index`` do the scanning."""
    found: list[int] = []
    index = -1
    for _ in range(tokens.count(token)):
        index = tokens.index(token, index + 1)
        found.append(index)
    return found


@lru_cache(maxsize=1 << 10)
def _keyword_value(value: str) -> str:
    """A section or source value normalized; there are few distinct ones."""
    return normalize_text(value)
