"""The composition root: the whole service, assembled from ``Settings`` in one place.

::

    store ─ leases ─ fetcher ─ change channel ─ topics ─ pipeline ─ poller
                                     │             └── watcher, SIGHUP        (serving)
                                     ├── feed cache: forget and render again  (serving)
                                     └── WebSub: tell the hub, own changes    (hub set; not a
                                                             server whose child polls)
                                                                  scheduler   (scheduling)
                                      or, with scheduler.poller_process, a child polling
                                      process whose changes come back to the channel

:func:`open_service` builds the parts in that order inside one
:class:`contextlib.AsyncExitStack` and closes them in reverse: the scheduler stops,
polls in flight finish (``DRAIN_SECONDS``), the hub's pings drain, then the HTTP
client and the store close. Publishers and subscribers meet only on the change
channel: the pipeline and topic reloads publish; the feed cache and WebSub subscribe.
The change stream (``/api/changes``) needs no message: it reads the store's change log,
which every write appends to in its own transaction.

Every process sharing one store (replicas behind a load balancer, ``feedsvc poll``
beside ``feedsvc serve``) is one *holder* (``host:pid:random``): its scheduler polls a
source, and its topics backfill, only under a lease (``feedsvc.store.leasing``;
``feedsvc poll`` polls at once, as asked), and its change channel
(``feedsvc.store.channel``) sends what it changed to the others (PostgreSQL ``NOTIFY``)
and, when serving, hears theirs (``LISTEN``, plus a periodic catch-up read).

Who uses it: ``feedsvc serve`` and ``feedsvc demo`` (serving and scheduling, with the
web app over the result), ``feedsvc schedule`` (scheduling only: the polling process of
``serve`` with ``--child``, or a poller on its own), ``feedsvc poll`` (neither: no
watcher, no rendering, no web module imported; it announces its changes to a hub if
one is configured), and the tests (serving without the scheduler).
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from feedsvc.config import Settings
from feedsvc.fetch import Fetcher, FetchPolicy
from feedsvc.fetch.hosts import explicitly_private
from feedsvc.livetopics import LiveTopics
from feedsvc.metrics import Metrics
from feedsvc.pipeline import Pipeline
from feedsvc.readers import ReadersFirst
from feedsvc.scheduler import Poller, start_scheduler
from feedsvc.scheduler.process import ParentPipe, PollerProcess
from feedsvc.store import POSTGRES_SCHEMES, Store, store_for_url
from feedsvc.store.channel import SharedChanges, Transport
from feedsvc.store.leasing import Leases, holder_id

if TYPE_CHECKING:  # imported when serving: a poll loads no renderer
    from feedsvc.publish import ChangeStream, FeedCache, HubPublisher, SiteDocuments

# atom:updated of a feed that has never had an entry: a fixed date, never the render time
EMPTY_FEED_UPDATED = datetime(2026, 1, 1, tzinfo=UTC)
DRAIN_SECONDS = 6.0  # polls in flight finish within this at shutdown, or are cancelled
HUB_DRAIN_SECONDS = 2.0
SWITCH_INTERVAL = 0.001  # seconds a worker thread may hold the GIL while requests wait
# Counts on the index, OPML and topic list are at most this old (or the poll interval,
# if shorter): an ingest redoes those documents once in a while, not once a change.
COUNT_LAG = timedelta(seconds=10)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Service:
    """Every long-lived part, built and closed by :func:`open_service`."""

    settings: Settings
    clock: Clock
    metrics: Metrics
    store: Store
    holder: str  # this process, as leases and notifications name it
    leases: Leases
    fetcher: Fetcher
    changes: SharedChanges
    topics: LiveTopics
    pipeline: Pipeline
    poller: Poller
    feeds: FeedCache | None  # None unless serving
    site: SiteDocuments | None  # the index, OPML and topic list; None unless serving
    stream: ChangeStream | None  # /api/changes; None unless serving
    hub: HubPublisher | None  # with a hub configured, where this process's changes are announced
    readers: ReadersFirst | None  # told of each request, so polls give way; None unless serving
    poller_process: PollerProcess | None  # the child that polls (scheduler.poller_process)

    def polling(self, source: str) -> bool:
        """Is a poll of this source running now?"""
        return source in self.poller.running


@asynccontextmanager
async def open_service(settings: Settings, *, clock: Clock = utc_now, serving: bool = True,
                       scheduling: bool = True, freeze: bool = False,
                       child: bool = False) -> AsyncIterator[Service]:
    """Build the service; on exit close it in reverse order. ``freeze``: the process's
    start-up, whose objects the cyclic collector can leave alone from then on (the
    commands; tests open many services in one process and do not). ``child``: this is
    the polling process of a ``feedsvc serve`` (``scheduler.poller_process``), which
    hears its changes on standard output.

    Raises ``ConfigError`` (an invalid topics file) and ``StoreError`` (the store
    cannot be opened), having closed whatever was already open.
    """
    async with AsyncExitStack() as stack:
        metrics = Metrics()
        store = store_for_url(settings.storage.url)
        await store.open()
        stack.push_async_callback(store.close)
        holder = holder_id()
        metrics.replica.info({"holder": holder})
        leases = Leases(store, holder, settings.scheduler.lease, metrics)
        fetcher = await stack.enter_async_context(
            Fetcher(fetch_policy(settings), clock=clock, observer=metrics))
        changes = SharedChanges(store, metrics=metrics, catch_up=settings.storage.catch_up,
                                transport=_transport(settings.storage.url, store, holder,
                                                     metrics, child=child))
        topics = LiveTopics(settings.topics_file, store, clock, changes=changes, metrics=metrics,
                            limits=settings.topics, leases=leases)
        await topics.load(freeze=freeze)
        # a poll gives way to the requests this process answers (a poll alone never rests)
        readers = ReadersFirst(settings.scheduler.share_while_serving, metrics) if serving else None
        pipeline = Pipeline(store=store, fetcher=fetcher, matcher=lambda: topics, clock=clock,
                            dedupe=settings.dedupe, changes=changes, history=settings.changes,
                            pause=readers.pause_after if readers is not None else None)
        poller = Poller(pipeline=pipeline, store=store, sources=settings.sources,
                        settings=settings.scheduler, clock=clock, metrics=metrics, leases=leases)
        stack.push_async_callback(poller.drain, DRAIN_SECONDS)
        feeds: FeedCache | None = None
        site: SiteDocuments | None = None
        stream: ChangeStream | None = None
        hub: HubPublisher | None = None
        if serving:
            # Pages, renders and compression run in worker threads; a thread gives the GIL
            # back every switch interval, so requests wait at most about that long (5 ms
            # by default; 1 ms here).
            sys.setswitchinterval(SWITCH_INTERVAL)
            from feedsvc.publish import ChangeStream, FeedCache, SiteDocuments, load_cursors

            interval = min((s.interval for s in settings.sources), default=timedelta(minutes=5))
            max_age = int(interval.total_seconds())  # seconds clients may reuse a document
            feeds = FeedCache(store, topics, settings.server, clock, EMPTY_FEED_UPDATED,
                              metrics, max_age=max_age, cursors=await load_cursors(store),
                              deleted_max=settings.changes.deleted_max,
                              quiet=readers.until_quiet if readers is not None else None)
            site = SiteDocuments(store, topics, settings.server, clock, EMPTY_FEED_UPDATED,
                                 metrics, count_lag=min(interval, COUNT_LAG), max_age=max_age)
            stream = ChangeStream(store, feeds.pages, feeds.cursors, settings.changes,
                                  EMPTY_FEED_UPDATED)
            changes.subscribe(feeds.invalidate)  # first: the hub is told of a fresh feed
            changes.subscribe(site.changed)
            # other processes' changes from here on: the counters are read before the
            # first render, so nothing falls between it and the first catch-up
            await stack.enter_async_context(changes.running())
            await stack.enter_async_context(feeds.warming())
        child_polls = scheduling and serving and settings.scheduler.poller_process
        if settings.server.hub_url and not child_polls:
            # the process that changes a feed announces it (a server's polling child
            # announces its polls and its reloads of the topics); another replica's change
            # is announced by that replica
            from feedsvc.publish import HubPublisher, PublicUrls
            hub = HubPublisher(settings.server.hub_url, PublicUrls(settings.server.public_url),
                               fetcher, metrics, served=topics.known)
            changes.subscribe(hub.changed, local_only=True)
            stack.push_async_callback(hub.drain, HUB_DRAIN_SECONDS)
        if serving or scheduling:  # a poll matches the topics of the file as it is now
            await stack.enter_async_context(topics.watching())
        poller_process: PollerProcess | None = None
        if child_polls:
            poller_process = PollerProcess(
                poller_argv(settings), heard=changes.heard, started=changes.catch_up,
                metrics=metrics, stop_seconds=DRAIN_SECONDS + 2)
            await stack.enter_async_context(poller_process.running())
        elif scheduling:
            scheduler = start_scheduler(poller, settings.scheduler.tick)
            stack.callback(scheduler.shutdown, wait=False)
        yield Service(settings=settings, clock=clock, metrics=metrics, store=store,
                      holder=holder, leases=leases, fetcher=fetcher, changes=changes,
                      topics=topics, pipeline=pipeline, poller=poller, feeds=feeds, site=site,
                      stream=stream, hub=hub, readers=readers, poller_process=poller_process)


def poller_argv(settings: Settings) -> list[str]:
    """The command line of the polling process: this interpreter, the same settings."""
    return [sys.executable, "-m", "feedsvc", "schedule", "--child",
            "--config", str(settings.config_path.absolute())]


def _transport(url: str, store: Store, holder: str, metrics: Metrics, *,
               child: bool) -> Transport | None:
    """LISTEN/NOTIFY on PostgreSQL. On SQLite, a polling process's standard output to
    its server; elsewhere the catch-up read alone carries changes between processes."""
    if not url.startswith(POSTGRES_SCHEMES):
        return ParentPipe() if child else None
    from feedsvc.store.postgres import PostgresStore
    from feedsvc.store.postgres.notify import PgNotifications
    assert isinstance(store, PostgresStore)
    return PgNotifications(store, holder, metrics)


def fetch_policy(settings: Settings) -> FetchPolicy:
    """The ``[fetch]`` settings with the allow-list filled in: only the configured sources
    (their mirror and media hosts) and the WebSub hub are reachable."""
    hosts: list[str] = []
    for source in settings.sources:
        hosts.append(_host(source.base_url))
        hosts += [_host(h) if "://" in h else h for h in (*source.mirror_hosts, *source.media_hosts)]
    if settings.server.hub_url:
        hosts.append(_host(settings.server.hub_url))
    allowed = tuple(dict.fromkeys(hosts))
    return replace(settings.fetch, allowed_hosts=allowed,
                   allow_private_hosts=tuple(h for h in allowed if explicitly_private(h)))


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()
