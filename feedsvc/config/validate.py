"""Checks that need more than a type: ranges, URLs, time zones, uniqueness.

``validate`` yields ``(table, index, key, "table.key", reason)`` so the loader can
point at the line; it never raises.

No URL setting may carry credentials (``https://user:pass@host``): they would be
copied into self links, ``/healthz``, logs and User-Agent headers. The refusal names
the setting, never the URL. ``storage.url`` is the one exception (a PostgreSQL URL
may carry its password); it is never echoed by any check here.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import SplitResult, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from feedsvc.config.settings import Settings, SourceSettings
from feedsvc.tomlfile import shown

Problem = tuple[str, int, str, str, str]
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
SOURCE_KINDS = ("rt-arabic",)
MIN_INTERVAL = timedelta(seconds=10)
MIN_LEASE = timedelta(seconds=3)
MAX_DELETED = 10_000  # changes.deleted_max: a feed document stays a document
MAX_CHANGES_PAGE = 10_000  # changes.max_page_size: one answer stays a few MB


def validate(settings: Settings) -> Iterator[Problem]:
    yield from _server(settings)
    yield from _storage(settings)
    yield from _fetch(settings)
    yield from _scheduler_and_logging(settings)
    yield from _dedupe(settings)
    yield from _changes(settings)
    seen: set[str] = set()
    for index, source in enumerate(settings.sources):
        yield from _source(index, source, seen)
    if not settings.sources:
        yield ("", 0, "sources", "sources", "at least one [[sources]] table is needed")


def _problem(table: str, key: str, reason: str, index: int = 0) -> Problem:
    return (table, index, key, f"{table}.{key}" if table else key, reason)


CREDENTIALS = ("carries a user name or password (user:pass@); credentials do not belong "
               "in a URL setting: remove them")


def _split(url: str) -> SplitResult | None:
    """``url`` split, or None when it cannot be (a bad IPv6 literal, a port that is no number)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return None
    return parts


def _has_credentials(url: str, *, bare_host: bool = False) -> bool:
    """Whether ``url`` has a user-info part: ``user:pass@`` after ``//``, or, for a
    ``bare_host`` entry written without ``//`` (``user:pass@host``), at its start."""
    before, slashes, after = url.partition("//")
    if not slashes and not bare_host:
        return False  # a path, or mailto:someone@example.org
    authority = after if slashes else before
    return "@" in re.split(r"[/?#]", authority, maxsplit=1)[0]


def _url_problem(url: str) -> str | None:
    """Why ``url`` is not a usable http(s) URL, or None. Never echoes a URL with credentials."""
    if _has_credentials(url):
        return CREDENTIALS
    parts = _split(url)
    if parts is None:
        return f"{shown(url)} is not a URL (bad host or port)"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{shown(url)} is not an http(s) URL"
    return None


def _server(settings: Settings) -> Iterator[Problem]:
    server = settings.server
    if not 0 < server.port < 65536:
        yield _problem("server", "port", f"{server.port} is not a TCP port (1-65535)")
    if (reason := _url_problem(server.public_url)) is not None:
        yield _problem("server", "public_url", reason)
    elif server.public_url.endswith("/"):
        yield _problem("server", "public_url", f"{shown(server.public_url)} must be an http(s) URL without a trailing slash")
    if server.feed_size < 1:
        yield _problem("server", "feed_size", "must be at least 1")
    if server.max_feed_size < server.feed_size:
        yield _problem("server", "max_feed_size", "must be at least feed_size")
    if server.cache_bytes < 1024 * 1024:
        yield _problem("server", "cache_bytes", "must be at least 1048576 (1 MiB)")
    if server.hub_url and (reason := _url_problem(server.hub_url)) is not None:
        yield _problem("server", "hub_url", reason)


def _storage(settings: Settings) -> Iterator[Problem]:
    url = settings.storage.url
    if settings.storage.catch_up < timedelta(seconds=1):
        yield _problem("storage", "catch_up", "must be at least 1s")
    if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        yield _problem("storage", "url", "use sqlite:///path.db or postgresql://…")
    elif url.startswith("postgres") and _split(url) is None:  # never echoed: it may hold a password
        yield _problem("storage", "url", "not a valid PostgreSQL URL (bad host or port)")
    elif url.startswith("postgres") and importlib.util.find_spec("asyncpg") is None:
        yield _problem("storage", "url", "a PostgreSQL URL needs asyncpg: install feedsvc[postgres]")


