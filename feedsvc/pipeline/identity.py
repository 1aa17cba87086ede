"""The dedupe ladder in the pipeline: what the store and the near index say of an article.

The ladder itself is pure (``feedsvc.dedupe.ladder``) and asks synchronous questions;
this module asks the store first (by id, by alias, by fingerprint) and answers from
those prefetched replies, with the near-duplicate index held in memory. The index
covers articles published within twice the dedupe window of now, loaded from the
store on first use, so a restart loses no candidate.
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
        self._loaded = False

    async def resolve(self, article: Article, source: SourceSettings, now: datetime
                      ) -> tuple[Resolution, IdentityKeys]:
        await self._load(now)
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

    async def _load(self, now: datetime) -> None:
        if self._loaded:
            self.near.prune(now - 2 * self.policy.window)
            return
        self._loaded = True
        async for article in self.store.iter_articles(since=now - 2 * self.policy.window):
            self.remember(IdentityKeys(article.id, article.url, None, article.content_text,
                                       article.published))

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
