"""WebSub publishing: tell the configured hub which feeds changed.

The publisher subscribes to the change channel. For each message, every feed URL
of the changed topics that are still served (Atom and JSON, and ``all``) is
announced to ``server.hub_url`` with a form-encoded ``hub.mode=publish`` POST per
URL. The POSTs go through the fetch stage like every outbound request: the hub's
host is on the allow-list (no other host is, on any redirect hop), and the
fetcher's timeouts, pacing and error tree apply.

The pings run in the background: a slow or failing hub never delays or fails a
poll. One worker sends them; changes that arrive while it is busy (a long first
poll reports every few articles) are merged into its next round. A failing hub is
logged once when it starts failing, and once when it answers again; every ping is
counted in ``feedsvc_websub_pings``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from feedsvc.errors import FetchError
from feedsvc.logsetup import get_log
from feedsvc.metrics import Metrics
from feedsvc.models import FetchResult
from feedsvc.publish.urls import FEED_FORMATS, PublicUrls

log = get_log("feedsvc.websub")


class Post(Protocol):
    async def post_form(self, url: str, form: Mapping[str, str]) -> FetchResult: ...


class HubPublisher:
    def __init__(self, hub_url: str, urls: PublicUrls, http: Post, metrics: Metrics,
                 served: Callable[[str], bool]) -> None:
        self.hub_url = hub_url
        self.urls = urls
        self.http = http
        self.metrics = metrics
        self.served = served  # is a topic's feed still served (not removed)?
        self._queued: set[str] = set()
        self._worker: asyncio.Task[None] | None = None
        self._failing = False

    async def changed(self, topics: frozenset[str]) -> None:
        """The change channel's message: queue the topics' feeds; returns at once."""
        self.publish(topics)

    def publish(self, slugs: Iterable[str]) -> None:
        """Announce the feeds of ``slugs`` in the background; returns at once."""
        self._queued.update(slug for slug in slugs if self.served(slug))
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
            await self._round([self.urls.feed(slug, fmt) for slug in sorted(slugs)
                               for fmt in FEED_FORMATS])

    async def _round(self, urls: list[str]) -> None:
        errors = []
        for url in urls:
            try:
                await self.http.post_form(self.hub_url, {"hub.mode": "publish", "hub.url": url})
                self.metrics.websub_pings.labels("ok").inc()
            except FetchError as exc:
                self.metrics.websub_pings.labels("failed").inc()
                errors.append(f"{url}: {exc.reason}")
        if errors:
            if not self._failing:
                log.warning("websub.publish_failed", hub=self.hub_url, failed=len(errors),
                            of=len(urls), first=errors[0])
            self._failing = True
        elif self._failing:
            log.info("websub.publish_recovered", hub=self.hub_url)
            self._failing = False
