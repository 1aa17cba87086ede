"""The step that gives every stored article page state, on a store written before it.

Before it, an article stored from the feed alone (its page deferred past the poll's
budget) had no page state, so nothing ever read its page again, nor noticed its
retraction. After it, such an article is a pending page like any other.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest

from feedsvc.store import SQLiteStore, Store, store_for_url
from feedsvc.store.codec import encode_article, to_micros
from feedsvc.store.migrations import MIGRATIONS
from feedsvc.store.pg_migrations import PG_MIGRATIONS
from tests.factories import T0, make_article
from tests.store.support import create_database, drop_database, server_url

STUB, FULL, RETRACTED, FAILING = (make_article(n) for n in (1, 2, 3, 4))
STEP = "page state for every article"  # the step under test, by its name
# articles, as the old schema held them: (article, live)
OLD_ARTICLES = ((STUB, 1), (FULL, 1), (RETRACTED, 0), (FAILING, 1))
# page_state rows of the old schema: (article, fetched, failures)
OLD_PAGES = ((FULL, 1, 0), (RETRACTED, 1, 0), (FAILING, 0, 2))


async def check_migrated(store: Store) -> None:
    ids = [a.id for a, _ in OLD_ARTICLES]
    states = await store.get_page_states(ids)
    assert set(states) == set(ids), "every stored article has page state"
    stub = states[STUB.id]
    assert (stub.url, stub.fetched, stub.feed_only, stub.gone) == (STUB.url, False, True, False)
    assert (stub.published, stub.first_seen_at) == (STUB.published, STUB.published)
    assert states[FAILING.id].feed_only and states[FAILING.id].failures == 2
    assert states[RETRACTED.id].gone and not states[FULL.id].gone
    assert not states[FULL.id].feed_only and states[FULL.id].published == FULL.published
    pending = await store.pending_pages("rt-arabic", T0, limit=10)
    assert [s.article_id for s in pending] == [FAILING.id, STUB.id], "newest first"


async def test_sqlite_store_from_before_the_step(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
               "applied_at TEXT NOT NULL)")
    for version, name, script in MIGRATIONS:
        if name.startswith(STEP):
            break
        db.executescript(script)
        db.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", (version, name, "then"))
    for article, live in OLD_ARTICLES:
        db.execute("INSERT INTO articles (id, source, published, updated, content_hash, live, "
                   "body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (article.id, article.source, to_micros(article.published),
                    to_micros(article.updated), article.content_hash, live,
                    encode_article(article)))
    db.execute("INSERT INTO tombstones VALUES (?, ?)", (RETRACTED.id, to_micros(T0)))
    for article, fetched, failures in OLD_PAGES:
        db.execute("INSERT INTO page_state (article_id, source, url, fetched, failures, "
                   "next_attempt_at) VALUES (?, 'rt-arabic', ?, ?, ?, ?)",
                   (article.id, article.url, fetched, failures, to_micros(T0) if failures else None))
    db.commit()
    db.close()
    store = SQLiteStore(path)
    await store.open()
    try:
        await check_migrated(store)
    finally:
        await store.close()


@pytest.mark.postgres
async def test_postgres_store_from_before_the_step() -> None:
    url = await create_database(server_url())
    try:
        await _old_postgres(url)
        store = store_for_url(url)
        await store.open()
        try:
            await check_migrated(store)
        finally:
            await store.close()
    finally:
        await drop_database(url)


async def _old_postgres(url: str) -> None:
    conn = await asyncpg.connect(url, timeout=5)
    run: Callable[..., Awaitable[str]] = conn.execute
    try:
        await run("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                  "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)")
        for version, name, script in PG_MIGRATIONS:
            if name.startswith(STEP):
                break
            await run(script)
            await run("INSERT INTO schema_migrations VALUES ($1, $2, now())", version, name)
        for article, live in OLD_ARTICLES:
            await run("INSERT INTO articles (id, source, published, updated, content_hash, live, "
                      "body) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                      article.id, article.source, to_micros(article.published),
                      to_micros(article.updated), article.content_hash, bool(live),
                      encode_article(article))
        await run("INSERT INTO tombstones VALUES ($1, $2)", RETRACTED.id, to_micros(T0))
        for article, fetched, failures in OLD_PAGES:
            await run("INSERT INTO page_state (article_id, source, url, fetched, failures, "
                      "next_attempt_at) VALUES ($1, 'rt-arabic', $2, $3, $4, $5)",
                      article.id, article.url, bool(fetched), failures,
                      to_micros(T0) if failures else None)
    finally:
        await conn.close()
