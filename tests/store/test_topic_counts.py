"""Topic counts (SQLite migration 3, PostgreSQL's first step) stay equal to counting
the rows, whatever the writes."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from feedsvc.store import ALL_TOPIC, SQLiteStore, Store
from feedsvc.store.migrations import MIGRATIONS
from tests.factories import T0, make_article
from tests.store.support import open_store
from tests.store.support import scanned as scanned_rows

TOPICS = ("syria", "gaza", "sport")


async def scanned(store: Store) -> dict[str, tuple[int, int | None]]:
    """What topic_stats said before the counts table: COUNT and MAX over the rows."""
    return await scanned_rows(store, TOPICS)


async def assert_counts_match(store: Store) -> None:
    stats = await store.topic_stats([*TOPICS, ALL_TOPIC])
    for slug, (count, updated) in (await scanned(store)).items():
        assert stats[slug].count == count, slug
        micros = int(stats[slug].updated.timestamp() * 1_000_000) if stats[slug].updated else None
        assert micros == updated, slug
    assert await store.count_articles() == stats[ALL_TOPIC].count


async def test_counts_follow_every_kind_of_write(store_url: str) -> None:
    store = await open_store(store_url)
    try:
        articles = [make_article(n) for n in range(1, 9)]
        for n, article in enumerate(articles):
            await store.save_article(article, set(TOPICS[: n % 3 + 1]), now=T0)
        await assert_counts_match(store)
        edited = replace(articles[0], content_hash="edited",
                         updated=articles[0].updated + timedelta(days=1))
        await store.save_article(edited, {"gaza", "sport"}, now=T0)  # moves topics, newer update
        await assert_counts_match(store)
        await store.absorb(articles[1].id, articles[2].id, now=T0)
        await store.absorb(articles[1].id, articles[2].id, now=T0)  # twice: counted once
        await store.retract_article(articles[3].id, now=T0)
        await store.retract_article(articles[4].id, now=T0, keep=True)
        await store.retract_article(articles[3].id, now=T0)
        await assert_counts_match(store)
        await store.set_topic_members({"syria": [a.id for a in articles]}, {"syria": "r"}, now=T0)
        await assert_counts_match(store)
        await store.drop_topic("gaza", now=T0)
        await assert_counts_match(store)
    finally:
        await store.close()


async def test_migration_counts_rows_stored_before_it(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = SQLiteStore(path)
    await store.open()
    for n in range(1, 6):
        await store.save_article(make_article(n), {"syria"} if n % 2 else {"gaza", "sport"}, now=T0)
    await store.retract_article(make_article(5).id, now=T0)
    await store.close()
    step = next(version for version, name, _ in MIGRATIONS if "topic counts" in name)
    extends = next(version for version, name, _ in MIGRATIONS if "leases" in name)
    db = sqlite3.connect(path)
    # undo step 3 as far as its readers go: drop the table and forget that step, and the
    # one that extends the table (the other later steps touch other tables and stay)
    db.executescript("DROP TABLE topic_counts; DROP TABLE leases; DELETE FROM schema_migrations "
                     f"WHERE version IN ({step}, {extends});"
                     "DROP INDEX topic_articles_updated; DROP INDEX articles_updated;"
                     "ALTER TABLE topic_articles DROP COLUMN updated;")
    db.close()
    store = SQLiteStore(path)
    await store.open()
    try:
        await assert_counts_match(store)
    finally:
        await store.close()
