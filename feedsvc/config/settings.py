"""The settings object: one frozen dataclass per TOML table, each key with a default and help.

A table that configures one stage is that stage's own policy type, or extends it
(``[fetch]`` is ``FetchPolicy``, ``[dedupe]`` extends ``DedupePolicy``), so a key
is declared once, where it is used.

The help lines are the documentation's source of truth: ``docs/configuration.md``
lists every key (a test fails when one is missing), and ``feedsvc check-config``
prints them on request.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

from feedsvc.dedupe.policy import DedupePolicy
from feedsvc.errors import ConfigError
from feedsvc.extract.selectors import DEFAULT_SELECTORS, Selectors
from feedsvc.fetch.policy import FetchPolicy
from feedsvc.policy import setting, setting_fields
from feedsvc.topics.model import TopicLimits

MIN_TOKEN_CHARS = 16  # server.health_token: long enough not to be guessed


@dataclass(frozen=True, slots=True)
class ServerSettings:
    host: str = setting("127.0.0.1", "Address the HTTP server binds to.")
    port: int = setting(8080, "TCP port of the HTTP server.")
    public_url: str = setting(
        "http://127.0.0.1:8080",
        "Public base URL of the service, used in self links and feed ids; no trailing slash.",
    )
    site_title: str = setting("RT Arabic — موضوعات", "Title of the index page and the OPML file.")
    feed_size: int = setting(50, "Items in a feed document when the request gives no ?limit=.")
    max_feed_size: int = setting(200, "Largest ?limit= a client may ask for.")
    hub_url: str = setting("", "WebSub hub advertised in feeds and pinged on change; empty: none.")
    cache_bytes: int = setting(
        64 * 1024 * 1024, "Bytes of rendered feeds and pages kept in memory (each encoding "
        "counts); the least recently read go first. A quarter is for pages other than "
        "the subscription documents.")
    # Connection hygiene and /healthz detail (docs/operations.md, "Hardening").
    max_connections: int = setting(
        1000, "Client connections open at once at most. At the limit a new connection closes "
        "the longest idle one, or gets 503 when none is idle. Lowered at start to fit the "
        "open-files limit.")
    head_timeout: float = setting(
        10.0, "Seconds a new connection has to send a complete request head before it is closed.")
    keepalive_timeout: float = setting(
        15.0, "Seconds a connection may stay idle after a response; its next request head must "
        "be complete by then.")
    send_timeout: float = setting(
        30.0, "Seconds a response may wait for a client that stopped reading it; then the "
        "connection is dropped.")
    health_detail_loopback: bool = setting(
        False, "Show the full /healthz (last errors, file paths) to clients on loopback that "
        "came through no proxy.")
    health_token: str = field(default="", repr=False, metadata={"help": (  # a secret: no repr
        "Secret that shows the full /healthz to requests with 'Authorization: Bearer "
        "<token>'; empty: none.")})

    def __post_init__(self) -> None:
        problems = [f"server.{name}: {value!r}: {reason}" for name, value, reason in self._faults()]
        if problems:
            raise ConfigError(problems)

    def _faults(self) -> list[tuple[str, object, str]]:
        """The limits above; the other keys are checked in ``config/validate.py``."""
        faults: list[tuple[str, object, str]] = []
        for name in ("head_timeout", "keepalive_timeout", "send_timeout"):
            if not getattr(self, name) > 0:
                faults.append((name, getattr(self, name), "must be greater than 0"))
        if self.max_connections < 1:
            faults.append(("max_connections", self.max_connections, "must be at least 1"))
        if self.health_token and len(self.health_token) < MIN_TOKEN_CHARS:
            # the token itself is never echoed
            faults.append(("health_token", "…", f"must be at least {MIN_TOKEN_CHARS} characters"))
        return faults


@dataclass(frozen=True, slots=True)
class StorageSettings:
    url: str = setting(
        "sqlite:///../data/feedsvc.db",
        "Where articles live: sqlite:///relative/or/absolute/path.db (relative to the config "
        "file's folder) or postgresql://user@host/db.",
    )
    catch_up: timedelta = setting(
        timedelta(seconds=30), "How often each process re-reads the topics' change counters, "
        "so a change whose notification it missed (a reconnect, a process that died) still "
        "reaches its feeds.",
    )


@dataclass(frozen=True, slots=True)
class SourceSettings:
    name: str = setting("rt-arabic", "Unique name of the source; part of every article id.")
    kind: str = setting("rt-arabic", "Which site adapter reads the source (only 'rt-arabic' today).")
    base_url: str = setting("https://arabic.rt.com", "The site's canonical origin.")
    feeds: tuple[str, ...] = setting(("/rss/",), "RSS feed paths (or URLs) to poll.")
    interval: timedelta = setting(timedelta(minutes=5), "How often to poll: '90s', '5m', '1h' or seconds.")
    mirror_hosts: tuple[str, ...] = setting((), "Other hosts that serve the same articles.")
    media_hosts: tuple[str, ...] = setting(
        ("mf.b37mrtl.ru",), "Hosts of the site's images (referenced, allowed as link targets)."
    )
    site_timezone: str = setting("Europe/Moscow", "Time zone for page times written without an offset.")
    fetch_pages: bool = setting(True, "Fetch each new article page for the full text.")
    max_pages_per_poll: int = setting(60, "Article pages fetched at most per poll; the rest wait.")
    selectors: Selectors = setting(
        DEFAULT_SELECTORS, "CSS selectors of the site's article template, as a [sources.selectors] "
        "table; keys below. Only what differs from the defaults needs writing."
    )
    backfill_max_age: timedelta = setting(
        timedelta(0), "Backfill articles up to this old from /sitemap.xml (0: no backfill)."
    )
    backfill_interval: timedelta = setting(
        timedelta(hours=6), "How often the sitemap is read for backfill."
    )
    refresh_window: timedelta = setting(
        timedelta(hours=0), "Also re-check pages of articles younger than this on every poll, "
        "within recheck_max_per_poll (0: only the recheck_after schedule)."
    )
    feed_only_after: timedelta = setting(
        timedelta(minutes=30), "Publish an article from its feed item alone once its page has "
        "failed for this long since first seen; the page's version replaces it when it arrives."
    )
    recheck_after: tuple[timedelta, ...] = setting(
        (timedelta(minutes=15), timedelta(hours=1), timedelta(hours=6), timedelta(hours=24),
         timedelta(hours=48)),
        "Re-check each article page (conditional GET) this long after publication, to see "
        "silent edits, retractions and restores; ascending, [] for none.",
    )
    recheck_max_per_poll: int = setting(
        30, "Scheduled page re-checks per poll at most; the rest wait for the next poll."
    )


# The [fetch] table is the fetch stage's own policy type: one declaration of each key.
FetchSettings = FetchPolicy


@dataclass(frozen=True, slots=True)
class SchedulerSettings:
    tick: timedelta = setting(timedelta(seconds=5), "How often the scheduler looks for due sources.")
    max_backoff: timedelta = setting(timedelta(hours=1), "Longest wait between polls of a failing source.")
    lease: timedelta = setting(
        timedelta(seconds=30), "How long a process's claim on a poll or a topic backfill lasts "
        "unless renewed: another replica takes over a dead one's work after at most this.",
    )
    share_while_serving: float = setting(
        0.25, "Largest share of the time a poll takes while requests are being answered: "
        "after each page it rests in proportion (0.25: 30 ms after a page of 10 ms) if a "
        "request other than a health probe or a metrics scrape came within the last "
        "second. 1: never rest.",
    )
    poller_process: bool = setting(
        False, "Poll in a process of its own that `feedsvc serve` starts, restarts and stops "
        "(`feedsvc schedule --child`), at CPU priority `poller_nice`: a poll's work then never "
        "holds up a request. Costs the memory of a second process.",
    )
    poller_nice: int = setting(
        19, "Nice value of that process, 0 to 19: at 19 it takes only the CPU readers leave.")


@dataclass(frozen=True, slots=True)
class ChangesSettings:
    """What consumers are told of articles that left a feed: the deleted entries feeds
    list, and the change stream (``/api/changes``)."""

    deleted_window: timedelta = setting(
        timedelta(days=7), "How long an article that left a feed (retracted, merged as a "
        "duplicate, no longer matching) is listed in that feed as deleted.",
    )
    deleted_max: int = setting(
        200, "Most deleted entries one feed lists, newest first; /api/changes has every one.")
    retention: timedelta = setting(
        timedelta(days=30), "How long /api/changes keeps a change: a client whose position is "
        "older gets 410 and reads the feeds again. At least deleted_window.",
    )
    page_size: int = setting(100, "Changes in one /api/changes answer when the request gives no ?limit=.")
    max_page_size: int = setting(1000, "Largest ?limit= of /api/changes.")


@dataclass(frozen=True, slots=True)
class DedupeSettings(DedupePolicy):
    """The dedupe policy (thresholds measured on the replica; see its help lines) plus
    what to do with retracted articles."""

    retractions: str = setting(
        "remove", "An article whose page answers 404/410: 'remove' it from every feed, or 'keep' it."
    )


@dataclass(frozen=True, slots=True)
class TopicsSettings(TopicLimits):
    """Limits on the topics file (``topics_file``), checked at start and on every reload."""


@dataclass(frozen=True, slots=True)
class LoggingSettings:
    level: str = setting("INFO", "Log level: DEBUG, INFO, WARNING or ERROR.")
    format: str = setting("text", "Log format: 'text' (key=value) or 'json' (one object a line).")


@dataclass(frozen=True, slots=True)
class Settings:
    config_path: Path = setting(Path("config/feedsvc.toml"), "The file these settings came from.")
    topics_file: Path = setting(Path("topics.toml"), "Topics file, relative to this file's folder.")
    server: ServerSettings = field(default_factory=ServerSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
    fetch: FetchPolicy = field(default_factory=FetchPolicy)
    scheduler: SchedulerSettings = field(default_factory=SchedulerSettings)
    dedupe: DedupeSettings = field(default_factory=DedupeSettings)
    changes: ChangesSettings = field(default_factory=ChangesSettings)
    topics: TopicsSettings = field(default_factory=TopicsSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    sources: tuple[SourceSettings, ...] = field(default_factory=lambda: (SourceSettings(),))

    def source(self, name: str) -> SourceSettings:
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)


# Tables of the TOML file and the dataclass each maps onto; "sources" is an array of tables.
TABLES: dict[str, type] = {
    "server": ServerSettings,
    "storage": StorageSettings,
    "fetch": FetchPolicy,
    "scheduler": SchedulerSettings,
    "dedupe": DedupeSettings,
    "changes": ChangesSettings,
    "topics": TopicsSettings,
    "logging": LoggingSettings,
    "sources": SourceSettings,
}
TOP_LEVEL_KEYS = ("topics_file",)


def iter_documented_keys() -> Iterator[tuple[str, Any, str]]:
    """Every key as ``table.key`` (or ``key`` at top level) with its default and help."""
    for f in fields(Settings):
        if f.name in TOP_LEVEL_KEYS:
            yield f.name, f.default, f.metadata["help"]
    for table, cls in TABLES.items():
        for f in setting_fields(cls):
            yield f"{table}.{f.name}", f.default, f.metadata["help"]
