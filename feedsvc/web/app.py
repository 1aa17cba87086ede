"""The app factory: one cleanup context per resource, opened in order, closed in reverse.

    store → HTTP client (fetcher) → topics (+ file watch, SIGHUP) → feed cache
          → WebSub client (when a hub is configured) → scheduler
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import signal
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from feedsvc.config import Settings
from feedsvc.fetch import Fetcher, FetchPolicy
from feedsvc.livetopics import LiveTopics
from feedsvc.metrics import Metrics
from feedsvc.pipeline import Pipeline
from feedsvc.scheduler import Poller, start_scheduler
from feedsvc.store import ALL_TOPIC, store_for_url
from feedsvc.web.counters import FeedCounters
from feedsvc.web.feedcache import FeedCache
from feedsvc.web.keys import (
    CLOCK,
    FEED_COUNTERS,
    FEEDS,
    FETCHER,
    HUB,
    METRICS,
    PIPELINE,
    POLLER,
    READY,
    SETTINGS,
    STORE,
    TOPICS,
)
from feedsvc.web.middleware import errors_middleware
from feedsvc.web.routes import add_routes
from feedsvc.web.websub import HubPublisher

log = logging.getLogger("feedsvc.web")
# atom:updated of a feed that has never had an entry: a fixed date, never the render time
EMPTY_FEED_UPDATED = datetime(2026, 1, 1, tzinfo=UTC)
DRAIN_SECONDS = 10.0
HUB_DRAIN_SECONDS = 2.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(settings: Settings, *, clock: Callable[[], datetime] = utc_now,
               run_scheduler: bool = True) -> web.Application:
    app = web.Application(middlewares=[errors_middleware])
    app[SETTINGS] = settings
    app[CLOCK] = clock
    app[METRICS] = Metrics()
    app[FEED_COUNTERS] = FeedCounters(app[METRICS])
    app[READY] = {"store": False, "topics": False}
    app.cleanup_ctx.append(_store_ctx)
    app.cleanup_ctx.append(_fetcher_ctx)
    app.cleanup_ctx.append(_topics_ctx)
    app.cleanup_ctx.append(_feeds_ctx)
    if settings.server.hub_url:
        app.cleanup_ctx.append(_hub_ctx)
    app.cleanup_ctx.append(_scheduler_ctx if run_scheduler else _poller_ctx)
    add_routes(app)
    return app


def fetch_policy(settings: Settings) -> FetchPolicy:
    """Map the settings onto the fetcher's policy: only configured hosts are reachable."""
    hosts: list[str] = []
    for source in settings.sources:
        hosts.append(_host(source.base_url))
        hosts += [_host(h) if "://" in h else h for h in (*source.mirror_hosts, *source.media_hosts)]
    fetch = settings.fetch
    return FetchPolicy(
        user_agent=fetch.user_agent, contact_url=fetch.contact_url,
        connect_timeout=fetch.connect_timeout, read_timeout=fetch.read_timeout,
        total_timeout=fetch.total_timeout, max_body_bytes=fetch.max_body_size,
        max_redirects=fetch.max_redirects, per_host_concurrency=fetch.per_host_concurrency,
        min_host_delay=fetch.min_host_delay, robots=fetch.respect_robots,
        robots_ttl=fetch.robots_ttl.total_seconds(),
        max_retry_after=fetch.max_retry_after.total_seconds(),
        allowed_hosts=tuple(dict.fromkeys(hosts)),
        allow_private_hosts=tuple(h for h in dict.fromkeys(hosts) if _explicitly_private(h)),
    )


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.lower()


def _explicitly_private(host: str) -> bool:
    """A source configured on a loopback/private literal (or localhost) may be reached."""
    name = host.rsplit(":", 1)[0].strip("[]") if host.count(":") <= 1 or host.startswith("[") else host
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


async def _store_ctx(app: web.Application) -> AsyncIterator[None]:
    store = store_for_url(app[SETTINGS].storage.url)
    await store.open()
    app[STORE] = store
    app[READY]["store"] = True
    yield
    app[READY]["store"] = False
    await store.close()


async def _fetcher_ctx(app: web.Application) -> AsyncIterator[None]:
    async with Fetcher(fetch_policy(app[SETTINGS]), clock=app[CLOCK],
                       observer=app[METRICS]) as fetcher:
        app[FETCHER] = fetcher
        yield


async def _topics_ctx(app: web.Application) -> AsyncIterator[None]:
    topics = LiveTopics(app[SETTINGS].topics_file, app[STORE], app[CLOCK])
    topics.on_reload = app[METRICS].on_reload
    await topics.load()
    app[TOPICS] = topics
    app[READY]["topics"] = True
    watcher = asyncio.create_task(topics.watch(), name="topics-watch")
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(topics.reload()))
    yield
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.remove_signal_handler(signal.SIGHUP)
    watcher.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await watcher


async def _feeds_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    interval = min((s.interval for s in settings.sources), default=timedelta(minutes=5))
    feeds = FeedCache(app[STORE], app[TOPICS], settings.server, app[CLOCK],
                      EMPTY_FEED_UPDATED, max_age=int(interval.total_seconds()))
    app[FEEDS] = feeds
    topics = app[TOPICS]

    async def topics_changed(slugs: set[str]) -> None:
        await feeds_changed(app, slugs)

    topics.on_change = topics_changed
    await feeds.invalidate(set(topics.topics))  # warm: the first request is a lookup too
    yield


async def feeds_changed(app: web.Application, slugs: set[str]) -> None:
    """Topics changed (a poll or a reload): render their feeds again, then tell the hub."""
    feeds = app[FEEDS]
    await feeds.invalidate(slugs)
    if (hub := app.get(HUB)) is not None:
        hub.publish(slug for slug in slugs | {ALL_TOPIC} if feeds.known(slug))


async def _hub_ctx(app: web.Application) -> AsyncIterator[None]:
    server = app[SETTINGS].server
    async with aiohttp.ClientSession(headers={"User-Agent": app[SETTINGS].fetch.user_agent}
                                     ) as session:
        hub = app[HUB] = HubPublisher(server.hub_url, server.public_url, session)
        yield
        await hub.drain(HUB_DRAIN_SECONDS)


def _make_poller(app: web.Application) -> Poller:
    pipeline = Pipeline(store=app[STORE], fetcher=app[FETCHER], matcher=lambda: app[TOPICS],
                        clock=app[CLOCK], dedupe=app[SETTINGS].dedupe,
                        on_change=lambda slugs: feeds_changed(app, slugs))
    app[PIPELINE] = pipeline
    return Poller(pipeline=pipeline, store=app[STORE], sources=app[SETTINGS].sources,
                  settings=app[SETTINGS].scheduler, clock=app[CLOCK], metrics=app[METRICS])


async def _poller_ctx(app: web.Application) -> AsyncIterator[None]:
    app[POLLER] = _make_poller(app)
    yield
    await app[POLLER].drain(DRAIN_SECONDS)


async def _scheduler_ctx(app: web.Application) -> AsyncIterator[None]:
    poller = app[POLLER] = _make_poller(app)
    scheduler = start_scheduler(poller, app[SETTINGS].scheduler.tick)
    yield
    scheduler.shutdown(wait=False)
    await poller.drain(DRAIN_SECONDS)
