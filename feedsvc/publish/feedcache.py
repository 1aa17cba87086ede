"""Rendered feeds and topic pages, kept until their topic's content changes.

A topic has three representations (:data:`CONTENT_TYPES`): its Atom feed, its JSON
Feed and its HTML page for people; all three are rendered from the same page of
articles, cached, paged and revalidated alike.

A request is a dictionary lookup plus headers: bodies are rendered, compressed,
given a strong ETag and their complete response headers once, when the topic
changes (:meth:`FeedCache.invalidate` subscribes to the change channel, where the
pipeline and topic reloads publish), not per request.

A render reads the store, which may be written meanwhile; each topic has a
generation, bumped by :meth:`FeedCache.invalidate`, and a render that started
under an older generation is served to its own request but never cached, so a
stale page cannot outlive the change that made it stale.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import format_datetime

import brotli
from multidict import CIMultiDict, CIMultiDictProxy

from feedsvc.config import ServerSettings
from feedsvc.livetopics import LiveTopics
from feedsvc.models import Article
from feedsvc.publish.cursors import encode_cursor
from feedsvc.publish.urls import PublicUrls
from feedsvc.render import (
    FeedMeta,
    FeedPage,
    feed_id_for,
    render_atom,
    render_json_feed,
    render_topic_page,
)
from feedsvc.store import ALL_TOPIC, Cursor, Store

FORMATS = {"atom": "application/atom+xml; charset=utf-8",
           "json": "application/feed+json; charset=utf-8"}
# Every representation of a topic: the feeds, and its HTML page for people.
CONTENT_TYPES = {**FORMATS, "html": "text/html; charset=utf-8"}
ENCODINGS = ("br", "gzip", "identity")
ALL_TITLE = "RT Arabic: كل الأخبار"
ALL_DESCRIPTION = "كل ما نشره الموقع، بلا تصفية."
MAX_CACHED = 2000
CacheKey = tuple[str, str, int, str | None]


@dataclass(frozen=True, slots=True)
class FeedQuery:
    """Which page of a feed a request asks for: its size and where it starts."""

    limit: int
    cursor: Cursor | None
    cursor_token: str | None


@dataclass(frozen=True, slots=True)
class RenderedFeed:
    """One feed document, ready to send: each encoding's body and every header."""

    etag: str
    last_modified: datetime
    bodies: dict[str, bytes]  # by content coding: br, gzip, identity
    full_headers: dict[str, CIMultiDictProxy[str]]  # 200 response headers, by coding
    not_modified_headers: CIMultiDictProxy[str]  # 304 response headers
    # when the oldest article shown passes the topic's max_age: the page must be redone
    stale_at: datetime | None = None


