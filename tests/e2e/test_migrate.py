"""``feedsvc migrate``: an embedded SQLite install copied into PostgreSQL, whole, again,
and after a SIGKILL half-way."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from feedsvc.config import StorageSettings
from feedsvc.replica import ReplicaSite
from feedsvc.store import ALL_TOPIC, SQLiteStore
from feedsvc.store.codec import encode_article, to_micros
from feedsvc.store.transfer import SKIPPED
from tests.conftest import settings_for
from tests.factories import T0, make_article
from tests.replicas.support import differences
from tests.store.support import (
    UNREACHABLE,
    create_database,
    drop_database,
    query,
    server_url,
    unreachable_message,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
async def database() -> AsyncIterator[str]:
    """A new, empty database; an unreachable server fails the test, never skips it."""
    try:
        url = await create_database(server_url())
    except UNREACHABLE as exc:
        pytest.fail(unreachable_message(server_url(), exc), pytrace=False)
    try:
        yield url
    finally:
        await drop_database(url)


async def migrate(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "feedsvc", "migrate", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, output.decode()


def tables_of(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                if row[0] not in SKIPPED]


def sqlite_rows(db: Path, table: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    with sqlite3.connect(db) as conn:
        info = list(conn.execute(f'PRAGMA table_info("{table}")'))
        columns = [row[1] for row in info]
        keys = [row[1] for row in sorted((r for r in info if r[5]), key=lambda r: r[5])]
        rows = list(conn.execute(f'SELECT * FROM "{table}" ORDER BY {", ".join(keys)}'))
    return columns, rows


async def assert_copied(db: Path, url: str) -> None:
    """Every row of every copied table, column by column, in PostgreSQL as in SQLite."""
    for table in tables_of(db):
        columns, rows = sqlite_rows(db, table)
        copied = await query(url, f'SELECT {", ".join(columns)} FROM "{table}"')
        keys = [c for c in columns if c in ("id", "key", "article_id", "source", "topic")]
        assert len(copied) == len(rows), table
        expected = {tuple(row): None for row in rows}
        got = {tuple(int(v) if isinstance(v, bool) else v for v in row): None for row in copied}
        if table == "topic_counts":  # the copy moved every change counter, to be heard
            version = columns.index("version")
            expected = {r[:version] + r[version + 1:]: None for r in expected}
            got = {r[:version] + r[version + 1:]: None for r in got}
        assert got.keys() == expected.keys(), f"{table} differs (keys {keys})"


async def test_a_whole_install_is_copied_and_serves_the_same_feeds(
        database: str, replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> None:
    settings = settings_for(replica.base_url, tmp_path)
    sqlite_service, http, sqlite_base = await serve_feedsvc(settings)
    async with http.get(f"{sqlite_base}/api/changes") as response:
        start = (await response.json())["next"]  # a consumer's position before it all
    await sqlite_service.poller.poll(settings.sources[0])
    newest = (await sqlite_service.store.topic_page(ALL_TOPIC, limit=1))[0]
    await sqlite_service.store.retract_article(newest.id, now=T0)  # a tombstone to copy
    await sqlite_service.changes.publish({ALL_TOPIC})
    db = tmp_path / "feedsvc.db"
    counts = {t: len(sqlite_rows(db, t)[1]) for t in tables_of(db)}
    assert all(counts[t] for t in ("articles", "aliases", "tombstones", "topic_articles",
                                   "topic_counts", "poll_state", "page_state")), counts

    status, output = await migrate("--from", f"sqlite:///{db}", "--to", database)
    assert status == 0, output
    assert f"articles: {counts['articles']} rows copied" in output
    await assert_copied(db, database)

    # the copy serves exactly what the original served
    pg_settings = replace(settings, storage=StorageSettings(url=database))
    _, _, pg_base = await serve_feedsvc(pg_settings)
    slugs = [*sqlite_service.topics.topics, ALL_TOPIC]
    assert await differences(http, [sqlite_base, pg_base], slugs) == []
    # and the change stream goes on from a position the SQLite install handed out
    streams = []
    for base in (sqlite_base, pg_base):
        async with http.get(f"{base}/api/changes", params={"since": start, "limit": "1000"}
                            ) as response:
            assert response.status == 200
            streams.append(await response.read())
    assert streams[0] == streams[1] and b'"op":"delete"' in streams[0]

    status, again = await migrate("--from", f"sqlite:///{db}", "--to", database)
    assert status == 0, again
    assert "resuming" not in again, "a finished copy starts afresh"
    await assert_copied(db, database)  # idempotent: the same rows, none twice


def build_large(db: Path, articles: int) -> None:
    """``articles`` articles in one topic, with page states, written in bulk into a store
    whose schema is made already."""
    with sqlite3.connect(db) as conn:
        rows, members, pages = [], [], []
        for n in range(articles):
            article = make_article(n)
            rows.append((article.id, article.source, to_micros(article.published),
                         to_micros(article.updated), article.content_hash,
                         encode_article(article)))
            members.append(("big", article.id, to_micros(article.published),
                            to_micros(article.updated)))
            pages.append((article.source, article.id, article.url, n % 2))
        conn.executemany("INSERT INTO articles (id, source, published, updated, content_hash, "
                         "body) VALUES (?, ?, ?, ?, ?, ?)", rows)
        conn.executemany("INSERT INTO topic_articles (topic, article_id, published, updated) "
                         "VALUES (?, ?, ?, ?)", members)
        conn.executemany("INSERT INTO page_state (source, article_id, url, fetched) "
                         "VALUES (?, ?, ?, ?)", pages)
        conn.execute("INSERT OR REPLACE INTO topic_counts (topic, count) VALUES ('big', ?), ('', ?)",
                     (articles, articles))


async def _create(db: Path) -> None:
    store = SQLiteStore(db)
    await store.open()
    await store.close()


async def test_a_copy_killed_half_way_resumes_where_it_stopped(
        tmp_path: Path, database: str) -> None:
    db = tmp_path / "large.db"
    await _create(db)
    build_large(db, 3000)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "feedsvc", "migrate", "--from", f"sqlite:///{db}",
        "--to", database, "--batch-size", "20",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    assert process.stdout is not None
    while line := await asyncio.wait_for(process.stdout.readline(), timeout=60):
        if line.startswith(b"articles: ") and b"/3000 rows" in line:
            break  # the first batch is committed: the copy is under way
    process.send_signal(signal.SIGKILL)
    await process.wait()
    [[partial]] = await query(database, "SELECT COUNT(*) FROM articles")
    [[noted]] = await query(database, "SELECT copied FROM copy_progress WHERE table_name = 'articles'")
    assert 0 < partial < 3000, "the kill should land mid-copy"
    assert noted == partial, "the note moved with each batch, in its transaction"

    status, output = await migrate("--from", f"sqlite:///{db}", "--to", database)
    assert status == 0, output
    assert f"articles: resuming after {partial} rows" in output
    assert "articles: 3000 rows copied" in output
    await assert_copied(db, database)
    assert await query(database, "SELECT * FROM copy_progress") == []
    assert dict(await query(database, "SELECT topic, count FROM topic_counts")) == {
        "big": 3000, "": 3000}
