"""Backfill from the sitemap: articles that fell off the RSS window before we saw them.

Run at most every ``backfill_interval`` per source, bounded by ``backfill_max_age``
and by the poll's page budget. Sitemap entries carry no title; the page supplies it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from feedsvc.config import SourceSettings
from feedsvc.discover import SiteIdentity
from feedsvc.discover.rss import section_of
from feedsvc.discover.sitemap import SitemapEntry, backfill_candidates, parse_sitemap
from feedsvc.errors import FetchError, ParseError
from feedsvc.logsetup import get_log
from feedsvc.models import FeedItem, FetchResult
from feedsvc.normalize.urls import native_id
from feedsvc.store import Store

log = get_log("feedsvc.pipeline")

Get = Callable[[str], Awaitable[FetchResult]]


def backfill_due(source: SourceSettings, last: datetime | None, now: datetime) -> bool:
    return bool(source.backfill_max_age) and (last is None or now - last >= source.backfill_interval)


async def sitemap_items(source: SourceSettings, get: Get, store: Store, *, now: datetime,
                        limit: int) -> list[FeedItem]:
    """Articles listed by the sitemap within the age bound that are not stored yet,
    newest first, at most ``limit``; fetch and parse errors are logged, never raised."""
    site = SiteIdentity(source.name, source.base_url, source.mirror_hosts)
    entries: list[SitemapEntry] = []
    for sitemap_url in await _sitemaps(source, get, now):
        entries += await _read(sitemap_url, source, get, now)
    items: list[FeedItem] = []
    for entry in sorted(entries, key=lambda e: e.lastmod or now, reverse=True):
        number = native_id(entry.url)
        if number is None or len(items) >= limit:
            continue
        item = FeedItem(source=source.name, native_id=number, url=site.canonical(entry.url),
                        title="", published=entry.lastmod, section=section_of(entry.url))
        if await store.get_article(item.article_id) is None and not await store.is_tombstoned(
                item.article_id) and await store.resolve_alias(f"id:{item.article_id}") is None:
            items.append(item)
    return items


async def _sitemaps(source: SourceSettings, get: Get, now: datetime) -> list[str]:
    index_url = f"{source.base_url.rstrip('/')}/sitemap.xml"
    try:
        document = parse_sitemap((await get(index_url)).body, site_tz=ZoneInfo(source.site_timezone))
    except (FetchError, ParseError) as exc:
        log.warning("backfill.failed", source=source.name, url=index_url, error=str(exc))
        return []
    if document.kind == "urlset":
        return [index_url]
    plan = backfill_candidates(document, now=now, max_age=source.backfill_max_age)
    return [child.url for child in plan.sitemaps]


async def _read(url: str, source: SourceSettings, get: Get, now: datetime) -> list[SitemapEntry]:
    try:
        document = parse_sitemap((await get(url)).body, site_tz=ZoneInfo(source.site_timezone))
    except (FetchError, ParseError) as exc:
        log.warning("backfill.failed", source=source.name, url=url, error=str(exc))
        return []
    return list(backfill_candidates(document, now=now, max_age=source.backfill_max_age).articles)

