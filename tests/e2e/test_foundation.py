"""The whole pipeline against the offline replica, over loopback HTTP, no mocks."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import feedparser
import orjson

from feedsvc.replica import ReplicaSite
from tests.conftest import republished_copies, settings_for

ARTICLE_PATH = re.compile(r"^/[a-z_]+/\d+-")


def article_fetches(site: ReplicaSite) -> list[str]:
    return [r.path.split("?")[0] for r in site.requests if ARTICLE_PATH.match(r.path)]


async def get_json(http: Any, url: str) -> Any:
    async with http.get(url) as response:
        assert response.status == 200, await response.text()
        return orjson.loads(await response.read())


async def test_one_poll_fills_feeds_and_a_second_fetches_nothing_again(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> None:
    settings = settings_for(replica.base_url, tmp_path)
    service, http, base = await serve_feedsvc(settings)
    async with http.get(f"{replica.base_url}/rss/") as response:
        announced = feedparser.parse(await response.read()).entries

    copies = republished_copies(replica, (e.link for e in announced))
    assert copies, "the replica's feed window should hold a republished copy"

    report = await service.poller.poll(settings.sources[0])
    assert (report.new, report.duplicates) == (len(announced) - len(copies), len(copies))
    assert (report.page_errors, report.failed) == (0, False)

    everything = await get_json(http, f"{base}/feeds/all.json?limit=200")
    ids = [item["id"] for item in everything["items"]]
    assert len(ids) == len(set(ids)) == len(announced) - len(copies)
    assert all(item["content_html"].startswith('<div dir="rtl" lang="ar">') for item in everything["items"])

    async with http.get(f"{base}/feeds/syria-diplomacy.atom") as response:
        atom = feedparser.parse(await response.read())
    assert not atom.bozo and atom.entries, "the shipped Syria topic should catch replica articles"

    fetched = article_fetches(replica)
    assert len(fetched) == len(set(fetched)) == len(announced)
    second = await service.poller.poll(settings.sources[0])
    assert (second.new, second.updated) == (0, 0)
    assert article_fetches(replica) == fetched, "no article page is fetched twice"
    assert second.feeds_not_modified == 1, "the unchanged feed answers 304 to our validators"


async def test_feed_bytes_are_stable_across_polls_and_restarts(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> None:
    settings = settings_for(replica.base_url, tmp_path)
    service, http, base = await serve_feedsvc(settings)
    await service.poller.poll(settings.sources[0])
    async with http.get(f"{base}/feeds/all.atom") as response:
        first, etag = await response.read(), response.headers["ETag"]
    await service.poller.poll(settings.sources[0])
    app2, http2, base2 = await serve_feedsvc(settings)  # a restart on the same database
    async with http2.get(f"{base2}/feeds/all.atom") as response:
        assert await response.read() == first
        assert response.headers["ETag"] == etag
    async with http2.get(f"{base2}/feeds/all.atom", headers={"If-None-Match": etag}) as response:
        assert response.status == 304


async def test_new_article_appears_after_the_next_poll(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> None:
    settings = settings_for(replica.base_url, tmp_path)
    service, http, base = await serve_feedsvc(settings)
    await service.poller.poll(settings.sources[0])
    published = replica.publish_next()
    assert published is not None
    report = await service.poller.poll(settings.sources[0])
    assert report.new == 1
    newest = (await get_json(http, f"{base}/feeds/all.json?limit=1"))["items"][0]
    assert newest["id"].endswith(f"rt-arabic:{published.id}")
    assert newest["title"] == published.title


async def test_unreachable_site_still_serves_empty_valid_feeds_and_names_the_source(
        serve_feedsvc: Any, tmp_path: Path, unused_tcp_port: int) -> None:
    settings = settings_for(f"http://127.0.0.1:{unused_tcp_port}", tmp_path)
    service, http, base = await serve_feedsvc(settings)
    report = await service.poller.poll(settings.sources[0])
    assert report.failed
    async with http.get(f"{base}/feeds/gaza.atom") as response:
        assert response.status == 200
        parsed = feedparser.parse(await response.read())
    assert not parsed.bozo and parsed.entries == []
    health = await get_json(http, f"{base}/healthz")
    assert health["status"] == "degraded"
    [source] = health["sources"]
    assert source["name"] == "rt-arabic" and source["consecutive_failures"] == 1
    assert str(unused_tcp_port) in source["last_error"]
    assert source["next_poll_at"] is not None
    async with http.get(f"{base}/readyz") as response:
        assert response.status == 200


async def test_contract_routes_answer(replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> None:
    settings = settings_for(replica.base_url, tmp_path)
    service, http, base = await serve_feedsvc(settings)
    await service.pipeline.poll(settings.sources[0])
    async with http.get(f"{base}/") as response:
        assert response.status == 200 and "text/html" in response.headers["Content-Type"]
        assert 'dir="rtl"' in await response.text()
    async with http.get(f"{base}/topics.opml") as response:
        assert response.status == 200 and b"<opml" in await response.read()
    topics = await get_json(http, f"{base}/api/topics")
    slugs = {t["slug"] for t in topics["topics"]}
    assert {"syria-diplomacy", "ukraine-war", "gaza", "sport", "all"} <= slugs
    async with http.get(f"{base}/metrics") as response:
        assert response.status == 200 and "feedsvc_polls" in await response.text()
    async with http.get(f"{base}/feeds/no-such-topic.json") as response:
        assert response.status == 404
        assert "no topic" in orjson.loads(await response.read())["error"]["message"]
