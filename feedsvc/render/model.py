"""The values the web layer hands to rendering: one page of one topic feed,
and one summary line per topic for the index page and the OPML list.

A :class:`FeedPage` describes one document in one format: ``meta.self_url``
and the paging URLs point at documents of the format being rendered.
All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from feedsvc.models import Article, DeletedEntry


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedMeta:
    """What is constant about a topic feed, whatever page or format is rendered."""

    slug: str
    title: str
    description: str
    feed_id: str  # from feed_id_for(public_url, slug); never the request URL
    public_url: str  # the configured public base URL; entry ids take its host
    self_url: str  # public URL of the document being rendered (this page, this format)
    alternate_url: str  # the human page about this topic (its topic page)
    home_page_url: str  # JSON Feed "home_page_url"; usually the same page
    json_url: str  # the JSON Feed subscription URL (first page)
    atom_url: str  # the Atom subscription URL (first page)
    empty_updated: datetime  # atom:updated of a feed without entries; never "now"
    language: str = "ar"
    author_name: str = "RT Arabic"
    icon: str | None = None  # square image; Atom icon and JSON Feed icon
    favicon: str | None = None  # small image; JSON Feed favicon
    hub: str | None = None  # WebSub hub, announced when configured


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedPage:
    """One page of a topic feed: its articles in the order to show them.

    Paging follows RFC 5005. Pages cut by a cursor change as articles arrive,
    so they are *paged feeds* (section 3: ``first``, ``next``, ``previous``,
    ``last``). The archive relations (section 4) are for documents the caller
    guarantees never change; set ``archive`` only on such a document.
    """

    meta: FeedMeta
    articles: tuple[Article, ...]
    # articles that left the feed lately, newest first (the subscription document only)
    deleted: tuple[DeletedEntry, ...] = ()
    first_url: str | None = None  # the newest page, i.e. the subscription document
    next_url: str | None = None  # the page of older articles
    previous_url: str | None = None  # the page of newer articles
    last_url: str | None = None  # the page of the oldest articles
    current_url: str | None = None  # from an archive: the subscription document
    prev_archive_url: str | None = None  # the archive of older articles
    next_archive_url: str | None = None  # the archive of newer articles
    archive: bool = False  # this document is an immutable archive (fh:archive)

    def paging_links(self) -> tuple[tuple[str, str], ...]:
        """``(rel, href)`` for every paging URL given, in a fixed order."""
        candidates = (
            ("first", self.first_url),
            ("previous", self.previous_url),
            ("next", self.next_url),
            ("last", self.last_url),
            ("current", self.current_url),
            ("prev-archive", self.prev_archive_url),
            ("next-archive", self.next_archive_url),
        )
        return tuple((rel, href) for rel, href in candidates if href)


@dataclass(frozen=True, slots=True)
class TopicSummary:
    """One topic as the index page and the OPML list show it."""

    slug: str
    title: str
    description: str
    count: int  # articles in the topic
    updated: datetime | None  # newest article's `updated`; None while empty
    atom_url: str
    json_url: str
    page_url: str | None = None  # the topic's own HTML page, when it has one


@dataclass(frozen=True, slots=True)
class IndexPaging:
    """Where one page of the index sits among the others, when there is more than one."""

    page: int  # 1-based
    pages: int
    previous_url: str | None
    next_url: str | None
