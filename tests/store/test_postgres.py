"""What only the PostgreSQL backend has to get right: several processes share the
database, asyncpg is optional, and its errors and URLs stay inside the store."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from feedsvc.errors import StoreError
from feedsvc.store import ALL_TOPIC, SaveOutcome, store_for_url
from feedsvc.store.pg_migrations import PG_MIGRATIONS
from feedsvc.store.postgres import PostgresStore
from tests.factories import T0, make_article
from tests.store.support import create_database, drop_database, query, scanned, server_url

TOPICS = ("syria", "gaza", "sport")


def test_both_url_schemes_name_the_postgres_backend() -> None:
    for url in ("postgresql://feedsvc@db.internal/feedsvc", "postgres://feedsvc@db.internal/x"):
        assert isinstance(store_for_url(url), PostgresStore)


def test_an_install_without_asyncpg_runs_on_sqlite_and_names_the_extra(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import asyncio, sys
        sys.modules["asyncpg"] = None  # as if the postgres extra were not installed
        import feedsvc.web.app
        from feedsvc.errors import ConfigError
        from feedsvc.store import store_for_url
        store = store_for_url("sqlite:///{tmp_path / 'plain.db'}")
        asyncio.run(store.open()); asyncio.run(store.close())
        try:
            store_for_url("postgresql://feedsvc:secret@db.internal/feedsvc")
        except ConfigError as exc:
            print(exc)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, check=True)
    assert "install feedsvc[postgres]" in done.stdout
    assert "secret" not in done.stdout


async def test_an_unreachable_server_is_a_store_error_without_the_password() -> None:
    store = PostgresStore("postgresql://feedsvc:secret@127.0.0.1:1/feedsvc")
    with pytest.raises(StoreError) as raised:
        await store.open()
    assert isinstance(raised.value.__cause__, OSError)
    assert "127.0.0.1:1/feedsvc" in str(raised.value) and "secret" not in str(raised.value)
    with pytest.raises(StoreError, match="not open"):
        await store.get_article("rt-arabic:1")


@pytest.mark.postgres
async def test_processes_starting_together_apply_each_migration_once(
        postgres_database: str) -> None:  # the run's database: fails early if no server
    url = await create_database(server_url())
    stores = [PostgresStore(url, max_connections=2) for _ in range(4)]
    try:
        await asyncio.gather(*(store.open() for store in stores))
        rows = await query(url, "SELECT version FROM schema_migrations ORDER BY version")
        assert [row[0] for row in rows] == [step[0] for step in PG_MIGRATIONS]
        await stores[0].save_article(make_article(1), {"syria"}, now=T0)
        assert await stores[3].count_articles() == 1
    finally:
        for store in stores:
            await store.close()
        await drop_database(url)


@pytest.mark.postgres
async def test_racing_writers_in_two_processes_keep_counts_equal_to_rows(
        postgres_url: str) -> None:
    first, second = PostgresStore(postgres_url), PostgresStore(postgres_url)
    await first.open()
    await second.open()
    try:
        articles = [make_article(n) for n in range(1, 25)]
        outcomes = await asyncio.gather(*(
            store.save_article(article, set(TOPICS[: (n + k) % 3 + 1]), aliases=["shared"], now=T0)
            for n, article in enumerate(articles) for k, store in enumerate((first, second))))
        for n in range(len(articles)):  # each article is new to exactly one of the writers
            assert outcomes[2 * n: 2 * n + 2].count(SaveOutcome.NEW) == 1
        assert await first.resolve_alias("shared") in {a.id for a in articles}

        edited = [replace(a, content_hash="edited") for a in articles[:8]]
        retracted = await asyncio.gather(
            *(store.retract_article(a.id, now=T0) for a in articles[8:16] for store in (first, second)),
            *(store.absorb(articles[0].id, a.id, now=T0) for a in articles[16:] for store in (first, second)),
            *(first.save_article(a, {"gaza"}, now=T0) for a in edited),
            *(second.set_topic_members({t: [a.id for a in articles[::2]]}, {t: "r"}, now=T0)
              for t in TOPICS[:2]))
        assert retracted[:16].count(True) == 8, "each article is retracted by one writer"

        stats = await first.topic_stats([*TOPICS, ALL_TOPIC])
        for slug, (count, _) in (await scanned(first, TOPICS)).items():
            assert stats[slug].count == count, slug
        assert await second.count_articles() == stats[ALL_TOPIC].count == 8
    finally:
        await first.close()
        await second.close()
