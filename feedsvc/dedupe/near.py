"""In-memory near-duplicate index: MinHash LSH banding, confirmed by exact Jaccard.

Why MinHash LSH rather than SimHash: the confirmation step needs the Jaccard
similarity of shingle sets anyway, and MinHash estimates exactly that, so one
threshold (``DedupePolicy.threshold``) means the same thing at both steps; the
banding's candidate curve (``DedupePolicy.candidate_probability``) is explicit,
while SimHash's Hamming distance relates to Jaccard only loosely.

Each band of ``rows`` signature values is a bucket key; bodies sharing any bucket
are candidates, and a candidate counts only when it was published within
``window`` of the query and its exact shingle Jaccard reaches ``threshold``.

Memory per article (CPython 3.11, 64-bit, ``num_perm`` 128, 32 bands, a body of
about 400 words): the shingles as a sorted ``array('I')`` (4 bytes a shingle,
about 1.6 KB), the signature (512 bytes), 32 bucket keys of 16 bytes and their
dict slots (about 3.5 KB), the entry itself (about 0.2 KB): about 6 KB. The index
holds what ``prune`` has not dropped; pruning at the dedupe window keeps it to the
articles of that window (a few thousand). ``docs/benchmarks.md`` has figures.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Set
from dataclasses import dataclass
from datetime import datetime, timedelta

from feedsvc.dedupe.fingerprint import Signature, body_tokens, shingles_of, signature_of
from feedsvc.dedupe.policy import DedupePolicy


@dataclass(frozen=True, slots=True)
class NearMatch:
    """A stored article whose body is a confirmed near-duplicate of the query."""

    article_id: str
    similarity: float  # exact Jaccard of the shingle sets
    published: datetime


@dataclass(frozen=True, slots=True)
class _Entry:
    signature: Signature
    shingles: array[int]  # sorted, unique
    published: datetime


class NearDuplicateIndex:
    """Bodies of recent articles, searchable by content similarity."""

    def __init__(self, policy: DedupePolicy | None = None) -> None:
        self.policy = policy or DedupePolicy()
        self._band_bytes = self.policy.rows * 4
        self._entries: dict[str, _Entry] = {}
        self._buckets: list[dict[bytes, str | list[str]]] = [{} for _ in range(self.policy.bands)]

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._entries

    def add(self, article_id: str, sig: Signature, body: str | Set[int], published: datetime) -> bool:
        """Index one article body (text, or its ``shingles``); re-adding replaces it.

        Returns False, indexing nothing, for an empty body. ``sig`` must come from
        ``signature``/``signature_of`` with this index's ``num_perm``.
        """
        if len(sig) != self.policy.num_perm * 4:
            raise ValueError(f"signature has {len(sig) // 4} values, index expects {self.policy.num_perm}")
        shingle_set = shingles_of(body_tokens(body)) if isinstance(body, str) else body
        self.remove(article_id)
        if not shingle_set:
            return False
        self._entries[article_id] = _Entry(sig, array("I", sorted(shingle_set)), published)
        for bucket, key in zip(self._buckets, self._band_keys(sig), strict=True):
            _bucket_add(bucket, key, article_id)
        return True

    def remove(self, article_id: str) -> None:
        """Forget one article; unknown ids are ignored."""
        entry = self._entries.pop(article_id, None)
        if entry is None:
            return
        for bucket, key in zip(self._buckets, self._band_keys(entry.signature), strict=True):
            _bucket_discard(bucket, key, article_id)

    def prune(self, published_before: datetime) -> int:
        """Forget every article published before the given time; returns how many."""
        old = [aid for aid, entry in self._entries.items() if entry.published < published_before]
        for article_id in old:
            self.remove(article_id)
        return len(old)

    def find(
        self, text: str, published: datetime, *, window: timedelta, threshold: float,
        min_tokens: int, exclude: str | None = None,
    ) -> NearMatch | None:
        """The earliest published confirmed near-duplicate of ``text``, or None.

        Bodies under ``min_tokens`` words never match. ``exclude`` skips one article id
        (the query's own, when it is already indexed).
        """
        tokens = body_tokens(text)
        if len(tokens) < min_tokens:
            return None
        return self.find_shingles(
            shingles_of(tokens), published, window=window, threshold=threshold, exclude=exclude
        )

    def find_shingles(
        self, shingle_set: Set[int], published: datetime, *, window: timedelta,
        threshold: float, exclude: str | None = None,
    ) -> NearMatch | None:
        """As ``find``, for a body already shingled; the caller applies ``min_tokens``."""
        query = frozenset(shingle_set)
        sig = signature_of(query, num_perm=self.policy.num_perm)
        confirmed: list[NearMatch] = []
        for article_id in self._candidates(sig):
            entry = self._entries[article_id]
            if article_id == exclude or abs(entry.published - published) > window:
                continue
            similarity = _jaccard_sorted(query, entry.shingles)
            if similarity >= threshold:
                confirmed.append(NearMatch(article_id, similarity, entry.published))
        # The earliest published survives; ties go to the closer text, then the smaller id.
        return min(confirmed, key=lambda m: (m.published, -m.similarity, m.article_id), default=None)

    def _candidates(self, sig: Signature) -> set[str]:
        found: set[str] = set()
        for bucket, key in zip(self._buckets, self._band_keys(sig), strict=True):
            hit = bucket.get(key)
            if hit is None:
                continue
            if isinstance(hit, str):
                found.add(hit)
            else:
                found.update(hit)
        return found

    def _band_keys(self, sig: Signature) -> Iterator[bytes]:
        step = self._band_bytes
        return (sig[start : start + step] for start in range(0, len(sig), step))


def _jaccard_sorted(query: frozenset[int], stored: array[int]) -> float:
    common = len(query.intersection(stored))
    union = len(query) + len(stored) - common
    return common / union if union else 0.0


# A bucket holds one id as a bare string (the common case, no list overhead) or a list.
def _bucket_add(bucket: dict[bytes, str | list[str]], key: bytes, article_id: str) -> None:
    held = bucket.get(key)
    if held is None:
        bucket[key] = article_id
    elif isinstance(held, str):
        bucket[key] = [held, article_id]
    else:
        held.append(article_id)


def _bucket_discard(bucket: dict[bytes, str | list[str]], key: bytes, article_id: str) -> None:
    held = bucket.get(key)
    if held == article_id:
        del bucket[key]
    elif isinstance(held, list) and article_id in held:
        held.remove(article_id)
        if len(held) == 1:
            bucket[key] = held[0]
