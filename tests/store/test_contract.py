"""The storage contract: every backend must pass these tests unchanged."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from feedsvc.models import FeedItem, Image, PollState
from feedsvc.store import ALL_TOPIC, Cursor, PageState, SaveOutcome, Store, store_for_url
from tests.factories import T0, make_article
from tests.store.support import open_store


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    """Each backend in turn: ``store_url`` is parametrized over sqlite and postgres."""
    backend = await open_store(store_url)
    yield backend
    await backend.close()


async def test_save_then_get_round_trips_every_field(store: Store) -> None:
    article = make_article(1, author="سامر", credit="نوفوستي", aliases=("x",))
    assert await store.save_article(article, {"syria"}, now=T0) is SaveOutcome.NEW
    assert await store.get_article(article.id) == article
    assert (await store.get_article(article.id)).aliases == ("x",)  # type: ignore[union-attr]


async def test_same_content_is_unchanged_and_changed_content_is_an_update(store: Store) -> None:
    article = make_article(1)
    await store.save_article(article, {"syria"}, now=T0)
    assert await store.save_article(article, {"syria"}, now=T0) is SaveOutcome.UNCHANGED
    edited = replace(article, title="عنوان جديد", content_hash="other",
                     updated=article.updated + timedelta(hours=1))
    assert await store.save_article(edited, {"syria"}, now=T0) is SaveOutcome.UPDATED
    stored = await store.get_article(article.id)
    assert stored is not None and stored.title == "عنوان جديد"
    assert stored.published == article.published


async def test_topic_membership_change_alone_is_an_update(store: Store) -> None:
    article = make_article(1)
    await store.save_article(article, {"syria"}, now=T0)
    assert await store.save_article(article, {"syria", "gaza"}, now=T0) is SaveOutcome.UPDATED
    assert [a.id for a in await store.topic_page("gaza", limit=10)] == [article.id]


async def test_topic_page_is_newest_first_and_cursor_pages_without_gaps(store: Store) -> None:
    articles = [make_article(n) for n in range(1, 26)]
    for article in articles:
        await store.save_article(article, {"syria"} if article.published.minute % 2 else {"gaza"}, now=T0)
    seen: list[str] = []
    cursor = None
    while True:
        page = await store.topic_page(ALL_TOPIC, limit=7, before=cursor)
        seen += [a.id for a in page]
        if len(page) < 7:
            break
        cursor = Cursor(page[-1].published, page[-1].id)
        # a new article arriving between pages must not shift the next page
        await store.save_article(make_article(100 + len(seen), published=T0 + timedelta(days=1)), set(), now=T0)
    assert seen[: len(articles)] == [a.id for a in sorted(articles, key=lambda a: a.published, reverse=True)]
    syria = await store.topic_page("syria", limit=100)
    assert all(a.published.minute % 2 for a in syria) and len(syria) == 13


async def test_since_limits_a_page_by_age(store: Store) -> None:
    for n in range(1, 6):
        await store.save_article(make_article(n), {"t"}, now=T0)
    page = await store.topic_page("t", limit=10, since=T0 + timedelta(minutes=4))
    assert [a.id for a in page] == [make_article(5).id, make_article(4).id]


async def test_retract_removes_from_feeds_and_tombstones(store: Store) -> None:
    article = make_article(1)
    await store.save_article(article, {"syria"}, aliases=["https://arabic.rt.com/x/"], now=T0)
    assert await store.retract_article(article.id, now=T0) is True
    assert await store.topic_page("syria", limit=10) == []
    assert await store.topic_page(ALL_TOPIC, limit=10) == []
    assert await store.is_tombstoned(article.id)
    assert await store.retract_article(article.id, now=T0) is False
    assert await store.count_articles() == 0


async def test_aliases_resolve_to_their_article(store: Store) -> None:
    article = make_article(1)
    await store.save_article(article, set(), aliases=["https://arabic.rt.com/news/1-a/", "fp:abc"], now=T0)
    assert await store.resolve_alias("fp:abc") == article.id
    assert await store.resolve_alias("missing") is None


async def test_stats_and_backfill_membership(store: Store) -> None:
    for n in range(1, 4):
        await store.save_article(make_article(n), set(), now=T0)
    ids = {make_article(1).id, make_article(3).id}
    rules = {"new-topic": "rules-1", "other": "rules-2"}
    assert await store.set_topic_members({"new-topic": ids, "other": set()}, rules, now=T0) == {"new-topic"}
    assert await store.set_topic_members({"new-topic": ids}, rules, now=T0) == frozenset()
    assert await store.topic_rules() == rules
    stats = await store.topic_stats(["new-topic", ALL_TOPIC, "empty"])
    assert stats["new-topic"].count == 2 and stats[ALL_TOPIC].count == 3
    assert stats["new-topic"].updated == make_article(3).updated
    assert stats["empty"].count == 0 and stats["empty"].updated is None
    await store.drop_topic("new-topic", now=T0)
    assert (await store.topic_stats(["new-topic"]))["new-topic"].count == 0
    assert await store.topic_rules() == {"other": "rules-2"}


async def test_a_backfill_of_thousands_of_topics_writes_only_what_moved(store: Store) -> None:
    """Members of 1,200 topics at once (more than one statement's worth of names on
    SQLite): each topic ends with exactly its members, and only moved topics change."""
    articles = [make_article(n) for n in range(1, 6)]
    for article in articles:
        await store.save_article(article, {"t0007"} if article is articles[0] else set(), now=T0)
    slugs = [f"t{n:04d}" for n in range(1200)]
    wanted = {slug: {articles[n // 300].id} if n % 300 == 7 else set() for n, slug in enumerate(slugs)}
    rules = {slug: "r1" for slug in slugs}
    changed = await store.set_topic_members(wanted, rules, now=T0)
    assert changed == {"t0307", "t0607", "t0907"}, "t0007 held its member already"
    stats = await store.topic_stats(slugs)
    assert {slug for slug in slugs if stats[slug].count} == {"t0007", "t0307", "t0607", "t0907"}
    assert await store.topic_rules() == rules
    wanted["t0007"], wanted["t1199"] = set(), {articles[4].id}
    assert await store.set_topic_members(wanted, rules, now=T0) == {"t0007", "t1199"}
    stats = await store.topic_stats(["t0007", "t1199"])
    assert (stats["t0007"].count, stats["t1199"].count) == (0, 1)


async def test_iter_articles_reads_everything_in_batches(store: Store) -> None:
    for n in range(1, 12):
        await store.save_article(make_article(n), set(), now=T0)
    seen = [a.id async for a in store.iter_articles(batch_size=3)]
    assert seen == [make_article(n).id for n in range(1, 12)]


async def test_poll_and_page_state_round_trip(store: Store) -> None:
    assert await store.get_poll_state("rt-arabic") == PollState(source="rt-arabic")
    state = PollState("rt-arabic", next_poll_at=T0, last_success_at=T0, last_error="HTTP 503",
                      consecutive_failures=2, validators=(("http://x/rss/", '"e1"', None),))
    await store.save_poll_state(state)
    assert await store.get_poll_state("rt-arabic") == state
    item = FeedItem("rt-arabic", "1", "http://x/1/", "عنوان", "ملخص", T0,
                    Image("http://img/1.jpg", "تعليق"), "news", ("سوريا",), "مراسل")
    page = PageState("rt-arabic:1", "http://x/1/", "sig", '"e"', None, failures=1,
                     next_attempt_at=T0, last_error="no title", item=item, published=T0,
                     first_seen_at=T0 + timedelta(seconds=1), feed_only=True,
                     next_check_at=T0 + timedelta(hours=1), checks=2)
    await store.save_page_state(page)
    assert await store.get_page_states(["rt-arabic:1", "rt-arabic:2"]) == {"rt-arabic:1": page}
    bare = PageState("rt-arabic:2", "http://x/2/")
    await store.save_page_state(bare)
    assert (await store.get_page_states([bare.article_id]))[bare.article_id] == bare


def pending(n: int, **fields: Any) -> PageState:
    return PageState(f"rt-arabic:{n}", f"http://x/{n}/", published=T0 + timedelta(minutes=n),
                     **fields)


async def test_pending_pages_are_the_unextracted_ones_due_newest_first(store: Store) -> None:
    for state in (pending(1), pending(2, next_attempt_at=T0), pending(3),
                  pending(4, next_attempt_at=T0 + timedelta(hours=1)),  # backing off
                  pending(5, fetched=True), pending(6, gone=True)):
        await store.save_page_state(state)
    await store.save_page_state(replace(pending(7), article_id="other:7"))
    due = await store.pending_pages("rt-arabic", T0, limit=10)
    assert [s.article_id for s in due] == ["rt-arabic:3", "rt-arabic:2", "rt-arabic:1"]
    assert [s.article_id for s in await store.pending_pages("rt-arabic", T0, limit=2)] == [
        "rt-arabic:3", "rt-arabic:2"]
    later = await store.pending_pages("rt-arabic", T0 + timedelta(hours=1), limit=10)
    assert [s.article_id for s in later][0] == "rt-arabic:4"


async def test_due_rechecks_are_extracted_or_gone_pages_whose_check_has_come(store: Store) -> None:
    hour = timedelta(hours=1)
    for state in (pending(1, fetched=True, next_check_at=T0 + hour),
                  pending(2, fetched=True, next_check_at=T0),
                  pending(3, gone=True, next_check_at=T0 - hour),
                  pending(4, fetched=True, next_check_at=T0 - hour, failures=1,
                          next_attempt_at=T0 + hour),  # a failed re-read, backing off
                  pending(5, fetched=True),  # no check planned
                  pending(6, next_check_at=T0)):  # never extracted: pending, not a re-check
        await store.save_page_state(state)
    due = await store.due_rechecks("rt-arabic", T0, limit=10)
    assert [s.article_id for s in due] == ["rt-arabic:3", "rt-arabic:2"]
    assert len(await store.due_rechecks("rt-arabic", T0, limit=1)) == 1
    later = await store.due_rechecks("rt-arabic", T0 + hour, limit=10)
    assert [s.article_id for s in later] == ["rt-arabic:3", "rt-arabic:4", "rt-arabic:2",
                                             "rt-arabic:1"]


async def test_restore_brings_a_retracted_article_back_under_its_id(store: Store) -> None:
    article = make_article(1)
    await store.save_article(article, {"syria"}, now=T0)
    await store.retract_article(article.id, now=T0)
    assert await store.count_articles() == 0
    edited = replace(article, updated=article.updated + timedelta(hours=1))
    assert await store.save_article(edited, {"syria"}, restore=True, now=T0) is SaveOutcome.RESTORED
    assert not await store.is_tombstoned(article.id)
    assert [a.id for a in await store.topic_page("syria", limit=10)] == [article.id]
    assert [a.id for a in await store.topic_page(ALL_TOPIC, limit=10)] == [article.id]
    stats = await store.topic_stats(["syria", ALL_TOPIC])
    assert (stats["syria"].count, stats[ALL_TOPIC].count) == (1, 1)
    assert await store.save_article(edited, {"syria"}, restore=True, now=T0) is SaveOutcome.UNCHANGED

    never_stored = make_article(2)
    await store.retract_article(never_stored.id, now=T0)  # its page was gone before it was stored
    assert await store.save_article(never_stored, set(), restore=True, now=T0) is SaveOutcome.NEW
    assert not await store.is_tombstoned(never_stored.id)
    assert await store.count_articles() == 2


async def test_topic_pages_carry_each_articles_alias_urls(store: Store) -> None:
    original, copy, plain = make_article(1), make_article(2), make_article(3)
    await store.save_article(copy, {"syria"}, aliases=[copy.url, "https://mirror.example/copy/"], now=T0)
    await store.save_article(original, {"syria"}, aliases=[original.url], now=T0)
    await store.save_article(plain, {"syria"}, now=T0)
    await store.absorb(original.id, copy.id, now=T0)
    for topic in ("syria", ALL_TOPIC):
        page = {a.id: a.aliases for a in await store.topic_page(topic, limit=10)}
        # its own URL and the internal id: key stay out; the copy's URLs are in
        assert page == {original.id: tuple(sorted([copy.url, "https://mirror.example/copy/"])),
                        plain.id: ()}


async def test_fingerprint_finds_the_earliest_live_article(store: Store) -> None:
    first, later = make_article(1), make_article(2)
    await store.save_article(later, set(), fingerprint="fp1", now=T0)
    await store.save_article(first, set(), fingerprint="fp1", now=T0)
    found = await store.by_fingerprint("fp1")
    assert found is not None and found.id == first.id
    await store.retract_article(first.id, now=T0)
    found = await store.by_fingerprint("fp1")
    assert found is not None and found.id == later.id
    assert await store.by_fingerprint("other") is None


async def test_absorb_folds_a_copy_into_the_survivor(store: Store) -> None:
    original, copy = make_article(1), make_article(2)
    await store.save_article(copy, {"syria"}, aliases=["https://mirror.example/copy/"], now=T0)
    await store.save_article(original, {"syria"}, now=T0)
    assert await store.absorb(original.id, copy.id, now=T0) == frozenset({"syria"})
    assert [a.id for a in await store.topic_page("syria", limit=10)] == [original.id]
    assert [a.id for a in await store.topic_page(ALL_TOPIC, limit=10)] == [original.id]
    for key in (f"id:{copy.id}", copy.url, "https://mirror.example/copy/"):
        assert await store.resolve_alias(key) == original.id
    await store.add_aliases(original.id, ["https://arabic.rt.com/x/"])
    assert await store.resolve_alias("https://arabic.rt.com/x/") == original.id


async def test_iter_articles_since(store: Store) -> None:
    for n in range(1, 6):
        await store.save_article(make_article(n), set(), now=T0)
    recent = [a.id async for a in store.iter_articles(since=make_article(4).published)]
    assert recent == [make_article(4).id, make_article(5).id]


async def test_a_shared_secret_is_the_first_one_kept_for_every_opening(
        store: Store, store_url: str) -> None:
    assert await store.shared_secret("cursors", b"\x00first\xff") == b"\x00first\xff"
    assert await store.shared_secret("cursors", b"second") == b"\x00first\xff"
    assert await store.shared_secret("other", b"own") == b"own"
    # a second process on the same store, and two first calls at once, get one value
    again = store_for_url(store_url)
    await again.open()
    try:
        assert await again.shared_secret("cursors", b"third") == b"\x00first\xff"
        racing = await asyncio.gather(store.shared_secret("race", b"a" * 32),
                                      again.shared_secret("race", b"b" * 32))
        assert racing[0] == racing[1] and racing[0] in (b"a" * 32, b"b" * 32)
    finally:
        await again.close()
