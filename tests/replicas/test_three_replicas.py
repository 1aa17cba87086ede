"""Three ``feedsvc serve`` processes on one PostgreSQL act as one service.

Real processes, a real PostgreSQL database made empty for the test, the project's
replica of the site on loopback, a 10 s poll interval and a 5 s lease:

- the three start at the same moment on the empty database (migrations take turns);
- the site's feed is requested once per interval in total, never by two at once;
- a headline edited on the site reaches every replica within one interval, and every
  representation of every topic is then the same bytes, ETag and Last-Modified on all
  three;
- the replica holding the poll lease is SIGKILLed mid-poll: another polls the source
  within one lease period (plus a tick) and finishes the work;
- nothing is lost or stored twice.

The site's feed says ``<ttl>5</ttl>`` and ``Cache-Control: max-age=60``, which feedsvc
honours; at a 10 s interval the test would wait for them, so this copy of the replica
leaves both out (a middleware), and notes when each feed request arrives.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.typedefs import Handler

from feedsvc.replica import ReplicaSite, create_replica_app
from feedsvc.store import ALL_TOPIC
from tests.conftest import SHIPPED_TOPICS, Clock
from tests.faults.support import ITEM_ID, expected_ids
from tests.ops.test_metrics import scrape as scrape_metrics
from tests.ops.test_metrics import total
from tests.replicas.support import SOURCE, differences, eventually
from tests.store.support import create_database, drop_database, query, server_url

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.dates]

INTERVAL = 10.0
TICK = 1.0
LEASE = 5.0
JITTER = 0.1  # next_poll_at jitters ±10 % around the interval
ARTICLE_PAGES = "/*/*-*"
EDITED_TITLE = "عنوان عدّله الموقع بعد النشر"
TTL = re.compile(rb"<ttl>\d+</ttl>\n?")


@dataclass
class Site:
    """The replica, served with a hook that drops the feed's max-age and times its requests."""

    site: ReplicaSite
    feed_requests: list[float] = field(default_factory=list)  # loop times of GET /rss/

    def feed_requests_after(self, moment: float) -> list[float]:
        return [t for t in self.feed_requests if t > moment]


@pytest.fixture
async def site(clock: Clock) -> AsyncIterator[Site]:
    served = Site(ReplicaSite(clock=clock))
    app = create_replica_app(served.site)
    loop = asyncio.get_running_loop()

    @web.middleware
    async def no_freshness(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if request.path == "/rss/" and isinstance(response, web.Response):
            served.feed_requests.append(loop.time())
            response.headers.popall("Cache-Control", None)
            if isinstance(response.body, bytes):
                response.body = TTL.sub(b"", response.body)
        return response

    app.middlewares.append(no_freshness)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    served.site.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield served
    finally:
        await runner.cleanup()


@pytest.fixture
async def database(postgres_database: str) -> AsyncIterator[str]:  # fails early if no server
    url = await create_database(server_url())
    try:
        yield url
    finally:
        await drop_database(url)


@dataclass
class Replica:
    port: int
    process: asyncio.subprocess.Process
    log: TextIO

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process.returncode is None


def write_config(tmp_path: Path, site_url: str, database: str) -> Path:
    config = tmp_path / "feedsvc.toml"
    config.write_text(f"""
topics_file = "{SHIPPED_TOPICS}"
[server]
public_url = "http://feeds.test"
health_detail_loopback = true
[storage]
url = "{database}"
[[sources]]
name = "{SOURCE}"
base_url = "{site_url}"
feeds = ["/rss/"]
mirror_hosts = ["{site_url.replace('127.0.0.1', 'localhost')}"]
interval = "{INTERVAL:g}s"
[fetch]
min_host_delay = 0
respect_robots = false
[scheduler]
tick = "{TICK:g}s"
lease = "{LEASE:g}s"
""", encoding="utf-8")
    return config


@pytest.fixture
async def start_replicas(tmp_path: Path, unused_tcp_port_factory: Any
                         ) -> AsyncIterator[Any]:
    started: list[Replica] = []

    async def start(config: Path, count: int) -> list[Replica]:
        for n in range(count):
            port = unused_tcp_port_factory()
            log = (tmp_path / f"replica-{n}.log").open("w", encoding="utf-8")
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "feedsvc", "serve", "--config", str(config),
                env={**os.environ, "FEEDSVC_SERVER_PORT": str(port)},
                stdout=log, stderr=asyncio.subprocess.STDOUT)
            started.append(Replica(port, process, log))
        return list(started)

    try:
        yield start
    finally:
        for replica in started:
            if replica.alive:
                replica.process.send_signal(signal.SIGTERM)
        for replica in started:
            try:
                await asyncio.wait_for(replica.process.wait(), timeout=30)
            except TimeoutError:
                replica.process.kill()
                await replica.process.wait()
            replica.log.close()


