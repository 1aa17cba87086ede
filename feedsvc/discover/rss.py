"""RSS 2.0 feeds of the site, read with feedparser (which salvages malformed XML)."""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import feedparser
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from feedsvc.errors import ParseError
from feedsvc.models import FeedItem, Image
from feedsvc.normalize.html import clean_text
from feedsvc.normalize.urls import canonical_url, native_id


@dataclass(frozen=True, slots=True)
class SiteIdentity:
    """What turns a link into an article identity: the source and its hosts."""

    source: str
    base_url: str
    mirror_hosts: tuple[str, ...] = ()

    def canonical(self, url: str) -> str:
        return canonical_url(url, base_url=self.base_url, mirror_hosts=self.mirror_hosts)


@dataclass(frozen=True, slots=True)
class RssDocument:
    items: tuple[FeedItem, ...]
    ttl: timedelta | None  # the channel's <ttl>: the feed asks not to be polled sooner
    salvaged: bool  # the XML was malformed and feedparser recovered what it could
    skipped: int  # items without a usable article link


def parse_rss(body: bytes, site: SiteIdentity, *, now: datetime) -> RssDocument:
    """Read one feed document; raises ParseError when nothing at all can be read."""
    parsed: Any = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    if parsed.bozo and not parsed.entries:
        raise ParseError(f"not a readable feed: {parsed.get('bozo_exception')}")
    if not parsed.entries and not parsed.feed:
        raise ParseError("not a feed: no channel and no items")
    items: dict[str, FeedItem] = {}
    skipped = 0
    for entry in parsed.entries:
        item = _item(entry, site, now)
        if item is None:
            skipped += 1
        else:
            items.setdefault(item.native_id, item)  # a feed listing an article twice: first wins
    return RssDocument(tuple(items.values()), _ttl(parsed.feed), bool(parsed.bozo), skipped)


def _item(entry: Any, site: SiteIdentity, now: datetime) -> FeedItem | None:
    # The guid (when it is a permalink) is the clean URL; the link may carry tracking
    # parameters or a mirror host. Either names the article through its numeric id.
    candidates = [entry.get("id"), entry.get("link")]
    for link in candidates:
        if link and (article := native_id(str(link))):
            url = site.canonical(str(link))
            title = clean_text(str(entry.get("title", "")))
            if not title:
                return None
            return FeedItem(
                source=site.source, native_id=article, url=url, title=title,
                summary=_text_of(entry.get("summary", "")), published=_published(entry, now),
                image=_image(entry), section=section_of(url),
                categories=tuple(_categories(entry.get("tags") or ())),
                author=clean_text(str(entry.get("author", ""))) or None,
            )
    return None


def _text_of(html: str) -> str:
    if not html:
        return ""
    tree = HTMLParser(html)
    return clean_text(tree.text(separator=" ") if tree.body else html)


def _published(entry: Any, now: datetime) -> datetime | None:
    parsed: time.struct_time | None = entry.get("published_parsed") or entry.get("updated_parsed")
    if parsed is None:
        return None
    moment = datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    return min(moment, now)  # never in the future


def _image(entry: Any) -> Image | None:
    for enclosure in entry.get("enclosures") or ():
        if str(enclosure.get("type", "image/")).startswith("image/") and enclosure.get("href"):
            return Image(str(enclosure["href"]))
    summary = entry.get("summary", "")
    node = HTMLParser(summary).css_first("img[src]") if summary else None
    return Image(str(node.attributes["src"])) if node is not None else None


def section_of(url: str) -> str | None:
    """The site section an article URL names (``/<section>/<id>-<slug>/``)."""
    parts = [p for p in urlsplit(url).path.split("/") if p]
    return parts[0] if len(parts) >= 2 else None


def _categories(tags: Iterable[Any]) -> Iterable[str]:
    for tag in tags:
        if term := clean_text(str(tag.get("term") or "")):
            yield term


def _ttl(channel: Any) -> timedelta | None:
    try:
        minutes = int(channel.get("ttl", ""))
    except (TypeError, ValueError):
        return None
    return timedelta(minutes=minutes) if minutes > 0 else None
