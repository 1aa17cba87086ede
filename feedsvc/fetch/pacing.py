"""Per-host manners: how many requests at once, how far apart, and cooling down.

Each host (``host`` or ``host:port``, see ``hosts.host_key``) gets a semaphore of
``per_host_concurrency`` slots and a start-to-start spacing of ``min_host_delay``
seconds, raised to the robots.txt Crawl-delay when that is longer. Requests to
other hosts never wait for each other.

After a 429 or 503 with Retry-After the host *cools down*: until then requests to it
are refused at once with the same ``HTTPStatusError`` (status and ``retry_after``),
without touching the network. Refusing rather than waiting keeps a poll tick short;
the scheduler already turns ``retry_after`` into the source's next poll time.

Time comes from the injected clock and waits go through the injected sleep, so
tests can drive the pacing without real delays.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from feedsvc.errors import HTTPStatusError

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(slots=True)
class _Host:
    slots: asyncio.Semaphore
    min_delay: float
    last_start: datetime | None = None
    in_flight: int = 0
    waiting: int = 0
    cooling_until: datetime | None = None
    cooling_status: int = 503


class HostPacer:
    """Concurrency, spacing and cool-down, per host."""

    def __init__(self, *, concurrency: int, min_delay: float, clock: Clock, sleep: Sleep) -> None:
        self._concurrency = concurrency
        self._min_delay = min_delay
        self._clock = clock
        self._sleep = sleep
        self._hosts: dict[str, _Host] = {}

    def _host(self, host: str) -> _Host:
        if host not in self._hosts:
            self._hosts[host] = _Host(asyncio.Semaphore(self._concurrency), self._min_delay)
        return self._hosts[host]

    def set_crawl_delay(self, host: str, crawl_delay: float | None) -> None:
        """Space requests by the robots.txt Crawl-delay when it exceeds the policy's delay."""
        self._host(host).min_delay = max(self._min_delay, crawl_delay or 0.0)

    def cool_down(self, host: str, until: datetime, status: int) -> datetime:
        """Refuse requests to ``host`` until ``until`` (never shortening a cool-down);
        returns when the host's cool-down now ends."""
        entry = self._host(host)
        if entry.cooling_until is None or until > entry.cooling_until:
            entry.cooling_until, entry.cooling_status = until, status
        return entry.cooling_until

    @asynccontextmanager
    async def slot(self, host: str, url: str) -> AsyncIterator[None]:
        """Hold one of the host's slots, starting no sooner than its spacing allows."""
        entry = self._host(host)
        self.refuse_if_cooling(host, url)
        async with entry.slots:
            await self._wait_turn(entry)
            self.refuse_if_cooling(host, url)  # a cool-down may have begun while waiting
            entry.in_flight += 1
            try:
                yield
            finally:
                entry.in_flight -= 1

    async def _wait_turn(self, entry: _Host) -> None:
        # Reserve the start time before sleeping, so concurrent waiters queue up one
        # spacing apart instead of all waking at once. The spacing is read now, so a
        # Crawl-delay learnt meanwhile applies. A clock that stands still or steps back
        # must not stretch the queue: nobody waits more than one spacing per request
        # queued ahead of it.
        now = self._clock()
        spacing = timedelta(seconds=entry.min_delay)
        start = now
        if entry.last_start is not None:
            start = max(now, min(entry.last_start + spacing, now + spacing * (entry.waiting + 1)))
        entry.last_start = start
        wait = (start - now).total_seconds()
        if wait <= 0:
            return
        entry.waiting += 1
        try:
            await self._sleep(wait)
        finally:
            entry.waiting -= 1

    def refuse_if_cooling(self, host: str, url: str) -> None:
        """Raise the cool-down's HTTPStatusError if ``host`` is cooling down."""
        entry = self._host(host)
        until = entry.cooling_until
        if until is not None and until > self._clock():
            raise HTTPStatusError(url, entry.cooling_status, retry_after=until)