class FeedCache:
    def __init__(self, store: Store, topics: LiveTopics, server: ServerSettings,
                 clock: Callable[[], datetime], empty_updated: datetime, *,
                 max_age: int) -> None:
        self.store = store
        self.topics = topics
        self.server = server
        self.urls = PublicUrls(server.public_url)
        self.clock = clock
        self.empty_updated = empty_updated
        self.max_age = max_age  # seconds clients may reuse a feed: the poll interval
        self._entries: dict[CacheKey, RenderedFeed] = {}
        self._first: dict[tuple[str, str], RenderedFeed] = {}  # default pages, by (slug, fmt)
        self._generations: dict[str, int] = {}
        # When each topic last changed while this process ran: a retraction removes the
        # newest article, and Last-Modified must not go back (If-Modified-Since would 304).
        self._changed_at: dict[str, datetime] = {}

    def known(self, slug: str) -> bool:
        return self.topics.known(slug)

    def default_limit(self, slug: str) -> int:
        topic = self.topics.topics.get(slug)
        size = (topic.limit if topic else None) or self.server.feed_size
        return min(size, self.server.max_feed_size)

    def first_page(self, slug: str, fmt: str) -> RenderedFeed | None:
        """The subscription document (no query parameters), if rendered: one dict lookup.

        Unknown formats and topics are never in it; a topic removed a moment ago is
        checked too, since its pages are dropped only once the reload finishes.
        """
        rendered = self._first.get((slug, fmt))
        if rendered is None or not self.known(slug):
            return None
        return self._fresh(rendered)

    def lookup(self, slug: str, fmt: str, limit: int, cursor_token: str | None
               ) -> RenderedFeed | None:
        """The cached document, or None: the fast path, which never touches the store."""
        return self._fresh(self._entries.get((slug, fmt, limit, cursor_token)))

    def _fresh(self, rendered: RenderedFeed | None) -> RenderedFeed | None:
        """The page unless a topic's max_age has passed for its oldest article."""
        if rendered is None or (rendered.stale_at is not None and self.clock() >= rendered.stale_at):
            return None
        return rendered

    async def get(self, slug: str, fmt: str, query: FeedQuery) -> RenderedFeed:
        cached = self.lookup(slug, fmt, query.limit, query.cursor_token)
        if cached is not None:
            return cached
        generation = self._generations.get(slug, 0)
        rendered = await self._render(slug, fmt, query)
        if self._generations.get(slug, 0) == generation:
            if len(self._entries) >= MAX_CACHED:
                self._entries.clear()  # crude but bounded; pages are re-rendered on demand
            self._entries[(slug, fmt, query.limit, query.cursor_token)] = rendered
            if query.cursor_token is None and query.limit == self.default_limit(slug):
                self._first[(slug, fmt)] = rendered
        return rendered

    async def invalidate(self, slugs: Collection[str]) -> None:
        """Forget every page of these topics (and ``all``), then render their first pages."""
        changed = {*slugs, ALL_TOPIC}
        now = self.clock()
        for slug in changed:
            self._generations[slug] = self._generations.get(slug, 0) + 1
            self._changed_at[slug] = now
        for key in [k for k in self._entries if k[0] in changed]:
            del self._entries[key]
        for first in [k for k in self._first if k[0] in changed]:
            del self._first[first]
        for slug in sorted(changed):
            if self.known(slug):
                for fmt in CONTENT_TYPES:
                    await self.get(slug, fmt, FeedQuery(self.default_limit(slug), None, None))

    async def _render(self, slug: str, fmt: str, query: FeedQuery) -> RenderedFeed:
        topic = self.topics.topics.get(slug)
        since = self.clock() - topic.max_age if topic and topic.max_age else None
        articles = await self.store.topic_page(slug, limit=query.limit, before=query.cursor,
                                               since=since)
        meta = self._meta(slug, fmt, query)
        next_url = None
        if len(articles) == query.limit:
            last = articles[-1]
            next_url = self._url(slug, fmt, query.limit, encode_cursor(Cursor(last.published, last.id)))
        page = FeedPage(meta=meta, articles=tuple(articles), next_url=next_url,
                        first_url=self._url(slug, fmt, query.limit, None))
        body = self._render_body(page, fmt)
        last_modified = _last_modified(articles, self.empty_updated)
        if slug in self._changed_at:
            last_modified = max(last_modified, self._changed_at[slug])
        rendered = self._package(body, fmt, meta.self_url, last_modified)
        if topic and topic.max_age and articles:
            # rendering happens on change, not on time: note when this page ages
            oldest = min(article.published for article in articles)
            rendered = replace(rendered, stale_at=oldest + topic.max_age)
        return rendered

    def _render_body(self, page: FeedPage, fmt: str) -> bytes:
        """The one place a format chooses its renderer."""
        if fmt == "html":
            return render_topic_page(page, site_title=self.server.site_title,
                                     index_url=self.urls.index())
        return render_atom(page) if fmt == "atom" else render_json_feed(page)

    def _package(self, body: bytes, fmt: str, self_url: str, last_modified: datetime
                 ) -> RenderedFeed:
        bodies = {"br": brotli.compress(body, quality=5),
                  "gzip": gzip.compress(body, compresslevel=6, mtime=0), "identity": body}
        etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
        # the hub is pinged for the feeds only, so only they announce it
        common = self._common_headers(etag, last_modified, self_url, hub=fmt in FORMATS)
        full = {}
        for coding in ENCODINGS:
            headers = CIMultiDict(common)
            headers["Content-Type"] = CONTENT_TYPES[fmt]
            if coding != "identity":
                headers["Content-Encoding"] = coding
            full[coding] = CIMultiDictProxy(headers)
        return RenderedFeed(etag=etag, last_modified=last_modified, bodies=bodies,
                            full_headers=full, not_modified_headers=CIMultiDictProxy(common))

    def _common_headers(self, etag: str, last_modified: datetime, self_url: str, *,
                        hub: bool) -> CIMultiDict[str]:
        headers: CIMultiDict[str] = CIMultiDict({
            "ETag": etag,
            "Last-Modified": format_datetime(last_modified, usegmt=True),
            "Cache-Control": f"public, max-age={self.max_age}",
            "Vary": "Accept-Encoding",
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Expose-Headers": "ETag, Last-Modified, Link",
        })
        if hub and self.server.hub_url:
            headers["Link"] = f'<{self.server.hub_url}>; rel="hub", <{self_url}>; rel="self"'
        return headers

    def _meta(self, slug: str, fmt: str, query: FeedQuery) -> FeedMeta:
        public = self.server.public_url
        topic = self.topics.topics.get(slug)
        topic_page = self.urls.topic_page(slug)
        return FeedMeta(
            slug=slug, title=topic.title if topic else ALL_TITLE,
            description=topic.description if topic else ALL_DESCRIPTION,
            feed_id=feed_id_for(public, slug), public_url=public,
            self_url=self._url(slug, fmt, query.limit, query.cursor_token),
            alternate_url=topic_page, home_page_url=topic_page,
            json_url=self.urls.feed(slug, "json"), atom_url=self.urls.feed(slug, "atom"),
            empty_updated=self.empty_updated, hub=self.server.hub_url or None,
        )

    def _url(self, slug: str, fmt: str, limit: int, cursor: str | None) -> str:
        """A page's URL: ``limit`` only when it is not the feed's default."""
        shown = None if limit == self.default_limit(slug) else limit
        return self.urls.document(slug, fmt, limit=shown, cursor=cursor)


def _last_modified(articles: list[Article], empty_updated: datetime) -> datetime:
    return max((a.updated for a in articles), default=empty_updated)
