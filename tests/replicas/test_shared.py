"""Two services on one store, in one process: the same feeds, changes heard from the
other, a missed notification caught up, a storm coalesced, one poll and one backfill."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import orjson
import pytest

from feedsvc.replica import ReplicaSite
from feedsvc.service import open_service
from feedsvc.store import ALL_TOPIC, store_for_url
from feedsvc.store.postgres.notify import CHANNEL
from tests.conftest import REPLICA_NOW, SHIPPED_TOPICS, Clock
from tests.factories import make_article
from tests.ops.test_metrics import scrape, value
from tests.replicas.support import SOURCE, differences, eventually, shared_settings
from tests.store.support import open_store, query, truncate


async def json_of(http: Any, url: str) -> Any:
    async with http.get(url) as response:
        return orjson.loads(await response.read())


async def titles(http: Any, base: str) -> list[str]:
    return [item["title"] for item in (await json_of(http, f"{base}/feeds/all.json"))["items"]]


@pytest.mark.postgres
async def test_what_one_replica_stores_the_other_serves_byte_for_byte(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, postgres_url: str,
        clock: Clock) -> None:
    settings = shared_settings(replica.base_url, tmp_path, postgres_url)
    first, http, base_a = await serve_feedsvc(settings)
    second, _, base_b = await serve_feedsvc(settings)
    assert first.holder != second.holder
    slugs = [*first.topics.topics, ALL_TOPIC]

    await first.poller.poll(settings.sources[0])
    await eventually(lambda: _same(http, [base_a, base_b], slugs), 15, "the same feeds")
    assert len(await titles(http, base_b)) > 10, "the second replica never polled, yet serves"

    newest = replica.newest(limit=1)[0]
    clock.advance(seconds=5)  # HTTP dates have whole seconds: a later Last-Modified
    replica.edit(newest.id, title="عنوان جديد بعد التعديل")
    async with http.get(f"{base_b}/feeds/all.atom") as response:
        before = response.headers["Last-Modified"]
    await first.poller.poll(settings.sources[0])
    await eventually(lambda: _same(http, [base_a, base_b], slugs), 15, "the same feeds")
    assert "عنوان جديد بعد التعديل" in await titles(http, base_b)
    async with http.get(f"{base_b}/feeds/all.atom", headers={"If-Modified-Since": before}) as response:
        assert response.status == 200, "the edit moved Last-Modified on the replica that heard of it"
    samples = await scrape(http, base_b)
    assert value(samples, "feedsvc_change_notifications_total", direction="received") >= 1
    assert value(samples, "feedsvc_change_notification_lag_seconds_count") >= 1
    assert value(samples, "feedsvc_change_catch_ups_total", result="moved") == 0, \
        "the notification did it: the catch-up is an hour away"


async def _same(http: Any, bases: list[str], slugs: list[str]) -> bool:
    return not await differences(http, bases, slugs)


async def test_a_change_no_notification_told_of_is_caught_up(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, store_url: str) -> None:
    """A writer that never publishes (a process killed between its write and its
    publish): the catch-up read finds the moved counter. On SQLite it is all there is."""
    settings = shared_settings(replica.base_url, tmp_path, store_url, catch_up=timedelta(seconds=1))
    writer = await open_store(store_url)  # empties a PostgreSQL database first
    try:
        service, http, base = await serve_feedsvc(settings)
        assert "خبر كتبه غيره" not in await titles(http, base)  # rendered, and kept
        article = make_article(1, title="خبر كتبه غيره")
        await writer.save_article(article, {"syria"}, now=article.updated)
        await eventually(lambda: _lists(http, base, "خبر كتبه غيره"), 15, "the catch-up")
        assert value(await scrape(http, base), "feedsvc_change_catch_ups_total", result="moved") >= 1
    finally:
        await writer.close()


async def _lists(http: Any, base: str, title: str) -> bool:
    return title in await titles(http, base)


@pytest.mark.postgres
async def test_a_notification_missed_while_reconnecting_is_caught_up_at_reconnect(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, postgres_url: str) -> None:
    settings = shared_settings(replica.base_url, tmp_path, postgres_url)
    first, http, base_a = await serve_feedsvc(settings)
    second, _, base_b = await serve_feedsvc(settings)
    await eventually(lambda: _listening(http, base_b), 15, "the listener")

    # what a database restart does to the listening connection
    [[killed]] = await query(
        postgres_url, "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE application_name = $1", f"feedsvc-listen {second.holder}"[:63])
    assert killed == 1
    await eventually(lambda: _degraded(http, base_b), 15, "/healthz saying why")

    await first.poller.poll(settings.sources[0])  # published while the second is deaf
    stored = await first.store.count_articles()
    assert stored > 10
    await eventually(lambda: _listening(http, base_b), 30, "the reconnect")
    await eventually(lambda: _count(http, base_b, stored), 15, "the catch-up at reconnect")


async def _listening(http: Any, base: str) -> bool:
    samples = await scrape(http, base)
    return value(samples, "feedsvc_change_listener_up") == 1


async def _degraded(http: Any, base: str) -> bool:
    health = await json_of(http, f"{base}/healthz")
    return health["status"] == "degraded" and any(
        reason.startswith("changes: not listening") for reason in health["reasons"])


async def _count(http: Any, base: str, count: int) -> bool:
    return len((await json_of(http, f"{base}/feeds/all.json?limit=200"))["items"]) == count


@pytest.mark.postgres
async def test_a_notification_storm_is_coalesced(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, postgres_url: str) -> None:
    settings = shared_settings(replica.base_url, tmp_path, postgres_url)
    service, http, base = await serve_feedsvc(settings)
    await eventually(lambda: _listening(http, base), 15, "the listener")
    before = await scrape(http, base)
    slugs = sorted(service.topics.topics)
    # a first sync elsewhere: 300 messages, from 3 other replicas, in one burst (each
    # one distinct: PostgreSQL folds identical payloads of one transaction into one)
    connection = await asyncpg.connect(postgres_url)
    try:
        async with connection.transaction():
            for n in range(300):
                payload = {"from": f"other:{n % 3}", "at": 0, "topics": [slugs[n % len(slugs)]],
                           "seq": n}
                await connection.execute("SELECT pg_notify($1, $2)", CHANNEL,
                                         orjson.dumps(payload).decode())
    finally:
        await connection.close()

    async def all_received() -> bool:
        samples = await scrape(http, base)
        return value(samples, "feedsvc_change_notifications_total", direction="received") - \
            value(before, "feedsvc_change_notifications_total", direction="received") == 300

    async def deliveries() -> float:
        return value(await scrape(http, base), "feedsvc_change_deliveries_total",
                     origin="remote") - value(before, "feedsvc_change_deliveries_total",
                                              origin="remote")

    await eventually(all_received, 15, "the 300 notifications")
    await eventually(lambda: _positive(deliveries()), 15, "a delivery")
    assert await deliveries() <= 3, "a burst costs a re-render or so, not one per message"


async def _positive(number: Awaitable[float]) -> bool:
    return await number > 0


async def test_two_services_ticking_poll_a_due_source_once(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, store_url: str) -> None:
    settings = shared_settings(replica.base_url, tmp_path, store_url)
    if store_url.startswith("postgresql"):
        await truncate(store_url)
    first, http, base_a = await serve_feedsvc(settings)
    second, _, base_b = await serve_feedsvc(settings)
    replica.inject("slow", "/*/*-*", delay=0.05)  # a poll long enough to overlap a tick

    await first.poller.tick()
    assert first.polling(SOURCE)
    health = await json_of(http, f"{base_b}/healthz")
    assert [(lease["name"], lease["holder"]) for lease in health["replica"]["leases"]] == [
        (f"poll:{SOURCE}", first.holder)]
    await second.poller.tick()
    assert not second.polling(SOURCE), "the first holds the lease"
    assert value(await scrape(http, base_a), "feedsvc_lease_held", lease=f"poll:{SOURCE}") == 1

    await first.poller.running[SOURCE]
    await second.poller.tick()
    assert not second.polling(SOURCE), "polled a moment ago: not due"
    feed_requests = [r for r in replica.requests if r.path == "/rss/"]
    assert len(feed_requests) == 1
    assert (await json_of(http, f"{base_b}/healthz"))["replica"]["leases"] == []


async def test_a_replica_whose_clock_runs_an_hour_ahead_still_waits_for_the_lease(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, store_url: str) -> None:
    settings = shared_settings(replica.base_url, tmp_path, store_url)
    if store_url.startswith("postgresql"):
        await truncate(store_url)
    first, _, _ = await serve_feedsvc(settings)
    ahead = Clock(start=REPLICA_NOW + timedelta(hours=1))
    async with open_service(settings, clock=ahead, serving=False, scheduling=False) as second:
        replica.inject("slow", "/*/*-*", delay=0.05)
        await first.poller.tick()
        assert first.polling(SOURCE)
        await second.poller.tick()
        assert not second.polling(SOURCE), "the lease's expiry is the database's, not a clock's"
        await first.poller.running[SOURCE]
        # to a clock an hour ahead the next poll is long due: it polls early, but alone
        await second.poller.tick()
        assert second.polling(SOURCE)
        await first.poller.tick()
        assert not first.polling(SOURCE)
        await second.poller.running[SOURCE]
    assert len([r for r in replica.requests if r.path == "/rss/"]) == 2


async def test_an_edited_topic_is_backfilled_once_between_replicas(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, store_url: str) -> None:
    topics_file = tmp_path / "topics.toml"
    topics_file.write_text(SHIPPED_TOPICS.read_text(encoding="utf-8"), encoding="utf-8")
    settings = shared_settings(replica.base_url, tmp_path, store_url, topics_file=topics_file)
    if store_url.startswith("postgresql"):
        await truncate(store_url)
    first, http, base_a = await serve_feedsvc(settings)
    await first.poller.poll(settings.sources[0])
    store = store_for_url(store_url)
    await store.open()
    try:
        started = await store.topic_versions()
        second, _, base_b = await serve_feedsvc(settings)
        assert await store.topic_versions() == started, "a second start found the work done"

        slug = "syria-diplomacy"  # its exclusion now covers everything its query matches
        assert (await store.topic_stats([slug]))[slug].count > 0
        text = topics_file.read_text(encoding="utf-8")
        excluded = 'exclude = \'section:sport OR title:(الدوري OR مباراه OR "كره القدم")\''
        assert text.count(excluded) >= 1
        topics_file.write_text(text.replace(
            excluded, "exclude = 'tag:سوريا OR title:(سوري* OR دمشق)'", 1), encoding="utf-8")
        await first.topics.reload()
        await second.topics.reload()
        versions = await store.topic_versions()
        assert {s for s in versions if versions[s] != started.get(s)} == {slug}
        assert versions[slug] == started[slug] + 1, "one backfill wrote the new membership"
        assert (await store.topic_stats([slug]))[slug].count == 0
        await eventually(lambda: _same(http, [base_a, base_b], [slug]), 15, "the same topic feed")
    finally:
        await store.close()
