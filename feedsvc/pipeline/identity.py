"""The dedupe ladder in the pipeline: what the store and the near index say of an article.

The ladder itself is pure (``feedsvc.dedupe.ladder``) and asks synchronous questions;
this module asks the store first (by id, by alias, by fingerprint) and answers from
those prefetched replies, with the near-duplicate index held in memory.

The index holds every stored article published since ``covered_from``. Before an
article is resolved the span is widened, from the store, to reach one dedupe
window before the article's own publication time: the candidates a copy must be
compared with depend on when the copy was published, not on when feedsvc runs.
(Covering from "now" lost the original of a week-old copy after a restart, and
stored the copy twice.) Pruning keeps the index to recent articles; an older one
loads its span again, with one extra window of slack so a run of older articles
reads the store once, not once each.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from feedsvc.config import DedupeSettings, SourceSettings
from feedsvc.dedupe import (
    DedupePolicy,
    IdentityKeys,
    KnownArticle,
    NearDuplicateIndex,
    NearMatch,
    Resolution,
    identity_keys,
    resolve,
)
from feedsvc.dedupe.fingerprint import body_tokens, shingles_of, signature_of
from feedsvc.models import Article
from feedsvc.store import Store


@dataclass(frozen=True, slots=True)
class _Answered:
    """The near-duplicate search, run once before the ladder asks for it."""

    match: NearMatch | None

    def find(self, text: str, published: datetime, *, window: timedelta, threshold: float,
             min_tokens: int, exclude: str | None = None) -> NearMatch | None:
        return self.match


@dataclass(frozen=True, slots=True)
class _Prefetched:
    """The ladder's ``Lookups``, answered from replies fetched before it runs."""

    near: _Answered
    known: tuple[KnownArticle, ...]  # every stored article a rung may name
    aliased: KnownArticle | None
    fingerprinted: KnownArticle | None

    def by_id(self, article_id: str) -> KnownArticle | None:
        return next((k for k in self.known if k.article_id == article_id), None)

    def by_alias(self, url: str) -> KnownArticle | None:
        return self.aliased

    def by_fingerprint(self, fingerprint: str) -> KnownArticle | None:
        return self.fingerprinted


class Identity:
    def __init__(self, store: Store, settings: DedupeSettings) -> None:
        self.store = store
        self.policy: DedupePolicy = settings
        self.near = NearDuplicateIndex(self.policy)
        self.covered_from: datetime | None = None  # every stored article since then is indexed

    async def resolve(self, article: Article, source: SourceSettings, now: datetime
                      ) -> tuple[Resolution, IdentityKeys]:
        await self._cover(article.published, now)
        keys = identity_keys(article.source, article.url, article.title, article.content_text,
                             article.published, base_url=source.base_url,
                             mirror_hosts=source.mirror_hosts, policy=self.policy)
        keys = IdentityKeys(article.id, keys.canonical_url, keys.fingerprint, keys.text,
                            keys.published)
        merged_into = await self.store.resolve_alias(f"id:{article.id}")
        if merged_into is not None and merged_into != article.id:
            # a copy merged earlier: it stays folded into its survivor
            return Resolution(merged_into, "url"), keys
        own = await self._known(article.id)
        aliased = await self._by_alias(keys.canonical_url)
        fingerprinted = await self._by_fingerprint(keys.fingerprint)
        match = None
        if own is None and aliased is None and fingerprinted is None:  # only then is it asked
            match = self.near.find(keys.text, keys.published, window=self.policy.window,
                                   threshold=self.policy.threshold,
                                   min_tokens=self.policy.min_tokens, exclude=article.id)
        matched = await self._known(match.article_id) if match else None
        known = tuple(k for k in (own, aliased, fingerprinted, matched) if k is not None)
        lookups = _Prefetched(_Answered(match), known, aliased, fingerprinted)
        return resolve(keys, lookups, self.policy), keys

    def remember(self, keys: IdentityKeys) -> None:
        tokens = body_tokens(keys.text)
        if len(tokens) >= self.policy.min_tokens:
            shingle_set = shingles_of(tokens)
            self.near.add(keys.article_id, signature_of(shingle_set, num_perm=self.policy.num_perm),
                          shingle_set, keys.published)

    def forget(self, article_id: str) -> None:
        self.near.remove(article_id)

    async def _cover(self, published: datetime, now: datetime) -> None:
        """Index every stored article a copy published at ``published`` may be compared with."""
        window = self.policy.window
        recent = now - 2 * window
        if self.covered_from is not None and self.covered_from < recent <= published - window:
            self.near.prune(recent)  # keep memory to the recent articles
            self.covered_from = recent
        needed = published - window
        if self.covered_from is not None and self.covered_from <= needed:
            return
        start = min(needed - window, recent)
        async for article in self.store.iter_articles(since=start):
            if article.id not in self.near:
                self.remember(IdentityKeys(article.id, article.url, None, article.content_text,
                                           article.published))
        self.covered_from = start

    async def _known(self, article_id: str) -> KnownArticle | None:
        article = await self.store.get_article(article_id)
        return _known(article)

    async def _by_alias(self, url: str) -> KnownArticle | None:
        article_id = await self.store.resolve_alias(url)
        return _known(await self.store.get_article(article_id)) if article_id else None

    async def _by_fingerprint(self, fingerprint: str | None) -> KnownArticle | None:
        return _known(await self.store.by_fingerprint(fingerprint)) if fingerprint else None


def _known(article: Article | None) -> KnownArticle | None:
    return KnownArticle(article.id, article.url, article.published) if article else None
