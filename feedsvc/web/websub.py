"""WebSub publishing: tell the configured hub which feeds changed.

After a poll or a topic reload changes topics, every feed URL of those topics
(Atom and JSON, and ``all``) is announced to ``server.hub_url`` with a
form-encoded ``hub.mode=publish`` POST per URL. The pings run in the background
on the app's own client session, bounded by a timeout: a slow or failing hub
never delays or fails a poll, and a failed round is logged once.
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
        self._pending: set[asyncio.Task[None]] = set()
        self.pinged = 0  # feed URLs the hub acknowledged
        self.failed = 0  # rounds that failed

    def feed_urls(self, slugs: Iterable[str]) -> list[str]:
        return [f"{self.public_url}/feeds/{slug}.{fmt}" for slug in sorted(slugs) for fmt in FORMATS]

    def publish(self, slugs: Iterable[str]) -> None:
        """Announce the feeds of ``slugs`` in the background; returns at once."""
        urls = self.feed_urls(slugs)
        if not urls:
            return
        task = asyncio.create_task(self._ping_all(urls), name="websub-publish")
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self, seconds: float) -> None:
        """Let pings in flight finish (up to ``seconds``), then cancel the rest."""
        if self._pending:
            _, late = await asyncio.wait(set(self._pending), timeout=seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _ping_all(self, urls: list[str]) -> None:
        errors = []
        for url in urls:
            try:
                await self._ping(url)
                self.pinged += 1
            except (TimeoutError, aiohttp.ClientError) as exc:
                errors.append(f"{url}: {exc.__class__.__name__} {exc}".strip())
        if errors:
            self.failed += 1
            log.warning("websub.publish_failed hub=%s failed=%d of=%d first=%s",
                        self.hub_url, len(errors), len(urls), errors[0])

    async def _ping(self, url: str) -> None:
        form = {"hub.mode": "publish", "hub.url": url}
        async with self.session.post(self.hub_url, data=form, timeout=PING_TIMEOUT) as response:
            await response.read()
            if response.status >= 300:
                raise aiohttp.ClientResponseError(
                    response.request_info, (), status=response.status, message=response.reason or "")
