"""Cursors the service can trust, and renders of other pages that cannot crowd out the rest.

Found: a well-formed cursor the service never issued (base64 of ``[0,"x"]``) answered
200 with a fresh render. Unique forged cursors cost 120 times a cached request; under
20 connections memory grew by 180 MB and /healthz took 0.4-0.8 s.
"""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest

from feedsvc.publish import Cursors
from feedsvc.service import open_service
from feedsvc.store import Cursor
from tests.ops.test_metrics import scrape, value
from tests.security.support import polled_settings
from tests.web.conftest import Polled

FORGED = base64.urlsafe_b64encode(b'[0,"x"]').decode().rstrip("=")


async def status_and_body(http: aiohttp.ClientSession, url: str) -> tuple[int, bytes]:
    async with http.get(url) as response:
        return response.status, await response.read()


async def next_cursor(http: aiohttp.ClientSession, base: str, slug: str, limit: int) -> str:
    status, body = await status_and_body(http, f"{base}/feeds/{slug}.json?limit={limit}")
    assert status == 200
    next_url: str = orjson.loads(body)["next_url"]
    return next_url.rsplit("cursor=", 1)[1]


@pytest.mark.parametrize("path", ["/feeds/all.json", "/feeds/all.atom", "/topics/all",
                                  "/feeds/gaza.json"])
async def test_a_cursor_the_service_never_issued_is_400(
        polled: Polled, serve_feedsvc: Any, tmp_path: Path, path: str) -> None:
    service, http, base = await serve_feedsvc(polled_settings(polled, tmp_path))
    status, body = await status_and_body(http, f"{base}{path}?cursor={FORGED}")
    assert status == 400, body[:200]
    assert b"not a cursor this service issued" in body
    samples = await scrape(http, base)
    assert value(samples, "feedsvc_render_cache_total", result="render") == 0, "nothing rendered"


async def test_only_cursors_issued_for_the_feed_by_this_deployment_are_accepted(
        polled: Polled, serve_feedsvc: Any, tmp_path: Path) -> None:
    service, http, base = await serve_feedsvc(polled_settings(polled, tmp_path))
    issued = await next_cursor(http, base, "all", 5)
    assert (await status_and_body(http, f"{base}/feeds/all.json?limit=5&cursor={issued}"))[0] == 200
    assert (await status_and_body(http, f"{base}/feeds/all.atom?cursor={issued}"))[0] == 200
    edited = issued[:10] + ("A" if issued[10] != "A" else "B") + issued[11:]
    other_deployment = Cursors(b"k" * 32).encode("all", Cursor(datetime(2026, 11, 1, tzinfo=UTC),
                                                              "rt-arabic:1"))
    for token in (edited, other_deployment, issued[:-2], issued + "AA"):
        status, body = await status_and_body(http, f"{base}/feeds/all.json?cursor={token}")
        assert status == 400, (token, body[:200])
    # a cursor of one topic names a place in that topic only
    status, _ = await status_and_body(http, f"{base}/feeds/gaza.json?cursor={issued}")
    assert status == 400


async def test_every_process_on_the_store_accepts_the_cursors_of_the_others(
        polled: Polled, tmp_path: Path) -> None:
    settings = polled_settings(polled, tmp_path)
    async with open_service(settings, scheduling=False) as first:
        assert first.feeds is not None
        token = first.feeds.cursors.encode("all", Cursor(datetime(2026, 11, 28, tzinfo=UTC), "x"))
        async with open_service(settings, scheduling=False) as second:  # a replica
            assert second.feeds is not None
            assert second.feeds.cursors.decode("all", token).article_id == "x"
    async with open_service(settings, scheduling=False) as restarted:
        assert restarted.feeds is not None
        assert restarted.feeds.cursors.decode("all", token).article_id == "x"


async def test_a_crawl_of_every_page_keeps_the_subscription_documents_and_memory_bounded(
        polled: Polled, serve_feedsvc: Any, tmp_path: Path) -> None:
    """20 clients walk every page of every feed at every size while readers poll the
    subscription documents and /healthz: the cache stays within its bytes, the
    subscription documents are never rendered twice, and /healthz always answers."""
    # the subscription documents take about 200 KB in every encoding: they fit in the
    # three quarters of the budget that are theirs, the crawl's pages overflow the rest
    budget = 1_600_000
    settings = polled_settings(polled, tmp_path, cache_bytes=budget)
    service, http, base = await serve_feedsvc(settings)
    topics = [t["slug"] for t in orjson.loads((await status_and_body(http, f"{base}/api/topics"))[1])["topics"]]
    subscriptions = [f"{base}/feeds/{slug}.{fmt}" for slug in topics for fmt in ("atom", "json")]
    for url in subscriptions:
        assert (await status_and_body(http, url))[0] == 200
    renders_before = value(await scrape(http, base), "feedsvc_render_cache_total", result="render")

    limits = iter(range(1, 201))
    crawled = crawled_bytes = largest = 0

    async def crawler() -> None:
        nonlocal crawled, crawled_bytes, largest
        async with aiohttp.ClientSession() as own:
            for limit in limits:
                for slug in topics:
                    url: str | None = f"{base}/feeds/{slug}.json?limit={limit}"
                    while url is not None:
                        status, body = await status_and_body(own, url.replace("http://feeds.test", base))
                        assert status == 200, body[:200]
                        crawled += 1
                        crawled_bytes += len(body)
                        largest = max(largest, service.feeds.bytes)
                        url = orjson.loads(body).get("next_url")

    async def readers() -> int:
        rounds = 0
        while not crawl.done():
            for url in (*subscriptions, f"{base}/healthz"):
                assert (await status_and_body(http, url))[0] == 200, url
            rounds += 1
        return rounds

    crawl = asyncio.ensure_future(asyncio.gather(*(crawler() for _ in range(20))))
    read_rounds = await readers()
    await crawl
    assert crawled > 1000 and read_rounds >= 1
    assert budget // 4 < crawled_bytes, "the crawl brought more than the other pages' share"
    assert largest <= budget, "the cache holds no more than its budget"
    renders_after = value(await scrape(http, base), "feedsvc_render_cache_total", result="render")
    for url in subscriptions:  # still cached: reading them renders nothing
        assert (await status_and_body(http, url))[0] == 200
    final = value(await scrape(http, base), "feedsvc_render_cache_total", result="render")
    assert final == renders_after > renders_before
