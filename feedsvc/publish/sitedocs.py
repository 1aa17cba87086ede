"""The documents about every topic: the index page (paged), the OPML list and
``/api/topics``. Each costs time in proportion to the number of topics, so each is
rendered once and kept, like a feed (ETag, 304, compression on first request).

A kept document is redone when the topics in force change (a reload: titles, new
and removed topics), at once, and when the counts it shows moved, but no sooner
than ``count_lag`` (10 s, or the poll interval if shorter) after it was rendered:
counts may lag that long, and a flood of changes during a large ingest costs one
render in that time, not one a change. Concurrent requests share one render.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson

from feedsvc.config import ServerSettings
from feedsvc.livetopics import LiveTopics
from feedsvc.metrics import Metrics
from feedsvc.publish.feedpages import ALL_DESCRIPTION, ALL_TITLE
from feedsvc.publish.representation import Representation, package
from feedsvc.publish.urls import PublicUrls
from feedsvc.render import IndexPaging, TopicSummary, render_index, render_opml
from feedsvc.store import ALL_TOPIC, Store

TOPICS_PER_PAGE = 100  # the index lists this many topics a page ("all" heads the first)
HTML = "text/html; charset=utf-8"
OPML = "text/x-opml; charset=utf-8"
JSON = "application/json"


@dataclass(slots=True)
class _Kept:
    representation: Representation
    topics_version: int
    rendered_at: datetime


class SiteDocuments:
    def __init__(self, store: Store, topics: LiveTopics, server: ServerSettings,
                 clock: Callable[[], datetime], empty_updated: datetime, metrics: Metrics, *,
                 count_lag: timedelta, max_age: int) -> None:
        self.store = store
        self.metrics = metrics
        self.topics = topics
        self.server = server
        self.urls = PublicUrls(server.public_url)
        self.clock = clock
        self.empty_updated = empty_updated
        self.count_lag = count_lag
        self.max_age = max_age
        self._kept: dict[tuple[str, int], _Kept] = {}
        self._inflight: dict[tuple[str, int], asyncio.Task[Representation]] = {}
        self._counts_moved_at: datetime | None = None

    def pages(self) -> int:
        """How many pages the index has (at least one)."""
        return max(1, -(-len(self.topics.topics) // TOPICS_PER_PAGE))

    async def index(self, page: int) -> Representation:
        return await self._get(("index", page), lambda: self._render_index(page))

    async def opml(self) -> Representation:
        return await self._get(("opml", 0), self._render_opml)

    async def api_topics(self) -> Representation:
        return await self._get(("api", 0), self._render_api)

    async def changed(self, topics: frozenset[str]) -> None:
        """The change channel's message: the counts these documents show may have moved."""
        self._counts_moved_at = self.clock()

    async def _get(self, key: tuple[str, int],
                   render: Callable[[], Awaitable[Representation]]) -> Representation:
        kept = self._kept.get(key)
        if kept is not None and self._fresh(kept):
            return kept.representation
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._render(key, render))
            self._inflight[key] = task
            task.add_done_callback(lambda _: self._inflight.pop(key, None))
        return await asyncio.shield(task)

    async def _render(self, key: tuple[str, int],
                      render: Callable[[], Awaitable[Representation]]) -> Representation:
        version, started = self.topics.version, self.clock()
        representation = await render()
        self.metrics.renders.labels(key[0]).inc()
        if key[0] == "index" and len(self._kept) > self.pages() + 2:
            self._kept = {k: v for k, v in self._kept.items() if k[1] <= self.pages()}
        self._kept[key] = _Kept(representation, version, started)
        return representation

    def _fresh(self, kept: _Kept) -> bool:
        if kept.topics_version != self.topics.version:
            return False
        moved = self._counts_moved_at
        return moved is None or moved < kept.rendered_at or (
            self.clock() < kept.rendered_at + self.count_lag)

    # -- the documents ---------------------------------------------------------------

    async def _summaries(self) -> list[TopicSummary]:
        topics = self.topics.topics
        stats = await self.store.topic_stats([*topics, ALL_TOPIC])
        entries = [(ALL_TOPIC, ALL_TITLE, ALL_DESCRIPTION)]
        entries += [(slug, t.title, t.description) for slug, t in topics.items()]
        return [TopicSummary(slug, title, description, stats[slug].count, stats[slug].updated,
                             self.urls.feed(slug, "atom"), self.urls.feed(slug, "json"),
                             page_url=self.urls.topic_page(slug))
                for slug, title, description in entries]

    async def _render_index(self, page: int) -> Representation:
        summaries = await self._summaries()
        pages = self.pages()
        start = (page - 1) * TOPICS_PER_PAGE
        # "all" heads the first page, then the topics in the order of the file
        shown = summaries[:1] + summaries[1 + start:1 + start + TOPICS_PER_PAGE] if page == 1 \
            else summaries[1 + start:1 + start + TOPICS_PER_PAGE]
        paging = IndexPaging(
            page, pages,
            previous_url=self.urls.index_page(page - 1) if page > 1 else None,
            next_url=self.urls.index_page(page + 1) if page < pages else None)
        body = await asyncio.to_thread(
            render_index, shown, site_title=self.server.site_title,
            opml_url=self.urls.opml(), paging=paging)
        return self._package(body, HTML, summaries)

    async def _render_opml(self) -> Representation:
        summaries = await self._summaries()
        body = await asyncio.to_thread(
            render_opml, summaries[1:] + summaries[:1], title=self.server.site_title,
            owner_url=self.urls.index(),
            date_created=self._newest(summaries))
        return self._package(body, OPML, summaries)

    async def _render_api(self) -> Representation:
        summaries = await self._summaries()
        body = await asyncio.to_thread(orjson.dumps, {"topics": [
            {"slug": s.slug, "title": s.title, "description": s.description, "count": s.count,
             "updated": _iso(s.updated), "feeds": {"atom": s.atom_url, "json": s.json_url},
             "page": s.page_url}
            for s in summaries[1:] + summaries[:1]]})  # "all" last, as it always was
        return self._package(body, JSON, summaries)

    def _package(self, body: bytes, content_type: str,
                 summaries: list[TopicSummary]) -> Representation:
        # the newest article anywhere: the same on every replica, never a render time
        return package(body, content_type, self._newest(summaries), {
            "Cache-Control": f"public, max-age={self.max_age}",
            "Vary": "Accept-Encoding",
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Expose-Headers": "ETag, Last-Modified",
        })

    def _newest(self, summaries: list[TopicSummary]) -> datetime:
        return max((s.updated for s in summaries if s.updated), default=self.empty_updated)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