async def get_json(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as response:
        return orjson.loads(await response.read()) if response.status == 200 else None


async def ready(http: aiohttp.ClientSession, replica: Replica) -> bool:
    assert replica.alive, f"replica on {replica.port} exited with {replica.process.returncode}"
    try:
        return await get_json(http, f"{replica.base}/readyz") is not None
    except aiohttp.ClientConnectionError:
        return False


async def served_ids(http: aiohttp.ClientSession, replica: Replica) -> list[str]:
    feed = await get_json(http, f"{replica.base}/feeds/all.json?limit=200")
    return [found.group(0) for item in (feed or {"items": []})["items"]
            if (found := ITEM_ID.search(item["id"]))]


async def serve_alike(http: aiohttp.ClientSession, replicas: list[Replica], ids: set[str],
                      slugs: list[str]) -> bool:
    """Every replica lists exactly ``ids`` in ``all``, and every document is the same."""
    for replica in replicas:
        if sorted(await served_ids(http, replica)) != sorted(ids):
            return False
    return not await differences(http, [r.base for r in replicas], slugs)


async def lease_holder(http: aiohttp.ClientSession, replicas: list[Replica]) -> Replica | None:
    for replica in replicas:
        health = await get_json(http, f"{replica.base}/healthz")
        if health and f"poll:{SOURCE}" in health["replica"]["holding"]:
            return replica
    return None


async def test_three_replicas_poll_once_serve_alike_and_fail_over(
        site: Site, database: str, tmp_path: Path, start_replicas: Any) -> None:
    loop = asyncio.get_running_loop()
    config = write_config(tmp_path, site.site.base_url, database)
    replicas = await start_replicas(config, 3)
    async with aiohttp.ClientSession() as http:
        for replica in replicas:
            await eventually(lambda r=replica: ready(http, r), 60, "every replica ready")
        slugs = [t["slug"] for t in (await get_json(http, f"{replicas[0].base}/api/topics"))["topics"]]
        assert ALL_TOPIC in slugs and len(slugs) > 3

        # the first sync: one replica polls, all three serve it, byte for byte
        first_ids = expected_ids(site.site)
        await eventually(lambda: serve_alike(http, replicas, first_ids, slugs), 90,
                         "the first sync on every replica")

        # fresh everywhere: a headline edited on the site, within one interval
        edited = site.site.newest(limit=1)[0]
        site.site.edit(edited.id, title=EDITED_TITLE)
        edited_at = loop.time()

        async def everywhere_edited() -> bool:
            for replica in replicas:
                feed = await get_json(http, f"{replica.base}/feeds/all.json")
                if not feed or EDITED_TITLE not in [item["title"] for item in feed["items"]]:
                    return False
            return not await differences(http, [r.base for r in replicas], slugs)

        # the next poll comes within an interval (+10 % jitter) and a tick
        await eventually(everywhere_edited, INTERVAL * (1 + JITTER) + TICK + 8,
                         "the edit, alike on every replica")
        assert loop.time() - edited_at <= INTERVAL * (1 + JITTER) + TICK + 8

        # once per interval in total: five feed requests, never two within an interval
        await eventually(lambda: _at_least(site.feed_requests, 5), 6 * INTERVAL, "five polls")
        gaps = [b - a for a, b in zip(site.feed_requests, site.feed_requests[1:], strict=False)]
        assert min(gaps) >= INTERVAL * (1 - JITTER) - 0.5, f"polled twice in one interval: {gaps}"

        async def polls_counted() -> bool:
            samples = [await scrape_metrics(http, r.base) for r in replicas]
            counted = sum(total(s, "feedsvc_polls_total", source=SOURCE) for s in samples)
            return counted == len(site.feed_requests)

        await eventually(polls_counted, 15, "each feed request being one replica's poll")

        # failover: new articles, slow pages, and the lease holder killed mid-poll
        published = [article.id for article in (site.site.publish_next() for _ in range(4))
                     if article is not None]
        assert len(published) == 4
        site.site.inject("slow", ARTICLE_PAGES, delay=1.0)

        async def new_page_requested() -> bool:
            return any(f"/{article_id}-" in request.path for request in site.site.requests
                       for article_id in published)

        await eventually(new_page_requested, 2 * INTERVAL, "a poll fetching the new pages")
        holder = await lease_holder(http, replicas)
        assert holder is not None, "the polling replica holds the lease"
        holder.process.send_signal(signal.SIGKILL)
        await holder.process.wait()
        killed_at = loop.time()
        survivors = [r for r in replicas if r is not holder]

        await eventually(lambda: _at_least(site.feed_requests_after(killed_at), 1),
                         LEASE + 2 * TICK, "another replica polling within one lease period")

        final_ids = first_ids | expected_ids(site.site)
        assert {f"{SOURCE}:{article_id}" for article_id in published} <= final_ids
        await eventually(lambda: serve_alike(http, survivors, final_ids, slugs), 60,
                         "the new articles, alike on both survivors")

    # nothing lost, nothing stored twice
    rows = await query(database, "SELECT id FROM articles WHERE live")
    assert sorted(row[0] for row in rows) == sorted(final_ids)
    assert await query(database, "SELECT topic, article_id FROM topic_articles "
                       "GROUP BY topic, article_id HAVING COUNT(*) > 1") == []
    counts = dict(await query(database, "SELECT topic, count FROM topic_counts"))
    scanned = dict(await query(database, "SELECT topic, COUNT(*) FROM topic_articles GROUP BY topic"))
    assert {t: c for t, c in counts.items() if t and c} == scanned
    assert counts[""] == len(final_ids)


async def _at_least(items: list[float], count: int) -> bool:
    return len(items) >= count
