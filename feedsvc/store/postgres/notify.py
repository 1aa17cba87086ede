"""Change notifications between replicas: PostgreSQL ``LISTEN/NOTIFY``.

The transport of :class:`feedsvc.store.channel.SharedChanges`. A message is a JSON
object on the channel ``feedsvc_changes``::

    {"from": "<holder id>", "at": <database clock, Unix seconds>, "topics": ["slug", ...]}

``NOTIFY`` payloads are limited to 8000 bytes, so a large set of topics is sent as
several messages (slugs are at most 64 characters: ``CHUNK_BYTES`` keeps well inside).
``at`` is stamped by the database (``clock_timestamp()``) and the receiver measures the
lag against the database's clock too (it estimates its own clock's offset from the
database's at each connect), so replicas whose clocks differ still measure it right.
A process ignores its own messages: its subscribers heard them first, in-process.

Sending goes through the store's pool. Listening needs a connection of its own, held
open: it is made with ``application_name = 'feedsvc-listen <holder>'`` (visible in
``pg_stat_activity``), checked with a ``SELECT 1`` every ``check_every`` seconds, and
made again after any failure with back-off (1 s doubling to 30 s). After each connect
the channel's catch-up runs, since messages sent while nobody listened are gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg  # type: ignore[import-untyped]  # ships no type information
import orjson

from feedsvc.background import background
from feedsvc.logsetup import get_log
from feedsvc.metrics import Metrics
from feedsvc.store.channel import Arrived
from feedsvc.store.postgres.connection import FAILURES, PostgresPool

log = get_log("feedsvc.changes")

CHANNEL = "feedsvc_changes"
STARTING = "not listening for change notifications yet"
CHUNK_BYTES = 6000  # slug bytes a message carries at most; the payload limit is 8000
BACKOFF_FIRST, BACKOFF_MAX = 1.0, 30.0
NOTIFY_SQL = ("SELECT pg_notify($1, json_build_object('from', $2::text, "
              "'at', extract(epoch FROM clock_timestamp()), 'topics', $3::text[])::text)")


class PgNotifications:
    """:class:`~feedsvc.store.channel.Transport` over ``LISTEN/NOTIFY``."""

    def __init__(self, store: PostgresPool, holder: str, metrics: Metrics, *,
                 check_every: float = 10.0) -> None:
        self.store = store
        self.holder = holder
        self.metrics = metrics
        self.check_every = check_every
        self.problem: str | None = STARTING
        self._offset = 0.0  # this machine's clock minus the database's, in seconds

    async def send(self, topics: frozenset[str]) -> None:
        for chunk in chunks(sorted(topics)):
            await self.store._read(NOTIFY_SQL, CHANNEL, self.holder, chunk)

    def listening(self, arrived: Arrived, connected: Callable[[], Awaitable[None]]
                  ) -> contextlib.AbstractAsyncContextManager[None]:
        return background(self._listen(arrived, connected), "changes-listen")

    async def _listen(self, arrived: Arrived, connected: Callable[[], Awaitable[None]]) -> None:
        backoff = BACKOFF_FIRST
        while True:
            try:
                await self._session(arrived, connected)
                backoff = BACKOFF_FIRST  # it was up; the next failure starts afresh
            except (*FAILURES, TimeoutError) as exc:
                self._down(f"{type(exc).__name__}: {exc}")
            except Exception as exc:  # a bug must not end listening for good
                log.error("changes.listen_crashed", error=repr(exc), exc_info=exc)
                self._down(repr(exc))
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def _session(self, arrived: Arrived, connected: Callable[[], Awaitable[None]]) -> None:
        """One connection's life: listen until it closes or stops answering."""
        conn = await asyncpg.connect(
            self.store.url, timeout=10,
            server_settings={"application_name": f"feedsvc-listen {self.holder}"[:63]})
        closed = asyncio.Event()
        conn.add_termination_listener(lambda _conn: closed.set())
        try:
            await conn.add_listener(CHANNEL, self._receiver(arrived))
            self._offset = await _clock_offset(conn)
            self.problem = None
            self.metrics.change_listener_up.set(1)
            log.info("changes.listening", holder=self.holder, channel=CHANNEL)
            await connected()
            while not closed.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(closed.wait(), timeout=self.check_every)
                if not closed.is_set():
                    await conn.fetchval("SELECT 1", timeout=5)
            self._down("the connection closed")
        finally:
            conn.terminate()

    def _receiver(self, arrived: Arrived) -> Callable[..., None]:
        def received(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
            try:
                message = orjson.loads(payload)
                sender, sent_at, topics = message["from"], float(message["at"]), message["topics"]
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                log.warning("changes.bad_notification", payload=payload[:200])
                return
            if sender == self.holder:
                return  # this process's own: its subscribers heard it in-process
            lag = time.time() - self._offset - sent_at
            self.metrics.change_lag.observe(max(lag, 0.0))
            arrived(frozenset(str(topic) for topic in topics or ()))
        return received

    def _down(self, reason: str) -> None:
        if self.problem is None or self.problem == STARTING:
            log.warning("changes.listen_failed", holder=self.holder, error=reason)
        self.problem = f"not listening for change notifications ({reason}); reconnecting"
        self.metrics.change_listener_up.set(0)


def chunks(slugs: list[str]) -> list[list[str]]:
    """Slugs in groups whose bytes stay under ``CHUNK_BYTES``."""
    groups: list[list[str]] = [[]]
    size = 0
    for slug in slugs:
        cost = len(slug.encode()) + 4  # quotes and a comma, with room
        if groups[-1] and size + cost > CHUNK_BYTES:
            groups.append([])
            size = 0
        groups[-1].append(slug)
        size += cost
    return groups if groups[0] else []


async def _clock_offset(conn: Any) -> float:
    """This machine's clock minus the database's, read halfway through a round trip."""
    before = time.time()
    database = float(await conn.fetchval("SELECT extract(epoch FROM clock_timestamp())"))
    after = time.time()
    return (before + after) / 2 - database
