"""Reading a source's RSS feeds with conditional GET."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from feedsvc.config import SourceSettings
from feedsvc.discover import SiteIdentity, parse_rss
from feedsvc.errors import FetchError, HTTPStatusError, ParseError
from feedsvc.logsetup import get_log
from feedsvc.models import FeedItem, FetchResult, PollState
from feedsvc.pipeline.report import PollReport

log = get_log("feedsvc.pipeline")


class Fetch(Protocol):
    async def get(self, url: str, *, etag: str | None = None,
                  last_modified: str | None = None) -> FetchResult: ...


async def read_feeds(fetcher: Fetch, source: SourceSettings, state: PollState,
                     report: PollReport, now: Callable[[], datetime]
                     ) -> tuple[list[FeedItem], Validators, Listings]:
    """Every feed of the source, with its stored validators; items once, however many
    feeds list them. Failures go into the report, never up."""
    site = SiteIdentity(source.name, source.base_url, source.mirror_hosts)
    known = {url: (etag, modified) for url, etag, modified in state.validators}
    listed = dict(state.feed_items)
    items: dict[str, FeedItem] = {}
    validators = []
    for feed_url in _feed_urls(source):
        etag, modified = known.get(feed_url, (None, None))
        try:
            result = await fetcher.get(feed_url, etag=etag, last_modified=modified)
            if result.not_modified:
                report.feeds_not_modified += 1
            else:
                # in a worker thread, like pages: a feed of a thousand items takes
                # half a second to parse, and requests would wait behind it
                document = await asyncio.to_thread(parse_rss, result.body, site, now=now())
                report.feeds_ok += 1
                report.ttl = max(filter(None, (report.ttl, document.ttl)), default=None)
                etag, modified = result.etag, result.last_modified
                listed[feed_url] = tuple(item.article_id for item in document.items)
                for item in document.items:  # the same article in several feeds: once
                    items.setdefault(item.native_id, item)
            report.fresh_until = later(report.fresh_until, result.fresh_until)
        except (FetchError, ParseError) as exc:
            report.feed_errors.append(f"{feed_url}: {reason(exc)}")
            log.warning("feed.failed", source=source.name, url=feed_url, error=reason(exc))
            if isinstance(exc, HTTPStatusError) and exc.retry_after:
                report.fresh_until = later(report.fresh_until, exc.retry_after)
        validators.append((feed_url, etag, modified))
    listings = tuple((url, listed[url]) for url in _feed_urls(source) if url in listed)
    return list(items.values()), tuple(validators), listings


Validators = tuple[tuple[str, str | None, str | None], ...]
Listings = tuple[tuple[str, tuple[str, ...]], ...]


def _feed_urls(source: SourceSettings) -> list[str]:
    base = source.base_url.rstrip("/")
    return [feed if "://" in feed else f"{base}/{feed.lstrip('/')}" for feed in source.feeds]


def reason(exc: BaseException) -> str:
    """The error without the URL the caller already names."""
    if isinstance(exc, FetchError):
        return exc.reason
    return str(exc) or type(exc).__name__


def later(a: datetime | None, b: datetime | None) -> datetime | None:
    return max(filter(None, (a, b)), default=None)
