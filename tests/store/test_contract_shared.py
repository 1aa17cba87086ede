"""The storage contract for processes sharing a store: leases, change counters and
change times. Every backend passes these unchanged."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from feedsvc.store import ALL_TOPIC, Store
from tests.factories import T0, make_article
from tests.store.support import open_store

LONG = timedelta(hours=1)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    backend = await open_store(store_url)
    yield backend
    await backend.close()


async def test_a_lease_has_one_holder_until_released(store: Store) -> None:
    assert await store.claim_lease("poll:rt-arabic", "a", LONG) is True
    assert await store.claim_lease("poll:rt-arabic", "b", LONG) is False
    assert await store.claim_lease("poll:rt-arabic", "a", LONG) is True, "the holder renews"
    assert await store.claim_lease("topics:backfill", "b", LONG) is True, "names are separate"
    await store.release_lease("poll:rt-arabic", "b")  # not b's: nothing happens
    assert await store.claim_lease("poll:rt-arabic", "b", LONG) is False
    await store.release_lease("poll:rt-arabic", "a")
    assert await store.claim_lease("poll:rt-arabic", "b", LONG) is True
    leases = await store.leases()
    assert [(lease.name, lease.holder) for lease in leases] == [
        ("poll:rt-arabic", "b"), ("topics:backfill", "b")]
    assert all(timedelta(0) < lease.expires_in <= LONG for lease in leases)


async def test_an_expired_lease_goes_to_the_next_claimant(store: Store) -> None:
    assert await store.claim_lease("poll:rt-arabic", "dead", timedelta(milliseconds=100))
    deadline = asyncio.get_running_loop().time() + 10
    while not await store.claim_lease("poll:rt-arabic", "next", LONG):
        assert asyncio.get_running_loop().time() < deadline, "the lease never expired"
        await asyncio.sleep(0.05)
    assert [lease.holder for lease in await store.leases()] == ["next"]
    assert await store.claim_lease("poll:rt-arabic", "dead", LONG) is False


async def test_each_write_that_changes_a_feed_moves_its_topics_counters(store: Store) -> None:
    first, second = make_article(1), make_article(2)

    async def moved(write: object) -> set[str]:
        before = await store.topic_versions()
        await write  # type: ignore[misc]
        after = await store.topic_versions()
        return {slug for slug in before.keys() | after.keys() if before.get(slug) != after.get(slug)}

    assert await moved(store.save_article(first, {"syria"}, now=T0)) == {"syria", ALL_TOPIC}
    assert await moved(store.save_article(first, {"syria"}, now=T0)) == set(), "unchanged"
    assert await moved(store.save_article(first, {"gaza"}, now=T0)) == {"syria", "gaza", ALL_TOPIC}
    edited = replace(first, content_hash="edited")
    assert await moved(store.save_article(edited, {"gaza"}, now=T0)) == {"gaza", ALL_TOPIC}
    await store.save_article(second, {"sport"}, now=T0)
    assert await moved(store.absorb(first.id, second.id, now=T0)) == {"sport", ALL_TOPIC}
    assert await moved(store.retract_article(first.id, now=T0, keep=True)) == set(), "still served"
    assert await moved(store.retract_article(first.id, now=T0)) == {"gaza", ALL_TOPIC}
    third = make_article(3)
    await store.save_article(third, set(), now=T0)
    assert await moved(store.set_topic_members({"new": {third.id}}, {"new": "r"}, now=T0)) == {"new"}
    assert await moved(store.set_topic_members({"new": {third.id}}, {"new": "r"}, now=T0)) == set()
    await store.drop_topic("new", now=T0)
    assert "new" not in await store.topic_versions()


async def test_change_time_moves_forward_only_and_covers_every_update(store: Store) -> None:
    article = make_article(1)
    later = T0 + timedelta(hours=2)
    await store.save_article(article, {"syria"}, now=later)
    stats = await store.topic_stats(["syria", ALL_TOPIC, "empty"])
    assert stats["syria"].changed_at == stats[ALL_TOPIC].changed_at == later
    assert stats["empty"].changed_at is None
    # a writer whose clock is behind never moves it back (a replica with a slow clock)
    await store.retract_article(article.id, now=T0)
    assert (await store.topic_stats(["syria"]))["syria"].changed_at == later
    # an article the site dates ahead of the writer's clock: Last-Modified covers it
    ahead = make_article(2, updated=later + timedelta(days=1))
    await store.save_article(ahead, {"syria"}, now=later)
    assert (await store.topic_stats(["syria"]))["syria"].changed_at == ahead.updated
    await store.retract_article(ahead.id, now=later + timedelta(days=2))
    stats = await store.topic_stats(["syria", ALL_TOPIC])
    assert stats["syria"].changed_at == stats[ALL_TOPIC].changed_at == later + timedelta(days=2)
    assert stats["syria"].count == 0
