"""An article normalized once for matching, and the truth of one query term in it.

``prepare(article)`` tokenizes the title, the body (summary + content text) and the
tags once, and keeps per field the tokens in order and the set of distinct tokens.
The index looks the distinct tokens up in its own tables, so matching thousands of
topics never normalizes the article again. Where a word occurs is needed only to
check a phrase, so the tokens carrying a phrase word are found then, among the few
spellings that can carry it (``clitic_spellings``), and kept for the next phrase.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import product

from feedsvc.models import Article
from feedsvc.normalize.arabic import clitic_spellings, normalize_text, tokenize, word_forms
from feedsvc.topics.query import Term

__all__ = ["BODY", "FIELD_MASKS", "TAG", "TITLE", "PreparedArticle", "prepare"]

TITLE, BODY, TAG = 1, 2, 4
FIELD_MASKS = {"any": TITLE | BODY, "title": TITLE, "body": BODY, "tag": TAG}
# Bounds the work on a pathological article; far above any real news story.
MAX_FIELD_TOKENS = 50_000
# Spellings of one phrase searched as text before falling back to positions.
_MAX_PHRASE_SPELLINGS = 16

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

    def phrase_in_field(self, words: tuple[str, ...], field_bit: int) -> bool:
        """Whether ``words`` occur in a row in the field.

        Each way of spelling the phrase with the tokens present (nearly always one)
        is searched in the field's tokens joined by spaces, where a gap between
        segments is two spaces; many spellings fall back to positions.
        """
        carriers = []
        spellings = 1
        for word in words:
            found = self.carriers(field_bit, word)
            if not found:
                return False
            carriers.append(found)
            spellings *= len(found)
        if spellings > _MAX_PHRASE_SPELLINGS:
            return self.phrase_by_positions(words, field_bit)
        text = self._texts.get(field_bit)
        if text is None:
            text = self._texts[field_bit] = " " + " ".join(self.tokens[field_bit]) + " "
        return any(f" {' '.join(spelling)} " in text for spelling in product(*carriers))

    def phrase_by_positions(self, words: tuple[str, ...], field_bit: int) -> bool:
        """The same answer from positions: the starts every following word confirms."""
        starts = set(self.form_positions(field_bit, words[0]))
        for step, word in enumerate(words[1:], start=1):
            if not starts:
                return False
            starts.intersection_update([position - step for position in self.form_positions(field_bit, word)])
        return bool(starts)

    def form_positions(self, field_bit: int, form: str) -> list[int]:
        """Where a token having ``form`` among its clitic forms occurs in the field."""
        tokens = self.tokens[field_bit]
        return sorted(index for token in self.carriers(field_bit, form) for index in _occurrences(tokens, token))

    def term_matches(self, term: Term) -> bool:
        """Whether ``term`` occurs in this article in the term's field.

        The direct answer, without the index's tables: the reference the tests
        compare the index with.
        """
        if term.field == "section":
            return _keyword_matches(term, self.section)
        if term.field == "source":
            return _keyword_matches(term, self.source)
        mask = FIELD_MASKS[term.field]
        if term.prefix:
            head = term.words[0]
            return any(
                form.startswith(head)
                for f in _fields(mask)
                for token in self.field_tokens(f)
                for form in word_forms(token)
            )
        return any(self.phrase_by_positions(term.words, f) for f in _fields(mask))


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


def _fields(mask: int) -> tuple[int, ...]:
    return tuple(bit for bit in (TITLE, BODY, TAG) if mask & bit)


def _keyword_matches(term: Term, value: str) -> bool:
    wanted = term.words[0]
    return value.startswith(wanted) if term.prefix else value == wanted
