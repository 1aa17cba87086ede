"""The change channel between processes that share one store.

::

    this process                         other processes
    publish(topics) ─┬─ transport.send ──▶ NOTIFY ──▶ their listeners (coalesced)
                     └─ every subscriber here
    catch-up, every ``catch_up``: the store's change counters ──▶ listeners here

:class:`SharedChanges` is :class:`feedsvc.changes.Changes` for replicas: a publish is
sent to the other processes first (on PostgreSQL, ``NOTIFY`` through
``postgres/notify.py``; they start re-rendering at once) and then delivered to this
process's own subscribers, in order, as :class:`~feedsvc.changes.LocalChanges` does.

What arrives from elsewhere goes to the subscribers that did not ask for
``local_only`` (the render cache, not WebSub: the hub hears of a change once, from the
process that made it). Arrivals are **coalesced**: the first one wakes the delivery,
which waits ``COALESCE_SECONDS`` and then hands over the union of everything pending;
whatever arrives while a delivery runs goes into the next one. A first sync that
publishes every few articles therefore costs the others a re-render every so often,
not one per message.

A notification can be missed: the listening connection was down (a database restart,
a network cut), or the publisher died between its write and its publish. So each
process also reads the store's per-topic change counters (``Store.topic_versions``,
moved in the same transaction as every write that changes a feed) every ``catch_up``,
and right after the listener reconnects, and delivers the topics whose counter moved
since the last read, whoever moved it (a topic this process changed, or heard of, is
rendered once more: cheaper than proving it need not be). That read is one small query
(a row per topic); nothing polls the article tables. A delivery that fails (the store went away while re-rendering) is
tried again with the next catch-up.

Without a transport (SQLite) the catch-up alone carries changes between processes,
e.g. from ``feedsvc poll`` run beside ``feedsvc serve``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from datetime import timedelta
from typing import Protocol

from feedsvc.background import background
from feedsvc.changes import Listener, deliver
from feedsvc.errors import StoreError
from feedsvc.logsetup import get_log
from feedsvc.metrics import Metrics
from feedsvc.store.base import Store

log = get_log("feedsvc.changes")

COALESCE_SECONDS = 0.05  # arrivals within this of the first are delivered together

Arrived = Callable[[frozenset[str]], None]


class Transport(Protocol):
    """Carries changed-topic sets to the other processes (``postgres/notify.py``)."""

    problem: str | None  # why it cannot listen now, for /healthz; None when it can

    async def send(self, topics: frozenset[str]) -> None:
        """Tell the other processes; raises ``StoreError`` when it cannot."""

    def listening(self, arrived: Arrived, connected: Callable[[], Awaitable[None]]
                  ) -> contextlib.AbstractAsyncContextManager[None]:
        """Listen while the context is open, reconnecting by itself; ``arrived`` gets what
        other processes sent, and ``connected`` is awaited after each (re)connect."""


class SharedChanges:
    """:class:`~feedsvc.changes.Changes` for processes sharing ``store``."""

    def __init__(self, store: Store, *, metrics: Metrics, catch_up: timedelta,
                 transport: Transport | None = None) -> None:
        self.store = store
        self.metrics = metrics
        self.catch_up_every = catch_up
        self.transport = transport
        self._listeners: list[Listener] = []
        self._remote: list[Listener] = []  # those that hear other processes' changes too
        self._seen: dict[str, int] = {}
        self._pending: set[str] = set()
        self._retry: set[str] = set()
        self._wake = asyncio.Event()
        self.catch_up_problem: str | None = None

    def subscribe(self, listener: Listener, *, local_only: bool = False) -> None:
        self._listeners.append(listener)
        if not local_only:
            self._remote.append(listener)

    async def publish(self, topics: Collection[str]) -> None:
        changed = frozenset(topics)
        if not changed:
            return
        if self.transport is not None:
            try:
                await self.transport.send(changed)
                self.metrics.change_notifications.labels("sent").inc()
            except StoreError as exc:  # the others' catch-up will find it in the store
                log.warning("changes.send_failed", topics=len(changed), error=str(exc))
        self.metrics.change_deliveries.labels("local").inc()
        if not await deliver(changed, self._listeners):
            self._retry |= changed

    @property
    def problem(self) -> str | None:
        """Why this process may be missing other processes' changes, or None."""
        if self.transport is not None and self.transport.problem:
            return self.transport.problem
        return self.catch_up_problem

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Hear other processes' changes while the context is open.

        The counters are read before the listener starts and before anything is
        rendered, so no change falls between the first render and the first catch-up.
        Raises ``StoreError`` when that first read fails.
        """
        self._seen = await self.store.topic_versions()
        async with contextlib.AsyncExitStack() as stack:
            if self.transport is not None:
                await stack.enter_async_context(
                    self.transport.listening(self._arrived, self._catch_up))
            for loop in (self._delivering(), self._catching_up()):
                await stack.enter_async_context(background(loop, "changes"))
            yield

    def heard(self, topics: frozenset[str]) -> None:
        """Another process changed these topics (a polling child's line, say): delivered
        like a notification, coalesced with the others."""
        self._arrived(topics)

    async def catch_up(self) -> None:
        """Read the change counters now (a polling child just started); never raises."""
        await self._catch_up()

    def _arrived(self, topics: frozenset[str]) -> None:
        self.metrics.change_notifications.labels("received").inc()
        self._queue(topics)

    def _queue(self, topics: Collection[str]) -> None:
        self._pending.update(topics)
        self._wake.set()

    async def _delivering(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(COALESCE_SECONDS)
            self._wake.clear()
            topics, self._pending = frozenset(self._pending), set()
            self.metrics.change_deliveries.labels("remote").inc()
            if not await deliver(topics, self._remote):
                self._retry |= topics

    async def _catching_up(self) -> None:
        while True:
            await asyncio.sleep(self.catch_up_every.total_seconds())
            try:
                await self._catch_up()
            except Exception as exc:  # a bug must not end the catch-up for good
                log.error("changes.catch_up_crashed", error=repr(exc), exc_info=exc)

    async def _catch_up(self) -> None:
        """Deliver the topics whose change counter moved since the last read (and any
        whose delivery failed); never raises."""
        try:
            versions = await self.store.topic_versions()
        except StoreError as exc:
            self.metrics.change_catch_ups.labels("failed").inc()
            if self.catch_up_problem is None:
                log.warning("changes.catch_up_failed", error=str(exc))
            self.catch_up_problem = f"catch-up read failed: {exc}"
            return
        if self.catch_up_problem is not None:
            log.info("changes.catch_up_back")
            self.catch_up_problem = None
        moved = {slug for slug in versions.keys() | self._seen.keys()
                 if versions.get(slug) != self._seen.get(slug)}
        self._seen = versions
        self.metrics.change_catch_ups.labels("moved" if moved else "unchanged").inc()
        retry, self._retry = self._retry, set()
        if moved or retry:
            self._queue(moved | retry)

