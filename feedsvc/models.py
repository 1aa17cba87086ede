"""Values that cross a stage boundary, named for the stage that makes them.

    fetch    → FetchResult        bytes and validators of one HTTP response
    discover → FeedItem           one item of an RSS feed (or sitemap), with the site's id
    extract  → RawArticle         what one article page says, not yet cleaned
    normalize→ Article            the canonical, sanitized article that is stored and served
    store    → PollState          per-source polling state kept across restarts

All are frozen, slotted dataclasses; all datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One upstream response. ``status`` 304 means "not modified" and ``body`` is empty."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int
    body: bytes
    fetched_at: datetime
    content_type: str = ""
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    # Earliest time the upstream allows us to ask again (Cache-Control/Expires), if it said.
    fresh_until: datetime | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    caption: str = ""


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One article as announced by a feed; ``native_id`` is the site's own article id."""

    source: str
    native_id: str
    url: str  # canonical URL
    title: str
    summary: str = ""
    published: datetime | None = None
    image: Image | None = None
    section: str | None = None
    categories: tuple[str, ...] = ()
    author: str | None = None

    @property
    def article_id(self) -> str:
        return article_id(self.source, self.native_id)


@dataclass(frozen=True, slots=True)
class RawArticle:
    """What extraction found on one article page. Text is as the page had it."""

    url: str
    title: str | None = None
    summary: str | None = None
    body_html: str | None = None  # the body paragraphs as an HTML fragment, unsanitized
    credit: str | None = None  # "المصدر: نوفوستي" without the label: "نوفوستي"
    author: str | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()
    image: Image | None = None
    published: datetime | None = None
    modified: datetime | None = None
    language: str | None = None
    # Which extraction step supplied each field, e.g. {"title": "jsonld"}; for diagnostics.
    provenance: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Article:
    """The canonical article: what is stored, matched against topics and served."""

    id: str  # "<source>:<native id>", never derived from volatile fields
    source: str
    url: str
    title: str
    summary: str
    content_html: str  # sanitized, wrapped in <div dir="rtl" lang="ar">
    content_text: str
    published: datetime
    updated: datetime
    fetched_at: datetime
    content_hash: str
    author: str | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()
    image: Image | None = None
    language: str = "ar"
    credit: str | None = None
    aliases: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True, slots=True)
class DeletedEntry:
    """An article that left a feed (retracted, merged into a copy, no longer matching),
    and when: what an Atom tombstone (RFC 6721) and the JSON Feed's ``deleted`` list say."""

    article_id: str
    when: datetime


UPSERT = "upsert"  # FeedChange.op: the article is in the feed now, as it is now
DELETE = "delete"  # FeedChange.op: the article left the feed


@dataclass(frozen=True, slots=True)
class FeedChange:
    """One entry of the store's change log: the newest thing that happened to one article
    in one feed, at position ``seq``. An upsert carries the article and the topics it is
    in, as they are when the log is read (a later change to it moves it further down)."""

    seq: int
    op: str  # UPSERT or DELETE
    article_id: str
    at: datetime  # when it was written; never earlier than the entry before it
    article: Article | None = None  # an upsert's article
    topics: tuple[str, ...] = ()  # an upsert's topics, sorted


@dataclass(frozen=True, slots=True)
class PollState:
    """Where polling of one source stands; lives in the store so restarts resume."""

    source: str
    next_poll_at: datetime | None = None
    last_success_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    # Upstream validators per feed URL: ((url, etag, last_modified), ...)
    validators: tuple[tuple[str, str | None, str | None], ...] = ()
    # What each feed listed last time, newest first: ((url, (article id, ...)), ...);
    # an article that vanishes from the middle of a feed is re-checked for retraction.
    feed_items: tuple[tuple[str, tuple[str, ...]], ...] = ()
    last_backfill_at: datetime | None = None  # when the sitemap was last read for backfill


def article_id(source: str, native_id: str) -> str:
    """The stable id of an article: the source name and the site's own id."""
    return f"{source}:{native_id}"
