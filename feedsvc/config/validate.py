"""Checks that need more than a type: ranges, URLs, time zones, uniqueness.

``validate`` yields ``(table, index, key, "table.key", reason)`` so the loader can
point at the line; it never raises.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedsvc.config.settings import Settings, SourceSettings

Problem = tuple[str, int, str, str, str]
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
SOURCE_KINDS = ("rt-arabic",)
MIN_INTERVAL = timedelta(seconds=10)


def validate(settings: Settings) -> Iterator[Problem]:
    yield from _server(settings)
    yield from _storage(settings)
    yield from _scheduler_and_logging(settings)
    yield from _dedupe(settings)
    seen: set[str] = set()
    for index, source in enumerate(settings.sources):
        yield from _source(index, source, seen)
    if not settings.sources:
        yield ("", 0, "sources", "sources", "at least one [[sources]] table is needed")


def _problem(table: str, key: str, reason: str, index: int = 0) -> Problem:
    return (table, index, key, f"{table}.{key}" if table else key, reason)


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _server(settings: Settings) -> Iterator[Problem]:
    server = settings.server
    if not 0 < server.port < 65536:
        yield _problem("server", "port", f"{server.port} is not a TCP port (1-65535)")
    if not _is_http_url(server.public_url) or server.public_url.endswith("/"):
        yield _problem("server", "public_url", f"{server.public_url!r} must be an http(s) URL without a trailing slash")
    if server.feed_size < 1:
        yield _problem("server", "feed_size", "must be at least 1")
    if server.max_feed_size < server.feed_size:
        yield _problem("server", "max_feed_size", "must be at least feed_size")
    if server.cache_bytes < 1024 * 1024:
        yield _problem("server", "cache_bytes", "must be at least 1048576 (1 MiB)")
    if server.hub_url and not _is_http_url(server.hub_url):
        yield _problem("server", "hub_url", f"{server.hub_url!r} is not an http(s) URL")


def _storage(settings: Settings) -> Iterator[Problem]:
    url = settings.storage.url
    if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        yield _problem("storage", "url", "use sqlite:///path.db or postgresql://…")
    elif url.startswith("postgres") and importlib.util.find_spec("asyncpg") is None:
        yield _problem("storage", "url", "a PostgreSQL URL needs asyncpg: install feedsvc[postgres]")


def _scheduler_and_logging(settings: Settings) -> Iterator[Problem]:
    if settings.scheduler.tick < timedelta(seconds=1):
        yield _problem("scheduler", "tick", "must be at least 1s")
    if settings.logging.level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        yield _problem("logging", "level", f"{settings.logging.level!r} is not DEBUG, INFO, WARNING or ERROR")
    if settings.logging.format not in ("text", "json"):
        yield _problem("logging", "format", f"{settings.logging.format!r} is not 'text' or 'json'")


def _dedupe(settings: Settings) -> Iterator[Problem]:
    # thresholds and sizes are checked by DedupePolicy itself, when the table is read
    dedupe = settings.dedupe
    if dedupe.retractions not in ("remove", "keep"):
        yield _problem("dedupe", "retractions", f"{dedupe.retractions!r} is not 'remove' or 'keep'")


def _source(index: int, source: SourceSettings, seen: set[str]) -> Iterator[Problem]:
    def problem(key: str, reason: str) -> Problem:
        return ("sources", index, key, f"sources[{index}].{key}", reason)

    if not SLUG.match(source.name):
        yield problem("name", f"{source.name!r} must be lower-case letters, digits and '-'")
    elif source.name in seen:
        yield problem("name", f"{source.name!r} is used by another source")
    seen.add(source.name)
    if source.kind not in SOURCE_KINDS:
        yield problem("kind", f"{source.kind!r} is not one of {', '.join(SOURCE_KINDS)}")
    if not _is_http_url(source.base_url):
        yield problem("base_url", f"{source.base_url!r} is not an http(s) URL")
    if not source.feeds:
        yield problem("feeds", "list at least one feed path, e.g. ['/rss/']")
    if source.interval < MIN_INTERVAL:
        yield problem("interval", f"{source.interval.total_seconds():g}s is shorter than the 10s minimum")
    if source.max_pages_per_poll < 0:
        yield problem("max_pages_per_poll", "cannot be negative")
    try:
        ZoneInfo(source.site_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        yield problem("site_timezone", f"{source.site_timezone!r} is not a known time zone")
