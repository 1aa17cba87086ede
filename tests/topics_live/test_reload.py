"""Topics edited while the service runs: reload, backfill, rejection, 410 Gone."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from feedsvc.replica import ReplicaSite
from tests.conftest import SHIPPED_TOPICS, settings_for
from tests.ops.test_metrics import scrape, value

LAVROV = '''
[[topics]]
slug = "lavrov"
title = "لافروف"
description = "كل ما يقوله وزير الخارجية الروسي"
query = "لافروف"
'''


async def eventually(check: Callable[[], Awaitable[bool]], within: float) -> float:
    """Wait until ``check`` passes; returns the seconds it took, fails after ``within``."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not await check():
        if loop.time() - start > within:
            raise AssertionError(f"not true within {within}s")
        await asyncio.sleep(0.05)
    return loop.time() - start


@pytest.fixture
async def running(replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> Any:
    topics_file = tmp_path / "topics.toml"
    topics_file.write_text(SHIPPED_TOPICS.read_text(encoding="utf-8"), encoding="utf-8")
    settings = settings_for(replica.base_url, tmp_path, topics_file=topics_file)
    service, http, base = await serve_feedsvc(settings)
    await service.poller.poll(settings.sources[0])
    return service, http, base, topics_file


async def status_of(http: Any, url: str) -> int:
    async with http.get(url) as response:
        await response.read()
        return int(response.status)


async def json_of(http: Any, url: str) -> Any:
    async with http.get(url) as response:
        return orjson.loads(await response.read())


async def test_new_topic_is_served_and_backfilled_within_two_seconds(running: Any) -> None:
    service, http, base, topics_file = running
    topics_file.write_text(topics_file.read_text(encoding="utf-8") + LAVROV, encoding="utf-8")

    async def served() -> bool:
        return await status_of(http, f"{base}/feeds/lavrov.json") == 200

    took = await eventually(served, within=2.0)
    feed = await json_of(http, f"{base}/feeds/lavrov.json")
    assert feed["items"], "the new topic is backfilled from stored articles at once"
    assert all("لافروف" in (i["title"] + i.get("content_text", "")) for i in feed["items"])
    print(f"reload took {took:.2f}s")


async def test_invalid_edit_is_rejected_and_the_last_good_topics_keep_serving(running: Any) -> None:
    service, http, base, topics_file = running
    good = topics_file.read_text(encoding="utf-8")
    before = await json_of(http, f"{base}/feeds/gaza.json")
    topics_file.write_text(good.replace('slug = "gaza"', 'slug = "gaza"\nquery2 = 1', 1)
                           + LAVROV.replace('"لافروف"', '"(لافروف"'), encoding="utf-8")

    async def degraded() -> bool:
        return (await json_of(http, f"{base}/healthz"))["status"] == "degraded"

    await eventually(degraded, within=2.0)
    health = await json_of(http, f"{base}/healthz")
    error = health["config"]["error"]
    assert f"{topics_file}:" in error and "query2" in error  # file:line:column: reason
    assert any(line.startswith(f"{topics_file}:") and "(" in line for line in error.splitlines()[1:])
    assert await json_of(http, f"{base}/feeds/gaza.json") == before
    assert await status_of(http, f"{base}/feeds/lavrov.json") == 404

    topics_file.write_text(good + LAVROV, encoding="utf-8")  # fixed

    async def healthy() -> bool:
        return (await json_of(http, f"{base}/healthz"))["config"]["error"] is None

    await eventually(healthy, within=2.0)
    assert await status_of(http, f"{base}/feeds/lavrov.json") == 200


async def test_changed_query_refills_the_feed_and_removed_topic_is_gone(running: Any) -> None:
    service, http, base, topics_file = running
    original = topics_file.read_text(encoding="utf-8")
    sport_ids = {i["id"] for i in (await json_of(http, f"{base}/feeds/sport.json"))["items"]}
    assert sport_ids
    narrowed = original.replace('slug = "sport"', 'slug = "sport"\nsections = ["no_such_section"]', 1)
    topics_file.write_text(narrowed + LAVROV, encoding="utf-8")

    async def emptied() -> bool:
        return (await json_of(http, f"{base}/feeds/sport.json"))["items"] == []

    await eventually(emptied, within=2.0)
    topics_file.write_text(original, encoding="utf-8")

    async def refilled() -> bool:
        items = (await json_of(http, f"{base}/feeds/sport.json"))["items"]
        return {i["id"] for i in items} == sport_ids

    await eventually(refilled, within=2.0)
    without_gaza = original.split('[[topics]]\nslug = "gaza"')[0] + "[[topics]]" + \
        original.split('[[topics]]\nslug = "gaza"')[1].split("[[topics]]", 1)[1]
    topics_file.write_text(without_gaza, encoding="utf-8")

    async def gone() -> bool:
        return await status_of(http, f"{base}/feeds/gaza.atom") == 410

    await eventually(gone, within=2.0)
    assert "gaza" not in {t["slug"] for t in (await json_of(http, f"{base}/api/topics"))["topics"]}


async def test_sighup_applies_the_file_at_once_even_when_unchanged(running: Any) -> None:
    """The watch applies new content (docs/operations.md); SIGHUP applies the file as it
    is, changed or not, without waiting for the watch."""
    service, http, base, topics_file = running
    before = value(await scrape(http, base), "feedsvc_config_reloads_total", outcome="ok")
    os.kill(os.getpid(), signal.SIGHUP)

    async def reloaded() -> bool:
        samples = await scrape(http, base)
        return value(samples, "feedsvc_config_reloads_total", outcome="ok") == before + 1

    await eventually(reloaded, within=2.0)
    topics_file.write_text(topics_file.read_text(encoding="utf-8") + LAVROV, encoding="utf-8")
    os.kill(os.getpid(), signal.SIGHUP)

    async def served() -> bool:
        return await status_of(http, f"{base}/feeds/lavrov.atom") == 200

    await eventually(served, within=2.0)
