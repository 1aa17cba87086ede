"""Readers first: while requests are being answered, a poll's work gives way to them.

A poll and the requests share one process: a page is parsed, cleaned, matched and
stored partly on the event loop and partly in worker threads that hold the GIL for up
to the switch interval at a time, and on a small machine they share the CPU as well.
Left alone, a large ingest takes whatever time the requests leave it, and requests
answer slower in proportion: during an ingest of 1,200 articles, a third as many
requests a second and a p99 nearly three times as long.

So, the way PostgreSQL's vacuum pauses in proportion to its work
(``vacuum_cost_delay``), a poll pauses after each page whenever a request was being
answered within the last second: for a page that kept it busy ``t`` seconds, it
sleeps ``t * (1 / share - 1)``. With ``scheduler.share_while_serving`` at 0.25 (the
default), a page of 10 ms is followed by 30 ms of rest, so the poll takes about a
quarter of the time while readers are served, and all of it when no one reads (1 turns
the pauses off). ``feedsvc_poll_paused_seconds_total`` counts the time given way.

``request_seen`` is called for each request by the web layer's connection guard (not
for ``/healthz``, ``/readyz`` or ``/metrics``: a probe is nobody reading); the
pipeline awaits ``pause_after`` after each page, and the feed cache's background
worker ``until_quiet`` before each render (feedsvc.publish.feedcache). All run on the
event loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from feedsvc.metrics import Metrics

__all__ = ["ReadersFirst"]

RECENT_SECONDS = 1.0  # a request this recent means readers are being served
LONGEST_PAUSE = 2.0  # seconds: one slow page never stalls a poll for long


class ReadersFirst:
    def __init__(self, share: float, metrics: Metrics, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"share must be more than 0 and at most 1, not {share}")
        self.share = share
        self._metrics = metrics
        self._clock = clock
        self._sleep = sleep
        self._last_request = float("-inf")

    def request_seen(self) -> None:
        self._last_request = self._clock()

    def pause_for(self, busy: float) -> float:
        """Seconds to rest after work of ``busy`` seconds: none unless readers are served."""
        if self.share >= 1 or busy <= 0 or self._clock() - self._last_request > RECENT_SECONDS:
            return 0.0
        return min(busy * (1 / self.share - 1), LONGEST_PAUSE)

    async def until_quiet(self) -> None:
        """Return once no request came within the last ``RECENT_SECONDS`` (at once if
        none did): when the feed cache's worker may render."""
        while (left := self._last_request + RECENT_SECONDS - self._clock()) > 0:
            await self._sleep(left)

    async def pause_after(self, busy: float) -> None:
        if (pause := self.pause_for(busy)) > 0:
            self._metrics.poll_paused.inc(pause)
            await self._sleep(pause)
