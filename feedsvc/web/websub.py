"""WebSub publishing: tell the configured hub which feeds changed.

After a poll or a topic reload changes topics, every feed URL of those topics
(Atom and JSON, and ``all``) is announced to ``server.hub_url`` with a
form-encoded ``hub.mode=publish`` POST per URL. The pings run in the background
on the app's own HTTP client, bounded by a timeout: a slow or failing hub
never delays or fails a poll. One worker sends them; changes that arrive while it
is busy (a long first poll reports every few articles) are merged into its next
round. A failing hub is logged once when it starts failing, and once when it
answers again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

import aiohttp

from feedsvc.web.feedcache import FORMATS

log = logging.getLogger("feedsvc.websub")
PING_TIMEOUT = aiohttp.ClientTimeout(total=10)


class HubPublisher:
    def __init__(self, hub_url: str, public_url: str, session: aiohttp.ClientSession) -> None:
        self.hub_url = hub_url
        self.public_url = public_url
        self.session = session
        self._queued: set[str] = set()
        self._worker: asyncio.Task[None] | None = None
        self._failing = False
        self.pinged = 0  # feed URLs the hub acknowledged
        self.failed = 0  # rounds with at least one failed ping

    def feed_urls(self, slugs: Iterable[str]) -> list[str]:
        return [f"{self.public_url}/feeds/{slug}.{fmt}" for slug in sorted(slugs) for fmt in FORMATS]

    def publish(self, slugs: Iterable[str]) -> None:
        """Announce the feeds of ``slugs`` in the background; returns at once."""
        self._queued.update(slugs)
        if self._queued and (self._worker is None or self._worker.done()):
            self._worker = asyncio.create_task(self._work(), name="websub-publish")

    async def drain(self, seconds: float) -> None:
        """Let the pings queued and in flight finish (up to ``seconds``), then cancel them."""
        if self._worker is None or self._worker.done():
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._worker), seconds)
        except TimeoutError:
            self._worker.cancel()
            await asyncio.gather(self._worker, return_exceptions=True)

    async def _work(self) -> None:
        while self._queued:
            slugs, self._queued = self._queued, set()
            await self._round(self.feed_urls(slugs))

    async def _round(self, urls: list[str]) -> None:
        errors = []
        for url in urls:
            try:
                await self._ping(url)
                self.pinged += 1
            except (TimeoutError, aiohttp.ClientError) as exc:
                errors.append(f"{url}: {exc.__class__.__name__} {exc}".strip())
        if errors:
            self.failed += 1
            if not self._failing:
                log.warning("websub.publish_failed hub=%s failed=%d of=%d first=%s",
                            self.hub_url, len(errors), len(urls), errors[0])
            self._failing = True
        elif self._failing:
            log.info("websub.publish_recovered hub=%s", self.hub_url)
            self._failing = False

    async def _ping(self, url: str) -> None:
        form = {"hub.mode": "publish", "hub.url": url}
        async with self.session.post(self.hub_url, data=form, timeout=PING_TIMEOUT) as response:
            await response.read()
            if response.status >= 300:
                raise aiohttp.ClientResponseError(
                    response.request_info, (), status=response.status, message=response.reason or "")
