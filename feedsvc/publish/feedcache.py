"""Rendered feeds and topic pages: rendered when asked for, kept within a byte budget.

A change (the change channel's message) marks topics stale and costs no render:
the pages of those topics are dropped, and each is rendered again on its next
request, or, for the subscription documents that were being read, by one
background worker a moment later. Nothing is rendered ahead at start-up, and
nothing is rendered once per stored article: changes that arrive while a page
waits for the worker merge into one render.

The worker gives way to readers (``quiet``: it renders only once no request came
within the last second). A render on the serving CPU delays the requests that
arrive during it, and while readers are served a changed document is rendered by
its first request anyway, once however many ask; the worker is for the reader who
comes after a quiet spell. Measured during an ingest with polls in a process of
their own: the cached feed's p99 at 2.0× its idle p99 with the worker rendering
every second, 1.2× with it giving way (docs/benchmarks.md).

Rules that keep readers right:

* **Single flight.** Requests for a page that is being rendered wait for that
  render; one render serves them all.
* **Generations.** Each topic has a generation, bumped by every change. A render
  that started under an older generation is served to the requests that were
  waiting for it, but never kept, and a request that arrives after a change never
  joins it: nobody is handed a page older than a change they could have seen.
* **Bytes, not entries.** The subscription documents (first page, default size)
  and every other page (a cursor, a ``limit``) live in separate caches bounded by
  bytes (``server.cache_bytes``; other pages get a quarter), least recently used
  first out, so a crawl of thousands of distinct pages can never push out the
  pages subscribers read. Renders of other pages run a few at a time.
* **Through a store outage.** A subscription document dropped by a change (or
  overtaken by one while it rendered) is kept aside until it is rendered again: if
  the store fails that render, the document rendered before is served meanwhile, not
  an error.

Nothing of this process enters a page: the body comes from the store's rows, the ETag
from the body, Last-Modified from the store's change time (``FeedPages.render``), so
replicas sharing a store send the same bytes and headers for the same data.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime

from feedsvc.background import background
from feedsvc.config import ServerSettings
from feedsvc.errors import StoreError
from feedsvc.livetopics import LiveTopics
from feedsvc.logsetup import get_log
from feedsvc.metrics import Metrics
from feedsvc.publish.cursors import Cursors
from feedsvc.publish.feedpages import CONTENT_TYPES, FeedPages, FeedQuery
from feedsvc.publish.lru import ByteLRU
from feedsvc.publish.representation import Representation, encoded
from feedsvc.store import ALL_TOPIC, Store

log = get_log("feedsvc.publish")

CacheKey = tuple[str, str, int, str | None]  # slug, format, limit, cursor token
OTHER_PAGES_SHARE = 4  # other pages get 1/4 of the byte budget
DEFAULT_RENDERS = 4  # subscription documents rendered at once, at most
OTHER_RENDERS = 2  # other pages rendered at once, at most
WARM_DELAY = 1.0  # seconds the worker waits after a change, so a burst is one render
WARM_ENCODINGS = ("br", "gzip")


class FeedCache:
    def __init__(self, store: Store, topics: LiveTopics, server: ServerSettings,
                 clock: Callable[[], datetime], empty_updated: datetime, metrics: Metrics, *,
                 max_age: int, cursors: Cursors, deleted_max: int = 0,
                 quiet: Callable[[], Awaitable[None]] | None = None) -> None:
        self.topics = topics
        self._quiet = quiet  # returns once readers leave the CPU to the worker
        self.metrics = metrics
        self.clock = clock
        self.cursors = cursors  # the deployment's: issues next-page cursors and checks them
        self.pages = FeedPages(store, topics, server, clock, empty_updated, max_age=max_age,
                               cursors=cursors, deleted_max=deleted_max)
        budget = server.cache_bytes
        self._defaults: ByteLRU[CacheKey, Representation] = ByteLRU(
            budget - budget // OTHER_PAGES_SHARE, self._forget)
        self._others: ByteLRU[CacheKey, Representation] = ByteLRU(
            budget // OTHER_PAGES_SHARE, self._forget)
        # the fast path's index: (slug, format) → the subscription document and its key
        self._first: dict[tuple[str, str], tuple[CacheKey, Representation]] = {}
        self._keys: dict[str, set[CacheKey]] = {}  # the cached keys of each topic
        self._generations: dict[str, int] = {}
        self._inflight: dict[tuple[CacheKey, int], asyncio.Task[Representation]] = {}
        self._slots = {True: asyncio.Semaphore(DEFAULT_RENDERS),
                       False: asyncio.Semaphore(OTHER_RENDERS)}
        self._warm: dict[CacheKey, None] = {}  # default pages to render again, in order
        self._warm_wakeup = asyncio.Event()
        # subscription documents dropped by a change, until rendered again: served if
        # the store fails that render
        self._fallback: dict[CacheKey, Representation] = {}

    def known(self, slug: str) -> bool:
        return self.topics.known(slug)

    def default_limit(self, slug: str) -> int:
        return self.pages.default_limit(slug)

    @property
    def bytes(self) -> int:
        """Bytes held by every cached page."""
        return self._defaults.bytes + self._others.bytes

    # -- lookups (the fast path never touches the store) -------------------------------

    def first_page(self, slug: str, fmt: str) -> Representation | None:
        """The subscription document (no query parameters), if cached: one dict lookup.

        Unknown formats and topics are never in it; a topic removed a moment ago is
        checked too, since its pages are dropped only once the reload finishes.
        """
        entry = self._first.get((slug, fmt))
        if entry is None or not self.known(slug) or not self._fresh(entry[1]):
            return None
        self._defaults.touch(entry[0])  # read through the fast path: recently used
        return entry[1]

    def lookup(self, slug: str, fmt: str, limit: int, cursor_token: str | None
               ) -> Representation | None:
        key = (slug, fmt, limit, cursor_token)
        rendered = self._cache_of(key).get(key)
        return rendered if rendered is not None and self._fresh(rendered) else None

    async def get(self, slug: str, fmt: str, query: FeedQuery) -> Representation:
        """The page, from the cache or rendered (once, however many ask at a time)."""
        cached = self.lookup(slug, fmt, query.limit, query.cursor_token)
        if cached is not None:
            return cached
        key = (slug, fmt, query.limit, query.cursor_token)
        generation = self._generations.get(slug, 0)
        task = self._inflight.get((key, generation))
        if task is None:
            task = asyncio.create_task(self._render(key, generation, query))
            self._inflight[(key, generation)] = task
            task.add_done_callback(lambda _: self._inflight.pop((key, generation), None))
        # shielded: a client that hangs up does not cancel the render others wait for
        try:
            return await asyncio.shield(task)
        except StoreError:
            if (before := self._fallback.get(key)) is None:
                raise
            return before  # the store is away: the page as it was before the change

    # -- changes ---------------------------------------------------------------------

    async def invalidate(self, slugs: Collection[str]) -> None:
        """The change channel's message: these topics (and ``all``) changed. Their pages
        are dropped; the subscription documents that were cached are queued for the
        worker. Costs no render."""
        for slug in {*slugs, ALL_TOPIC}:
            self._generations[slug] = self._generations.get(slug, 0) + 1
            for key in list(self._keys.get(slug, ())):
                if (dropped := self._defaults.get(key)) is not None:
                    self._warm[key] = None
                    self._fallback[key] = dropped
                self._defaults.discard(key)
                self._others.discard(key)
        self.metrics.cache_bytes.set(self.bytes)
        if self._warm:
            self._warm_wakeup.set()

    def warming(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Run the worker that renders changed subscription documents again."""
        return background(self._warm_loop(), "feed-cache-warm")

    async def _warm_loop(self) -> None:
        while True:
            await self._warm_wakeup.wait()
            await asyncio.sleep(WARM_DELAY)  # let a burst of changes settle into one render
            self._warm_wakeup.clear()
            while self._warm:
                if self._quiet is not None:
                    await self._quiet()  # a request meanwhile may render it: checked below
                if not self._warm:
                    break
                key = next(iter(self._warm))
                del self._warm[key]
                slug, fmt, limit, _ = key
                if not self.known(slug) or self.lookup(slug, fmt, limit, None) is not None:
                    continue
                try:
                    rendered = await self.get(slug, fmt, FeedQuery(limit, None, None))
                    for coding in WARM_ENCODINGS:
                        await encoded(rendered, coding)
                except Exception as exc:  # the store failed: the next request renders it
                    log.warning("feeds.warm_failed", topic=slug, format=fmt, error=repr(exc))

    # -- rendering and keeping -------------------------------------------------------

    async def _render(self, key: CacheKey, generation: int, query: FeedQuery) -> Representation:
        slug, fmt, _, _ = key
        default = self._is_default(key)
        async with self._slots[default]:
            rendered = await self.pages.render(slug, fmt, query)
        self.metrics.renders.labels(fmt).inc()
        kept = self._generations.get(slug, 0) == generation and self.known(slug)
        if default:
            # a page a change overtook is not kept, but it is the newest there is
            # should the store fail the next render
            if kept:
                self._fallback.pop(key, None)
            else:
                self._fallback[key] = rendered
        if kept:
            cache = self._cache_of(key)
            rendered.on_grow = lambda: self._resize(cache, key, rendered.size)
            cache.put(key, rendered, rendered.size)
            self.metrics.cache_bytes.set(self.bytes)
            if key in cache:
                self._keys.setdefault(slug, set()).add(key)
                if default:
                    self._first[(slug, fmt)] = (key, rendered)
        return rendered

    def _resize(self, cache: ByteLRU[CacheKey, Representation], key: CacheKey, size: int) -> None:
        cache.resize(key, size)
        self.metrics.cache_bytes.set(self.bytes)

    def _forget(self, key: CacheKey) -> None:
        """A page left its cache (evicted, dropped, replaced): forget it everywhere."""
        slug, fmt, _, _ = key
        keys = self._keys.get(slug)
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self._keys[slug]
        if self._first.get((slug, fmt), (None,))[0] == key:
            del self._first[(slug, fmt)]

    def _is_default(self, key: CacheKey) -> bool:
        slug, fmt, limit, cursor = key
        return cursor is None and limit == self.default_limit(slug) and fmt in CONTENT_TYPES

    def _cache_of(self, key: CacheKey) -> ByteLRU[CacheKey, Representation]:
        return self._defaults if self._is_default(key) else self._others

    def _fresh(self, rendered: Representation) -> bool:
        """False once a topic's max_age has passed for the page's oldest article."""
        return rendered.stale_at is None or self.clock() < rendered.stale_at
