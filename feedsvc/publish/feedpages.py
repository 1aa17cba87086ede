"""One page of one topic, from the store to a representation ready to send.

A topic has three representations (:data:`CONTENT_TYPES`): its Atom feed, its JSON
Feed and its HTML page for people; all three are rendered from the same page of
articles. The store is read on the event loop (it is async); the renderers, which
are pure and CPU-bound, run in a worker thread, so a render never holds up the
requests being served meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from feedsvc.config import ServerSettings
from feedsvc.livetopics import LiveTopics
from feedsvc.publish.cursors import Cursors
from feedsvc.publish.representation import Representation, package
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
ALL_TITLE = "RT Arabic: كل الأخبار"
ALL_DESCRIPTION = "كل ما نشره الموقع، بلا تصفية."


@dataclass(frozen=True, slots=True)
class FeedQuery:
    """Which page of a feed a request asks for: its size and where it starts."""

    limit: int
    cursor: Cursor | None
    cursor_token: str | None


class FeedPages:
    """Renders a topic's pages; holds nothing between renders."""

    def __init__(self, store: Store, topics: LiveTopics, server: ServerSettings,
                 clock: Callable[[], datetime], empty_updated: datetime, *,
                 max_age: int, cursors: Cursors, deleted_max: int = 0) -> None:
        self.store = store
        self.cursors = cursors  # signs the next page's cursor
        self.topics = topics
        self.server = server
        self.urls = PublicUrls(server.public_url)
        self.clock = clock
        self.empty_updated = empty_updated
        self.max_age = max_age  # seconds clients may reuse a feed: the poll interval
        self.deleted_max = deleted_max  # deleted entries a feed's first page lists, at most

    def default_limit(self, slug: str) -> int:
        topic = self.topics.topics.get(slug)
        size = (topic.limit if topic else None) or self.server.feed_size
        return min(size, self.server.max_feed_size)

    async def render(self, slug: str, fmt: str, query: FeedQuery) -> Representation:
        """The page ``query`` names.

        Last-Modified is the later of its newest article's ``updated`` and when the topic
        last changed, as the store says: the same on every replica, and never going back
        (a retraction of the newest article moves the change time forward). It is read
        before the page, so a write between the two reads can only leave Last-Modified
        older than the body (and that write's change message renders it again), never
        newer, which would let If-Modified-Since keep a stale body.
        """
        topic = self.topics.topics.get(slug)
        since = self.clock() - topic.max_age if topic and topic.max_age else None
        changed_at = (await self.store.topic_stats([slug]))[slug].changed_at
        articles = await self.store.topic_page(slug, limit=query.limit, before=query.cursor,
                                               since=since)
        # what left the feed lately, on its first page: the one subscribers read
        deleted = await self.store.deleted_entries(slug, self.deleted_max) if (
            query.cursor is None and fmt in FORMATS and self.deleted_max) else []
        meta = self._meta(slug, fmt, query)
        next_url = None
        if len(articles) == query.limit:
            last = articles[-1]
            next_url = self._url(slug, fmt, query.limit,
                                 self.cursors.encode(slug, Cursor(last.published, last.id)))
        page = FeedPage(meta=meta, articles=tuple(articles), deleted=tuple(deleted),
                        next_url=next_url, first_url=self._url(slug, fmt, query.limit, None))
        last_modified = max([a.updated for a in articles] + [d.when for d in deleted],
                            default=self.empty_updated)
        if changed_at is not None:
            last_modified = max(last_modified, changed_at)
        headers = self._headers(meta.self_url, hub=fmt in FORMATS)
        representation = await asyncio.to_thread(
            self._render_and_package, page, fmt, last_modified, headers)
        if topic and topic.max_age and articles:
            # rendering happens on change, not on time: note when this page ages
            representation.stale_at = min(a.published for a in articles) + topic.max_age
        return representation

    def _render_and_package(self, page: FeedPage, fmt: str, last_modified: datetime,
                            headers: dict[str, str]) -> Representation:
        if fmt == "html":  # the one place a format chooses its renderer
            body = render_topic_page(page, site_title=self.server.site_title,
                                     index_url=self.urls.index())
        else:
            body = render_atom(page) if fmt == "atom" else render_json_feed(page)
        return package(body, CONTENT_TYPES[fmt], last_modified, headers)

    def item_meta(self) -> FeedMeta:
        """What an article's JSON Feed item depends on besides the article: the ``all``
        feed's, the same as every topic's in what an item shows."""
        return self._meta(ALL_TOPIC, "json", FeedQuery(self.default_limit(ALL_TOPIC), None, None))

    def _headers(self, self_url: str, *, hub: bool) -> dict[str, str]:
        headers = {
            "Cache-Control": f"public, max-age={self.max_age}",
            "Vary": "Accept-Encoding",
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Expose-Headers": "ETag, Last-Modified, Link",
        }
        # the hub is pinged for the feeds only, so only they announce it
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

