"""Walking a feed's pages while the site publishes: nothing lost, nothing repeated."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

from feedsvc.replica import ReplicaSite
from tests.factories import T0, make_article
from tests.web.conftest import web_settings
from tests.web.support import entry_ids, get, get_json, walk


async def test_walking_pages_while_articles_arrive_loses_and_repeats_nothing(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> None:
    settings = web_settings(replica.base_url, tmp_path)
    service, http, base = await serve_feedsvc(settings)
    poller, source = service.poller, settings.sources[0]
    await poller.poll(source)
    assert replica.unpublished(), "the replica should hold articles back to publish"
    counts = {t["slug"]: t["count"] for t in (await get_json(http, f"{base}/api/topics"))["topics"]}
    busiest = max((slug for slug in counts if slug != "all"), key=counts.__getitem__)
    arrived: list[str] = []
    store, feeds = service.store, service.feeds

    async def publish_and_poll() -> None:
        """The site publishes (and we poll); once it has nothing left, articles are stored
        directly, alternately the newest and back-dated into the middle of the feed."""
        if (article := replica.publish_next()) is not None:
            report = await poller.poll(source)
            assert report.new == 1
            arrived.append(f"rt-arabic:{article.id}")
            return
        n = len(arrived)
        newest = await store.topic_page("all", limit=40)
        published = newest[0].published + timedelta(minutes=1) if n % 2 else newest[len(newest) // 2].published
        stored = make_article(n, published=published, updated=published)
        await store.save_article(stored, {busiest}, now=T0)
        await feeds.invalidate({busiest})
        arrived.append(stored.id)

    for slug, fmt in (("all", "json"), ("all", "atom"), (busiest, "json"), (busiest, "atom")):
        before = entry_ids("json", (await get(http, f"{base}/feeds/{slug}.json?limit=200"))[1])
        pages = await walk(http, base, f"{base}/feeds/{slug}.{fmt}?limit=3", fmt,
                           between=publish_and_poll)
        walked = [entry_id for page in pages for entry_id in entry_ids(fmt, page)]
        assert len(walked) == len(set(walked)), f"{slug}.{fmt}: an item repeated"
        assert set(before) <= set(walked), f"{slug}.{fmt}: lost {set(before) - set(walked)}"
        extra = {entry_id.rsplit("/", 1)[-1] for entry_id in set(walked) - set(before)}
        assert all(e.startswith("rt-arabic:") for e in extra)
        assert extra <= set(arrived), f"{slug}.{fmt}: items from nowhere {extra}"
        assert len(pages) > 2
    assert arrived, "articles arrived while pages were walked"
    assert len(arrived) > 10


async def test_a_new_article_changes_the_first_page_and_its_etag(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> None:
    settings = web_settings(replica.base_url, tmp_path)
    service, http, base = await serve_feedsvc(settings)
    await service.poller.poll(settings.sources[0])
    first, body = await get(http, f"{base}/feeds/all.json")
    etag = first.headers["ETag"]
    cursor_page, older = await get(http, orjson.loads(body)["next_url"].replace(
        "http://feeds.test", base)) if "next_url" in orjson.loads(body) else (None, b"")
    article = replica.publish_next()
    assert article is not None
    await service.poller.poll(settings.sources[0])
    response, _ = await get(http, f"{base}/feeds/all.json", headers={"If-None-Match": etag})
    assert response.status == 200 and response.headers["ETag"] != etag
    document = await get_json(http, f"{base}/feeds/all.json")
    assert document["items"][0]["title"] == article.title
    if cursor_page is not None:
        _, again = await get(http, str(cursor_page.url))
        assert entry_ids("json", again) == entry_ids("json", older)
