"""The change log, on every backend: what each write appends, the deleted entries the
feeds list, expiry and the horizon."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import pytest

from feedsvc.store import ALL_TOPIC, DELETE, UPSERT, FeedChange, Store, store_for_url
from tests.factories import T0, make_article
from tests.store.support import open_store


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    backend = await open_store(store_url)
    yield backend
    await backend.close()


async def log_of(store: Store, topic: str, after: int = 0) -> list[tuple[str, str]]:
    page = await store.read_changes(topic, after, 1000)
    return [(change.op, change.article_id) for change in page.changes]


async def test_an_empty_log_has_head_and_horizon_zero(store: Store) -> None:
    page = await store.read_changes(ALL_TOPIC, 0, 10)
    assert (page.changes, page.head, page.horizon) == ((), 0, 0)


async def test_a_new_article_is_an_upsert_in_all_and_its_topics(store: Store) -> None:
    article = make_article(1)
    await store.save_article(article, {"syria", "gaza"}, now=T0)
    for topic in (ALL_TOPIC, "syria", "gaza"):
        [change] = (await store.read_changes(topic, 0, 10)).changes
        assert (change.op, change.article_id, change.topics) == (
            UPSERT, article.id, ("gaza", "syria"))
        assert change.article == article and change.at == article.updated  # as the feeds
    assert await log_of(store, "economy") == []


async def test_the_newest_change_of_an_article_replaces_the_one_before(store: Store) -> None:
    first, second = make_article(1), make_article(2)
    await store.save_article(first, {"syria"}, now=T0)
    await store.save_article(second, {"syria"}, now=T0)
    edited = replace(first, title="عنوان جديد", content_hash="edited")
    await store.save_article(edited, {"syria"}, now=T0 + timedelta(minutes=1))
    page = await store.read_changes("syria", 0, 10)
    assert [c.article_id for c in page.changes] == [second.id, first.id]  # commit order
    assert page.changes[-1].article is not None and page.changes[-1].article.title == "عنوان جديد"
    assert page.head == page.changes[-1].seq
    # a reader past the first two changes sees only the edit
    assert await log_of(store, "syria", page.changes[0].seq) == [(UPSERT, first.id)]


async def test_an_unchanged_save_appends_nothing(store: Store) -> None:
    article = make_article(1)
    await store.save_article(article, {"syria"}, now=T0)
    head = (await store.read_changes(ALL_TOPIC, 0, 10)).head
    await store.save_article(article, {"syria"}, now=T0 + timedelta(hours=1))
    assert (await store.read_changes(ALL_TOPIC, 0, 10)).head == head


async def test_leaving_a_topic_is_a_delete_there_and_an_upsert_in_all(store: Store) -> None:
    article = make_article(1)
    await store.save_article(article, {"syria", "gaza"}, now=T0)
    await store.save_article(article, {"syria"}, now=T0 + timedelta(minutes=5))
    assert await log_of(store, "gaza") == [(DELETE, article.id)]
    assert await log_of(store, "syria") == [(UPSERT, article.id)]
    [change] = (await store.read_changes(ALL_TOPIC, 0, 10)).changes
    assert change.op == UPSERT and change.topics == ("syria",)
    [deleted] = await store.deleted_entries("gaza", 10)
    assert (deleted.article_id, deleted.when) == (article.id, T0 + timedelta(minutes=5))
    assert await store.deleted_entries("syria", 10) == []


async def test_retraction_and_merge_delete_from_every_feed(store: Store) -> None:
    kept, copy, retracted = make_article(1), make_article(2), make_article(3)
    for article in (kept, copy, retracted):
        await store.save_article(article, {"syria"}, now=T0)
    await store.absorb(kept.id, copy.id, now=T0 + timedelta(minutes=1))
    await store.retract_article(retracted.id, now=T0 + timedelta(minutes=2))
    for topic in (ALL_TOPIC, "syria"):
        assert await log_of(store, topic) == [
            (UPSERT, kept.id), (DELETE, copy.id), (DELETE, retracted.id)]
        assert [d.article_id for d in await store.deleted_entries(topic, 10)] == [
            retracted.id, copy.id]  # newest first
    # restored: back in the feeds, no longer listed as deleted
    await store.save_article(retracted, {"syria"}, now=T0 + timedelta(minutes=3), restore=True)
    assert [d.article_id for d in await store.deleted_entries("syria", 10)] == [copy.id]
    assert (await log_of(store, "syria"))[-1] == (UPSERT, retracted.id)


async def test_topic_backfill_and_removal(store: Store) -> None:
    one, two = make_article(1), make_article(2)
    await store.save_article(one, {"syria"}, now=T0)
    await store.save_article(two, set(), now=T0)
    await store.set_topic_members({"syria": [two.id]}, {"syria": "r2"}, now=T0 + timedelta(hours=1))
    assert await log_of(store, "syria") == [(DELETE, one.id), (UPSERT, two.id)]
    assert {c.article_id: c.topics for c in (await store.read_changes(ALL_TOPIC, 0, 10)).changes
            } == {one.id: (), two.id: ("syria",)}
    await store.drop_topic("syria", now=T0 + timedelta(hours=2))
    assert await log_of(store, "syria") == [(DELETE, one.id), (DELETE, two.id)]
    assert (await store.read_changes(ALL_TOPIC, 0, 10)).changes[-1].topics == ()


async def test_deleted_entries_are_capped_newest_first(store: Store) -> None:
    articles = [make_article(n) for n in range(1, 8)]
    for article in articles:
        await store.save_article(article, {"syria"}, now=T0)
    for n, article in enumerate(articles):
        await store.retract_article(article.id, now=T0 + timedelta(minutes=n))
    listed = await store.deleted_entries("syria", 3)
    assert [d.article_id for d in listed] == [a.id for a in articles[:-4:-1]]


async def test_expiry_unlists_old_deletions_then_drops_old_entries(store: Store) -> None:
    old, recent, live = make_article(1), make_article(2), make_article(3)
    for article in (old, recent, live):
        await store.save_article(article, {"syria"}, now=T0)
    await store.retract_article(old.id, now=T0 + timedelta(days=1))
    await store.retract_article(recent.id, now=T0 + timedelta(days=6))
    now = T0 + timedelta(days=9)
    versions = await store.topic_versions()
    changed = await store.expire_changes(unlist_before=now - timedelta(days=7),
                                         drop_before=now - timedelta(days=30), now=now)
    assert changed == {"syria", ALL_TOPIC}
    assert (await store.topic_versions())["syria"] > versions["syria"]
    assert (await store.topic_stats(["syria"]))["syria"].changed_at == now
    assert [d.article_id for d in await store.deleted_entries("syria", 10)] == [recent.id]
    assert await log_of(store, "syria") == [
        (UPSERT, live.id), (DELETE, old.id), (DELETE, recent.id)]  # still in the log
    assert (await store.read_changes("syria", 0, 10)).horizon == 0
    # a second expiry a month later drops what was written before its cut
    later = T0 + timedelta(days=33)
    assert await store.expire_changes(unlist_before=later - timedelta(days=7),
                                      drop_before=later - timedelta(days=30),
                                      now=later) == {"syria", ALL_TOPIC}
    page = await store.read_changes("syria", 0, 10)
    assert [c.article_id for c in page.changes] == [recent.id]
    # everything before the one entry left was dropped: a reader there must start over
    assert 0 < page.horizon < page.changes[0].seq
    assert await store.deleted_entries("syria", 10) == []


async def test_times_never_go_back_along_the_log(store: Store) -> None:
    await store.save_article(make_article(1), {"syria"}, now=T0 + timedelta(hours=1))
    await store.save_article(make_article(2), {"syria"}, now=T0)  # a writer whose clock is behind
    changes: tuple[FeedChange, ...] = (await store.read_changes("syria", 0, 10)).changes
    assert [c.at for c in changes] == [T0 + timedelta(hours=1)] * 2


async def test_the_log_is_shared_by_processes_on_one_store(store: Store, store_url: str
                                                          ) -> None:
    await store.save_article(make_article(1), {"syria"}, now=T0)
    other = store_for_url(store_url)
    await other.open()
    try:
        assert await log_of(other, "syria") == [(UPSERT, make_article(1).id)]
    finally:
        await other.close()


async def test_a_new_url_naming_an_article_changes_it_where_it_is_served(store: Store) -> None:
    article = make_article(1)
    await store.save_article(article, {"syria"}, now=T0)
    head = (await store.read_changes(ALL_TOPIC, 0, 10)).head
    later = T0 + timedelta(hours=1)
    assert await store.add_aliases(article.id, ["id:rt-arabic:7"], now=later) == frozenset()
    assert (await store.read_changes(ALL_TOPIC, 0, 10)).head == head, "an id is not served"
    copy_url = "https://arabic.rt.com/news/7-copy/"
    assert await store.add_aliases(article.id, [copy_url], now=later) == {"syria", ALL_TOPIC}
    for topic in (ALL_TOPIC, "syria"):
        [change] = (await store.read_changes(topic, head, 10)).changes
        assert change.article is not None and change.article.aliases == (copy_url,)
    assert (await store.topic_stats(["syria"]))["syria"].changed_at == later
    assert await store.add_aliases(article.id, [copy_url], now=later) == frozenset(), "once"
