"""The render cache: one render however many ask, no stale page kept past a change,
bounded by bytes with the subscription documents protected, and the index, OPML and
topic list kept until the topics change or their counts are an interval old."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

from feedsvc.metrics import Metrics
from feedsvc.publish import FeedCache, FeedQuery
from feedsvc.publish.feedcache import WARM_DELAY
from feedsvc.service import EMPTY_FEED_UPDATED, Service
from tests.conftest import SHIPPED_TOPICS, Clock
from tests.ops.test_metrics import scrape, value
from tests.web.conftest import Polled, web_settings
from tests.web.support import get


async def renders(http: Any, base: str, kind: str) -> float:
    return value(await scrape(http, base), "feedsvc_renders_total", kind=kind)


async def test_concurrent_requests_share_one_render(served: Any) -> None:
    service, http, base = await served()
    before = await renders(http, base, "atom")
    answers = await asyncio.gather(*(get(http, f"{base}/feeds/all.atom") for _ in range(20)))
    assert {response.headers["ETag"] for response, _ in answers} == {answers[0][0].headers["ETag"]}
    assert await renders(http, base, "atom") == before + 1
    await service.changes.publish({"gaza"})  # a change: every page of all and gaza is stale
    answers = await asyncio.gather(*(get(http, f"{base}/feeds/all.atom") for _ in range(20)))
    assert await renders(http, base, "atom") == before + 2


async def test_a_render_started_before_a_change_is_never_kept(served: Any) -> None:
    service, http, base = await served()
    feeds = service.feeds
    assert feeds is not None
    query = FeedQuery(feeds.default_limit("all"), None, None)
    started_before = asyncio.ensure_future(feeds.get("all", "json", query))
    await asyncio.sleep(0)  # the render has begun under the old generation
    await service.changes.publish({"sport"})
    after_change = await feeds.get("all", "json", query)  # must not join the old render
    await started_before
    assert await renders(http, base, "json") == 2
    assert feeds.lookup("all", "json", query.limit, None) is after_change


async def test_the_worker_renders_a_changed_document_only_once_readers_are_quiet(
        served: Any) -> None:
    service, _, _ = await served()
    assert service.feeds is not None
    readers_quiet = asyncio.Event()  # stands in for ReadersFirst.until_quiet
    feeds = FeedCache(service.store, service.topics, service.settings.server, service.clock,
                      EMPTY_FEED_UPDATED, Metrics(), max_age=300,
                      cursors=service.feeds.cursors, quiet=readers_quiet.wait)
    query = FeedQuery(feeds.default_limit("all"), None, None)
    async with feeds.warming():
        await feeds.get("all", "atom", query)  # a subscription document someone reads
        await feeds.invalidate({"gaza"})
        await asyncio.sleep(WARM_DELAY * 2)  # the worker's moment has come, readers are not quiet
        assert feeds.lookup("all", "atom", query.limit, None) is None
        readers_quiet.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while feeds.lookup("all", "atom", query.limit, None) is None:
            assert loop.time() < deadline, "the worker never rendered it once readers were quiet"
            await asyncio.sleep(0.02)


async def test_other_pages_never_push_out_the_subscription_documents(
        polled: Polled, serve_feedsvc: Any, tmp_path: Path) -> None:
    polled.copy_to(tmp_path)
    settings = web_settings("http://127.0.0.1:9", tmp_path)
    settings = replace(settings, server=replace(settings.server, cache_bytes=1024 * 1024))
    service, http, base = await serve_feedsvc(settings)
    subscribed, _ = await get(http, f"{base}/feeds/all.atom")
    before = await renders(http, base, "atom")
    for limit in range(51, 171):  # 120 distinct pages (50 is the default), over a quarter MiB
        response, _ = await get(http, f"{base}/feeds/all.atom?limit={limit}")
        assert response.status == 200
    assert await renders(http, base, "atom") == before + 120
    again, _ = await get(http, f"{base}/feeds/all.atom", headers={"If-None-Match": subscribed.headers["ETag"]})
    assert again.status == 304
    assert await renders(http, base, "atom") == before + 120, "the subscription document stayed"
    held = value(await scrape(http, base), "feedsvc_render_cache_bytes")
    assert 0 < held <= 1024 * 1024


async def test_the_cache_is_bounded_by_bytes_least_recently_read_first(
        polled: Polled, serve_feedsvc: Any, tmp_path: Path) -> None:
    polled.copy_to(tmp_path)
    settings = web_settings("http://127.0.0.1:9", tmp_path)
    settings = replace(settings, server=replace(settings.server, cache_bytes=1024 * 1024))
    service, http, base = await serve_feedsvc(settings)
    slugs = ["all", *service.topics.topics]
    for slug in slugs:
        for fmt in ("atom", "json"):
            await get(http, f"{base}/feeds/{slug}.{fmt}?limit=200", headers={"Accept-Encoding": "br, gzip"})
        held = value(await scrape(http, base), "feedsvc_render_cache_bytes")
        assert held <= 1024 * 1024
    before = await renders(http, base, "atom")
    await get(http, f"{base}/feeds/{slugs[-1]}.atom?limit=200")  # read last: still here
    assert await renders(http, base, "atom") == before
    await get(http, f"{base}/feeds/all.atom?limit=200")  # read first, pushed out since
    assert await renders(http, base, "atom") == before + 1


async def test_index_opml_and_topic_list_are_kept_until_the_topics_change(
        polled: Polled, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    polled.copy_to(tmp_path)
    topics_file = tmp_path / "topics.toml"
    shipped = SHIPPED_TOPICS.read_text(encoding="utf-8")
    topics_file.write_text(shipped, encoding="utf-8")
    settings = replace(web_settings("http://127.0.0.1:9", tmp_path), topics_file=topics_file)
    service: Service
    service, http, base = await serve_feedsvc(settings)
    for path, kind in (("/topics.opml", "opml"), ("/api/topics", "api"), ("/", "index")):
        first, body = await get(http, base + path)
        again, _ = await get(http, base + path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status == 304 and await renders(http, base, kind) == 1
    # counts moved: the kept copies serve on until they are one interval old
    await service.changes.publish({"gaza"})
    _, body_after = await get(http, base + "/")
    assert body_after == body and await renders(http, base, "index") == 1
    clock.advance(seconds=settings.sources[0].interval.total_seconds())
    await get(http, base + "/")
    assert await renders(http, base, "index") == 2
    # a reload (a new title) is seen at once
    topics_file.write_text(shipped.replace('title = "غزة"', 'title = "قطاع غزة"', 1), encoding="utf-8")
    assert await service.topics.reload()
    _, index = await get(http, base + "/")
    _, listed = await get(http, base + "/api/topics")
    assert "قطاع غزة".encode() in index and "قطاع غزة".encode() in listed
