"""Content keys of an article body: an exact fingerprint, shingles and a MinHash signature.

All three read the *body* only, after normalization (``feedsvc.normalize.arabic``)
and after dropping the site's boilerplate paragraphs (the ``المصدر: ...`` credit,
page chrome such as «مباشر» or «التعليقات»). The title never takes part: the site
edits headlines on a live story (a changed title on the same body is an update, not
a new story), and unrelated short items share titles such as «عاجل».

Shingles are word trigrams of normalized tokens, each hashed with CRC-32 (stable
across processes and machines, unlike the salted ``hash()``) and then scrambled
by an odd multiplier so that the high bits are well mixed.

The signature is one-permutation MinHash (Li, Owen and Zhang, 2012) with rotation
densification (Shrivastava and Li, 2014): the shingle hashes are spread over
``num_perm`` bins and each bin keeps its minimum, so computing it costs one pass
over the shingles instead of ``num_perm`` passes; two bodies agree in a bin with
probability close to their Jaccard similarity, as with classic MinHash. It is
stored as ``num_perm`` little-endian unsigned 32-bit values (``SIGNATURE_SCHEME``
names the recipe; a store that persists signatures keeps the scheme beside them
and recomputes when it differs).
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from collections.abc import Sequence, Set
from itertools import repeat
from operator import and_, mod, mul
from typing import NewType

from feedsvc.normalize.arabic import tokenize

Signature = NewType("Signature", bytes)

SHINGLE_SIZE = 3  # word trigrams: pairs recur across unrelated wire stories, trigrams rarely do
SIGNATURE_SCHEME = "oph-crc32x-3gram-v1"
DEFAULT_MIN_TOKENS = 40
DEFAULT_NUM_PERM = 128

_MASK = 0xFFFFFFFF
_MIX = 0x9E3779B1  # odd, so multiplying modulo 2**32 is a permutation of the hashes
_ROTATE_MIX = 0x85EBCA6B
_EMPTY_BIN = _MASK

# Paragraphs that are page chrome rather than the story, in normalized form. A body made
# only of these is empty for dedupe, so two such pages can never merge on it.
BOILERPLATE_PARAGRAPHS: frozenset[str] = frozenset(
    " ".join(tokenize(line))
    for line in (
        "مباشر", "أين يمكنك متابعتنا", "أقسام مهمة", "Stories", "قصص", "التعليقات",
        "الوسوم", "اقرأ المزيد", "اقرأ أيضا", "فيديوهات", "تابعونا على", "RT Arabic",
    )
)  # fmt: skip
# Short paragraphs whose first words are these are credits or follow-us lines:
# "المصدر: نوفوستي", "تابعوا RT على تلغرام".
BOILERPLATE_OPENINGS: tuple[tuple[str, ...], ...] = tuple(
    tuple(tokenize(opening)) for opening in ("المصدر", "تابعوا", "تابعونا", "للمزيد", "اقرأ المزيد")
)
_BOILERPLATE_MAX_TOKENS = 12


def body_tokens(text: str) -> list[str]:
    """Normalized word tokens of the body, boilerplate paragraphs left out."""
    tokens: list[str] = []
    for paragraph in text.splitlines():
        words = tokenize(paragraph)
        if words and not _is_boilerplate(words):
            tokens.extend(words)
    return tokens


def content_fingerprint(title: str, text: str, *, min_tokens: int = DEFAULT_MIN_TOKENS) -> str | None:
    """Exact fingerprint of the normalized body, or None when it has under ``min_tokens`` words.

    ``title`` is accepted so callers pass the pair, and deliberately not hashed (see the
    module docstring). The value is a 32-hex-digit BLAKE2b digest.
    """
    tokens = body_tokens(text)
    if len(tokens) < min_tokens:
        return None
    return hashlib.blake2b(" ".join(tokens).encode("utf-8"), digest_size=16).hexdigest()


def shingles(text: str) -> frozenset[int]:
    """Stable 32-bit hashes of the body's word trigrams (one shingle for shorter bodies)."""
    return shingles_of(body_tokens(text))


def shingles_of(tokens: Sequence[str]) -> frozenset[int]:
    """Shingle hashes of already-made ``body_tokens``."""
    if not tokens:
        return frozenset()
    if len(tokens) < SHINGLE_SIZE:
        grams: list[str] = [" ".join(tokens)]
    else:
        columns = (tokens[offset:] for offset in range(SHINGLE_SIZE))
        grams = list(map(" ".join, zip(*columns, strict=False)))
    crcs = map(zlib.crc32, map(str.encode, grams))
    # map() over operator functions keeps the per-shingle work in C: lookups stay fast.
    return frozenset(map(and_, map(mul, crcs, repeat(_MIX)), repeat(_MASK)))


def signature(text: str, *, num_perm: int = DEFAULT_NUM_PERM) -> Signature:
    """MinHash signature of the body of ``text``."""
    return signature_of(shingles(text), num_perm=num_perm)


def signature_of(shingle_set: Set[int], *, num_perm: int = DEFAULT_NUM_PERM) -> Signature:
    """One-permutation MinHash of a shingle set, densified; see the module docstring."""
    descending = sorted(shingle_set, reverse=True)
    # Later keys win in a dict built from pairs, so each bin ends with its smallest hash.
    minima = dict(zip(map(mod, descending, repeat(num_perm)), descending, strict=True))
    values = [minima.get(slot, _EMPTY_BIN) for slot in range(num_perm)]
    if minima and len(minima) < num_perm:
        values = _densify(values)
    return Signature(struct.pack(f"<{num_perm}I", *values))


def signature_values(sig: Signature) -> tuple[int, ...]:
    """The unsigned 32-bit values of a stored signature."""
    return struct.unpack(f"<{len(sig) // 4}I", sig)


def jaccard(a: Set[int], b: Set[int]) -> float:
    """|a ∩ b| / |a ∪ b|; 0.0 when both are empty, so empty bodies never look alike."""
    if not a or not b:
        return 0.0
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def _is_boilerplate(words: list[str]) -> bool:
    if " ".join(words) in BOILERPLATE_PARAGRAPHS:
        return True
    short = len(words) <= _BOILERPLATE_MAX_TOKENS
    return short and any(tuple(words[: len(opening)]) == opening for opening in BOILERPLATE_OPENINGS)


def _densify(values: list[int]) -> list[int]:
    """Fill each empty bin from the next filled one to its right, scrambled by the distance."""
    size = len(values)
    filled = list(values)
    for slot, value in enumerate(values):
        if value != _EMPTY_BIN:
            continue
        distance = 1
        while values[(slot + distance) % size] == _EMPTY_BIN:
            distance += 1
        donor = values[(slot + distance) % size]
        filled[slot] = ((donor + distance * _ROTATE_MIX) * _MIX) & _MASK
    return filled
