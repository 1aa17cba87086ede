"""The identity ladder: which stored article, if any, a fetched article is.

``resolve`` climbs four rungs and stops at the first that names a stored article:

1. ``id``: the site's own article id. Exact and authoritative: the site reaches one
   article through many URLs but gives it one id, and the id survives edits to the
   headline, the slug and the body. It is the cheapest lookup, so it goes first.
2. ``url``: the canonical URL, looked up among stored URLs and aliases. It catches
   links whose path carries no id, and URLs already recorded as aliases of a merge.
3. ``fingerprint``: the exact hash of the normalized body. The same story republished
   under a new id (a wire story filed again) has the same body; exact, so it needs no
   threshold, but only bodies of ``min_tokens`` words have one.
4. ``near``: the near-duplicate index. Republished stories with trivial edits; last,
   because it is probabilistic, the costliest, and its threshold is a judgment.

Otherwise the article is ``new``. On a content merge (rungs 3 and 4) the earliest
published article survives and the other's URL becomes its alias; when the incoming
article is the earlier one, the stored one is named in ``absorbed`` for the store to
fold into it. Titles never take part (see ``fingerprint``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from feedsvc.dedupe.fingerprint import content_fingerprint
from feedsvc.dedupe.near import NearMatch
from feedsvc.dedupe.policy import DedupePolicy
from feedsvc.models import article_id as make_article_id
from feedsvc.normalize.urls import canonical_url, native_id

Rung = Literal["id", "url", "fingerprint", "near", "new"]


@dataclass(frozen=True, slots=True)
class IdentityKeys:
    """Everything the ladder compares for one fetched article."""

    article_id: str  # "<source>:<native id>", or a URL-derived id when the URL has none
    canonical_url: str
    fingerprint: str | None  # None for bodies under min_tokens words
    text: str  # the body as plain text, for the near-duplicate rung
    published: datetime


@dataclass(frozen=True, slots=True)
class KnownArticle:
    """What the store says about one stored article."""

    article_id: str
    url: str
    published: datetime


@dataclass(frozen=True, slots=True)
class Resolution:
    """The decision: which article the candidate is, and which aliases to record."""

    article_id: str  # the surviving article: an existing id, or the candidate's own
    rung: Rung
    aliases_to_add: tuple[str, ...] = ()  # URLs to record as aliases of ``article_id``
    absorbed: str | None = None  # a stored article that is a later copy of the candidate


class NearFinder(Protocol):
    def find(
        self, text: str, published: datetime, *, window: timedelta, threshold: float,
        min_tokens: int, exclude: str | None = None,
    ) -> NearMatch | None: ...


class Lookups(Protocol):
    """What the store answers for the ladder; each returns None when nothing matches."""

    @property
    def near(self) -> NearFinder: ...

    def by_id(self, article_id: str) -> KnownArticle | None: ...

    def by_alias(self, url: str) -> KnownArticle | None:
        """The article stored under ``url`` as its URL or as one of its aliases."""

    def by_fingerprint(self, fingerprint: str) -> KnownArticle | None:
        """The earliest published article with this content fingerprint."""


def identity_keys(
    source: str, url: str, title: str, text: str, published: datetime, *, base_url: str,
    mirror_hosts: Iterable[str] = (), policy: DedupePolicy | None = None,
) -> IdentityKeys:
    """Build the keys of one fetched article; raises ``ParseError`` for a non-URL."""
    canonical = canonical_url(url, base_url=base_url, mirror_hosts=mirror_hosts)
    number = native_id(canonical)
    if number is None:  # no id in the path: name it by its canonical URL instead
        number = "u" + hashlib.blake2b(canonical.encode("utf-8"), digest_size=8).hexdigest()
    min_tokens = (policy or DedupePolicy()).min_tokens
    fingerprint = content_fingerprint(title, text, min_tokens=min_tokens)
    return IdentityKeys(make_article_id(source, number), canonical, fingerprint, text, published)


def resolve(candidate: IdentityKeys, lookups: Lookups, policy: DedupePolicy | None = None) -> Resolution:
    """Climb the ladder for ``candidate``; see the module docstring for the rungs."""
    policy = policy or DedupePolicy()
    known = lookups.by_id(candidate.article_id)
    if known is not None:
        return Resolution(known.article_id, "id", _alias(candidate.canonical_url, known))
    known = lookups.by_alias(candidate.canonical_url)
    if known is not None:
        return Resolution(known.article_id, "url")
    if candidate.fingerprint is not None:
        known = lookups.by_fingerprint(candidate.fingerprint)
        if known is not None:
            return _merge(candidate, known, "fingerprint")
    known = _near(candidate, lookups, policy)
    if known is not None:
        return _merge(candidate, known, "near")
    return Resolution(candidate.article_id, "new")


def _near(candidate: IdentityKeys, lookups: Lookups, policy: DedupePolicy) -> KnownArticle | None:
    match = lookups.near.find(
        candidate.text, candidate.published, window=policy.window, threshold=policy.threshold,
        min_tokens=policy.min_tokens, exclude=candidate.article_id,
    )
    return None if match is None else lookups.by_id(match.article_id)


def _merge(candidate: IdentityKeys, known: KnownArticle, rung: Rung) -> Resolution:
    if candidate.published < known.published:  # the candidate is the original
        return Resolution(candidate.article_id, rung, _alias(known.url, candidate), known.article_id)
    return Resolution(known.article_id, rung, _alias(candidate.canonical_url, known))


def _alias(url: str, survivor: KnownArticle | IdentityKeys) -> tuple[str, ...]:
    own_url = survivor.url if isinstance(survivor, KnownArticle) else survivor.canonical_url
    return () if url == own_url else (url,)
