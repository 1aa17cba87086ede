"""PostgreSQL away for a while: the rendered feeds keep being served, /healthz says
degraded and why, and once it is back feedsvc reconnects by itself and loses nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest

from feedsvc.replica import ReplicaSite
from feedsvc.store import ALL_TOPIC
from tests.conftest import SHIPPED_TOPICS, Clock
from tests.ops.test_metrics import scrape, value
from tests.replicas.proxy import CuttableRelay
from tests.replicas.support import eventually, representation, shared_settings
from tests.store.support import query
from tests.topics_live.test_reload import LAVROV

pytestmark = pytest.mark.postgres


@pytest.fixture
async def relay(postgres_url: str) -> AsyncIterator[CuttableRelay]:
    parts = urlsplit(postgres_url)
    relay = CuttableRelay(parts.hostname or "127.0.0.1", parts.port or 5432)
    await relay.start()
    yield relay
    await relay.cut()


def through(url: str, relay: CuttableRelay) -> str:
    parts = urlsplit(url)
    return parts._replace(netloc=f"{parts.username}@127.0.0.1:{relay.port}").geturl()


async def health(http: Any, base: str) -> Any:
    async with http.get(f"{base}/healthz") as response:
        assert response.status == 200, "liveness stays 200 through an outage"
        return orjson.loads(await response.read())


async def test_an_outage_serves_what_was_rendered_and_heals_by_itself(
        replica: ReplicaSite, relay: CuttableRelay, serve_feedsvc: Any, tmp_path: Path,
        postgres_url: str, clock: Clock) -> None:
    topics_file = tmp_path / "topics.toml"
    topics_file.write_text(SHIPPED_TOPICS.read_text(encoding="utf-8"), encoding="utf-8")
    settings = shared_settings(replica.base_url, tmp_path, through(postgres_url, relay),
                               catch_up=timedelta(seconds=1), topics_file=topics_file)
    service, http, base = await serve_feedsvc(settings, run_scheduler=True)
    await eventually(lambda: _status(http, base, "ok"), 30, "a first poll")
    slugs = [*service.topics.topics, ALL_TOPIC]
    before = {slug: await representation(http, f"{base}/feeds/{slug}.atom") for slug in slugs}
    stored = await service.store.count_articles()
    assert stored > 10

    await relay.cut()
    await eventually(lambda: _reasons(http, base, ("store: ", "changes: ")), 15, "degraded")
    for slug in slugs:  # the rendered feeds, unchanged, while the database is away
        assert await representation(http, f"{base}/feeds/{slug}.atom") == before[slug]
    # a change heard just as the database went away drops the pages: until they can be
    # rendered again, the ones from before are served
    await service.changes.publish(set(slugs))
    for slug in slugs:
        assert await representation(http, f"{base}/feeds/{slug}.atom") == before[slug]
    async with http.get(f"{base}/feeds/all.json?limit=7") as response:
        assert response.status == 503, "a page never rendered needs the store"

    newest = replica.newest(limit=1)[0]
    replica.edit(newest.id, title="عنوان تغير أثناء الانقطاع")
    clock.advance(minutes=10)  # the source is due: each tick fails to read the store
    # a while: long enough for catch-up reads to fail too
    await eventually(lambda: _catch_up_failed(http, base), 15, "a failed catch-up read")
    # a topic added meanwhile waits for the store: the topics in force keep serving
    with topics_file.open("a", encoding="utf-8") as extra:
        extra.write(LAVROV)
    await eventually(lambda: _reasons(http, base, ("config: store: ",)), 15, "the reload waiting")

    await relay.restore()
    await eventually(lambda: _status(http, base, "ok"), 60, "recovery")
    await eventually(lambda: _title_served(http, base, "عنوان تغير أثناء الانقطاع"), 60,
                     "the edit made during the outage")
    assert await service.store.count_articles() == stored, "nothing lost, nothing doubled"
    [[rows]] = await query(postgres_url, "SELECT COUNT(*) FROM articles WHERE live")
    assert rows == stored
    assert value(await scrape(http, base), "feedsvc_change_listener_up") == 1
    assert await _title_served(http, base, "", "/feeds/lavrov.json"), "the reload went through"


async def _status(http: Any, base: str, status: str) -> bool:
    report = await health(http, base)
    return bool(report["status"] == status and report["sources"]
                and report["sources"][0]["last_success_at"])


async def _reasons(http: Any, base: str, prefixes: tuple[str, ...]) -> bool:
    reasons = (await health(http, base))["reasons"]
    return all(any(reason.startswith(prefix) for reason in reasons) for prefix in prefixes)


async def _catch_up_failed(http: Any, base: str) -> bool:
    return value(await scrape(http, base), "feedsvc_change_catch_ups_total", result="failed") > 0


async def _title_served(http: Any, base: str, title: str, path: str = "/feeds/all.json") -> bool:
    """``title`` is among the feed's items (any item, for an empty title)."""
    async with http.get(f"{base}{path}") as response:
        if response.status != 200:
            return False
        titles = [item["title"] for item in orjson.loads(await response.read())["items"]]
    return bool(titles) and (not title or title in titles)