def _fetch(settings: Settings) -> Iterator[Problem]:
    # ranges are checked by FetchPolicy itself, when the table is read
    if _has_credentials(settings.fetch.contact_url):
        yield _problem("fetch", "contact_url", CREDENTIALS)


def _scheduler_and_logging(settings: Settings) -> Iterator[Problem]:
    if settings.scheduler.tick < timedelta(seconds=1):
        yield _problem("scheduler", "tick", "must be at least 1s")
    if settings.scheduler.lease < MIN_LEASE:
        yield _problem("scheduler", "lease", f"must be at least {MIN_LEASE.seconds}s "
                       "(it is renewed every third of it)")
    if not 0 < settings.scheduler.share_while_serving <= 1:
        yield _problem("scheduler", "share_while_serving",
                       f"{shown(settings.scheduler.share_while_serving)}: must be more than 0 and at most 1")
    if not 0 <= settings.scheduler.poller_nice <= 19:
        yield _problem("scheduler", "poller_nice",
                       f"{shown(settings.scheduler.poller_nice)}: must be 0 to 19")
    if settings.logging.level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        yield _problem("logging", "level", f"{shown(settings.logging.level)} is not DEBUG, INFO, WARNING or ERROR")
    if settings.logging.format not in ("text", "json"):
        yield _problem("logging", "format", f"{shown(settings.logging.format)} is not 'text' or 'json'")


def _changes(settings: Settings) -> Iterator[Problem]:
    changes = settings.changes
    if changes.deleted_window < timedelta(0):
        yield _problem("changes", "deleted_window", "must not be negative")
    if changes.retention < changes.deleted_window:
        yield _problem("changes", "retention", "must be at least deleted_window (a deletion "
                       "a feed lists must still be in the change stream)")
    if not 0 <= changes.deleted_max <= MAX_DELETED:
        yield _problem("changes", "deleted_max", f"must be from 0 to {MAX_DELETED}")
    if changes.page_size < 1:
        yield _problem("changes", "page_size", "must be at least 1")
    if not changes.page_size <= changes.max_page_size <= MAX_CHANGES_PAGE:
        yield _problem("changes", "max_page_size",
                       f"must be from page_size to {MAX_CHANGES_PAGE}")


def _dedupe(settings: Settings) -> Iterator[Problem]:
    # thresholds and sizes are checked by DedupePolicy itself, when the table is read
    dedupe = settings.dedupe
    if dedupe.retractions not in ("remove", "keep"):
        yield _problem("dedupe", "retractions", f"{shown(dedupe.retractions)} is not 'remove' or 'keep'")


def _source(index: int, source: SourceSettings, seen: set[str]) -> Iterator[Problem]:
    def problem(key: str, reason: str) -> Problem:
        return ("sources", index, key, f"sources[{index}].{key}", reason)

    if not SLUG.match(source.name):
        yield problem("name", f"{shown(source.name)} must be lower-case letters, digits and '-'")
    elif source.name in seen:
        yield problem("name", f"{shown(source.name)} is used by another source")
    seen.add(source.name)
    if source.kind not in SOURCE_KINDS:
        yield problem("kind", f"{shown(source.kind)} is not one of {', '.join(SOURCE_KINDS)}")
    if (reason := _url_problem(source.base_url)) is not None:
        yield problem("base_url", reason)
    if not source.feeds:
        yield problem("feeds", "list at least one feed path, e.g. ['/rss/']")
    for key in ("feeds", "mirror_hosts", "media_hosts"):
        entries: tuple[str, ...] = getattr(source, key)
        if any(_has_credentials(entry, bare_host=key != "feeds") for entry in entries):
            yield problem(key, f"an entry {CREDENTIALS}")
    if source.interval < MIN_INTERVAL:
        yield problem("interval", f"{source.interval.total_seconds():g}s is shorter than the 10s minimum")
    if source.max_pages_per_poll < 0:
        yield problem("max_pages_per_poll", "cannot be negative")
    if source.recheck_max_per_poll < 0:
        yield problem("recheck_max_per_poll", "cannot be negative")
    schedule = source.recheck_after
    if any(after <= timedelta(0) for after in schedule) or list(schedule) != sorted(set(schedule)):
        yield problem("recheck_after", "list durations longer than 0 in ascending order, "
                      "e.g. ['15m', '1h', '6h', '24h', '48h']")
    try:
        ZoneInfo(source.site_timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # "Europe" is a folder: OSError
        yield problem("site_timezone", f"{shown(source.site_timezone)} is not a known time zone")
