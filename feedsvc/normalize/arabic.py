"""Arabic text normalization for matching: one function for articles and queries alike.

``normalize_text`` folds the spelling variation of Arabic news text onto one form so
that a topic query and an article compare equal when a reader would say they say the
same word. ``tokenize`` splits normalized text into word tokens, and ``word_forms``
gives a token together with the stems left after removing attached proclitics
(و ف ب ك ل and the article ال). The full table is in ``docs/topics.md``.

Hamza seats: the alef seats (أ إ آ ٱ) become a bare alef ا, because writers drop
them freely; the waw and yeh seats (ؤ ئ) become a bare hamza ء, so that the two
accepted spellings مسؤول and مسئول (شؤون, شئون) fold onto one form (مسءول).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from itertools import chain

__all__ = ["CLITIC_PREFIXES", "clear_caches", "clitic_spellings", "normalize_text", "tokenize", "word_forms"]


def _range(first: int, last: int) -> range:
    return range(first, last + 1)


def _build_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {}
    removed = [
        *_range(0x064B, 0x065F),  # harakat, tanween, shadda, sukun, hamza marks
        0x0670,  # superscript (dagger) alef
        *_range(0x0610, 0x061A),  # Quranic honorifics and small marks
        *_range(0x06D6, 0x06ED),  # Quranic annotation marks
        *_range(0x08D3, 0x08FF),  # extended Quranic marks
        0x0640,  # tatweel
        *_range(0x200B, 0x200F),  # zero-width space/joiners, LRM, RLM
        *_range(0x202A, 0x202E),  # bidi embeddings and overrides
        *_range(0x2060, 0x2064),  # word joiner, invisible operators
        *_range(0x2066, 0x2069),  # bidi isolates
        0x061C,  # Arabic letter mark
        0xFEFF,  # byte-order mark / zero-width no-break space
        0x00AD,  # soft hyphen
    ]
    table.update(dict.fromkeys(removed))
    letters = {
        "ا": "أإآٱٲٳٵ",
        "ء": "ؤئ",
        "ي": "ىیېےۓ",
        "ه": "ةۀەھہۂۃ",
        "ك": "کڪگڭ",
        "ب": "پ",
        "ج": "چ",
        "ز": "ژ",
        "ف": "ڤڥ",
        "ق": "ڨ",
    }
    for target, variants in letters.items():
        table.update({ord(variant): target for variant in variants})
    for offset in range(10):
        table[0x0660 + offset] = str(offset)  # Arabic-Indic digits
        table[0x06F0 + offset] = str(offset)  # Persian (Extended Arabic-Indic) digits
    punctuation = {"،": ",", "؛": ";", "؟": "?", "٪": "%", "٫": ".", "٬": ",", "۔": "."}
    table.update({ord(mark): ascii_mark for mark, ascii_mark in punctuation.items()})
    spaces = [0x00A0, 0x1680, *_range(0x2000, 0x200A), 0x2028, 0x2029, 0x202F, 0x205F, 0x3000]
    controls = [*_range(0x00, 0x1F), *_range(0x7F, 0x9F)]
    table.update(dict.fromkeys(spaces + controls, " "))
    return table


_FOLDS = _build_table()
# ``str.translate`` pays for a raised KeyError on every character its table lacks, so
# the table also maps the first 12,288 code points (all of Arabic, Latin and the
# punctuation blocks) onto themselves: about half the cost on news text.
_TABLE: dict[int, int | str | None] = {**{code: code for code in range(0x3000)}, **_FOLDS}
_TOKEN_RE = re.compile(r"[^\W_]+")

class _ChunkTokens(dict[str, tuple[str, ...]]):
    """The tokens of each white-space-separated chunk already seen.

    Every white-space character normalizes to a separator and never combines with
    its neighbours, so a text's tokens are its chunks' tokens in order; news
    vocabulary repeats enough that most chunks are found here, and the lookups run
    inside ``map``. Cleared when full, which keeps memory bounded.
    """

    def __missing__(self, chunk: str) -> tuple[str, ...]:
        if len(self) >= _CHUNK_CACHE_SIZE:
            self.clear()
        tokens = self[chunk] = tuple(_TOKEN_RE.findall(_fold(chunk)))
        return tokens


_CHUNK_TOKENS = _ChunkTokens()
_CHUNK_CACHE_SIZE = 1 << 17


def normalize_text(text: str) -> str:
    """Fold ``text`` onto the matching form; idempotent.

    NFKC first (presentation forms, composed hamza, NBSP), then the letter table,
    then Latin case folding, and whitespace runs collapsed to one space. A second
    NFKC pass, only when needed, recomposes what removing an invisible mark or case
    folding brought together.
    """
    return " ".join(_fold(text).split())


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).translate(_TABLE).casefold()
    if not unicodedata.is_normalized("NFKC", folded):
        folded = unicodedata.normalize("NFKC", folded).translate(_TABLE)
    return folded


def tokenize(text: str) -> list[str]:
    """The normalized word tokens of ``text``: runs of letters and digits."""
    return list(chain.from_iterable(map(_CHUNK_TOKENS.__getitem__, text.split())))


def clear_caches() -> None:
    """Forget the memoized chunks and clitic forms (for cold-start measurements)."""
    _CHUNK_TOKENS.clear()
    word_forms.cache_clear()


# Proclitic prefixes that ``word_forms`` removes, already normalized. Conjunctions
# و ف, prepositions ب ك ل, the article ال, and their combinations in the order Arabic
# attaches them: conjunction, then preposition, then article. ل + ال is written لل.
CLITIC_PREFIXES: tuple[str, ...] = (
    "و", "ف", "ب", "ك", "ل",
    "ال",
    "وب", "وك", "ول", "فب", "فك", "فل",
    "لل", "وال", "فال", "بال", "كال",
    "ولل", "فلل",
    "وبال", "وكال", "فبال", "فكال",
)  # fmt: skip
_ARTICLE_PREFIXES = frozenset(p for p in CLITIC_PREFIXES if p.endswith(("ال", "لل")))
_LAM_LAM_PREFIXES = frozenset(("لل", "ولل", "فلل"))

# A stem left after removing a clitic must keep this many letters: three, the size of
# an Arabic root, or two after the article (الدم → دم), so بحر never yields حر.
_MIN_STEM = 3
_MIN_STEM_AFTER_ARTICLE = 2

# Frequent news words whose first letter is part of the root yet looks like a clitic,
# and whose remainder is itself a word a query could name (كامل → امل, وكالة → آلة).
# They are never stripped further, with or without a real clitic in front.
ROOT_INITIAL_WORDS: frozenset[str] = frozenset(
    normalize_text(word)
    for word in (
        "كامل", "كاملة", "كاملا", "كافة", "وزير", "وزيرة", "وزارة", "وكالة", "وكالات",
        "فساد", "بطولة", "بطولات", "فريق", "وقود", "لبنان", "لجنة", "كتلة", "بحرية",
        "بلدية", "وجود", "فلسطين", "فلسطيني", "فلسطينية", "فلسطينيين", "بريطانيا",
    )
)  # fmt: skip


@lru_cache(maxsize=1 << 16)
def word_forms(token: str) -> tuple[str, ...]:
    """``token`` first, then every stem left by removing one listed proclitic prefix.

    A stem must keep ``_MIN_STEM`` letters (two after the article), and stripping
    stops at a word of ``ROOT_INITIAL_WORDS``. A لل prefix also yields the definite
    form (للامم → الامم), so a query written with ال still matches.
    Only text words are expanded: a query word is compared as written, so two
    fragments are never compared with each other (the over-stripping guard).
    """
    forms = [token]
    if token in ROOT_INITIAL_WORDS:
        return (token,)
    for prefix in _matching_prefixes(token):
        stem = token[len(prefix) :]
        minimum = _MIN_STEM_AFTER_ARTICLE if prefix in _ARTICLE_PREFIXES else _MIN_STEM
        if len(stem) < minimum:
            continue
        forms.append(stem)
        if prefix in _LAM_LAM_PREFIXES:
            forms.append("ال" + stem)
        if stem in ROOT_INITIAL_WORDS:
            break
    return tuple(dict.fromkeys(forms))


def _matching_prefixes(token: str) -> list[str]:
    """The clitic prefixes ``token`` starts with, shortest first."""
    if not token or token[0] not in "وفبكلا":
        return []
    return sorted((p for p in CLITIC_PREFIXES if token.startswith(p)), key=len)


@lru_cache(maxsize=1 << 12)
def clitic_spellings(form: str) -> tuple[str, ...]:
    """Every token ``word_forms`` could turn into ``form``: the form itself, each
    proclitic prefix in front of it, and لل in place of its article.

    A superset: a caller keeps the tokens whose ``word_forms`` really hold ``form``.
    """
    spellings = [form, *(prefix + form for prefix in CLITIC_PREFIXES)]
    if form.startswith("ال"):
        spellings += [prefix + form[2:] for prefix in _LAM_LAM_PREFIXES]
    return tuple(spellings)
