"""Stores for the backend-agnostic tests, and the PostgreSQL server the postgres ones use.

The server is ``postgresql://postgres@127.0.0.1:5432/postgres`` (trust auth), or
``FEEDSVC_TEST_POSTGRES_URL``. Each pytest run creates its own database on it and
drops it at the end; each test starts from empty tables.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from typing import Any
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped]

from feedsvc.store import ALL_TOPIC, POSTGRES_SCHEMES, SQLiteStore, Store, store_for_url
from feedsvc.store.postgres import PostgresStore

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
SERVER_ENV = "FEEDSVC_TEST_POSTGRES_URL"
UNREACHABLE = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


def server_url() -> str:
    return os.environ.get(SERVER_ENV) or DEFAULT_SERVER


def database_url(server: str, name: str) -> str:
    return urlsplit(server)._replace(path="/" + name).geturl()


def unreachable_message(server: str, exc: BaseException) -> str:
    where = f"{urlsplit(server).hostname}:{urlsplit(server).port or 5432}"
    return (f"PostgreSQL is not reachable at {where}: {exc!r}. "
            f"The postgres tests need it: start the server (.ci/run starts it when it is "
            f"down) or point {SERVER_ENV} at one.")


async def admin(server: str, *statements: str) -> None:
    connection = await asyncpg.connect(server, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def create_database(server: str) -> str:
    """A new, empty database on ``server``; its URL."""
    name = f"feedsvc_test_{secrets.token_hex(6)}"
    await admin(server, f'CREATE DATABASE "{name}"')
    return database_url(server, name)


async def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    await admin(database_url(url, "postgres"), f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def query(url: str, sql: str, *params: Any) -> list[Any]:
    connection = await asyncpg.connect(url, timeout=5)
    try:
        return list(await connection.fetch(sql, *params))
    finally:
        await connection.close()


async def truncate(url: str) -> None:
    """Empty every table but the migrations' record, so the next test starts afresh."""
    tables = [row[0] for row in await query(
        url, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
        "AND tablename <> 'schema_migrations'")]
    if tables:
        await admin(url, "TRUNCATE " + ", ".join(f'"{t}"' for t in tables))


async def open_store(url: str) -> Store:
    """The store behind ``url``, opened, with no rows (a PostgreSQL database is emptied)."""
    store = store_for_url(url)
    await store.open()
    if url.startswith(POSTGRES_SCHEMES):
        await truncate(url)
    return store


async def scanned(store: Store, topics: tuple[str, ...]) -> dict[str, tuple[int, int | None]]:
    """Each topic's (and ``all``'s) row count and newest update, counted over the rows."""
    by_topic = ("SELECT COUNT(*), MAX(a.updated) FROM topic_articles t "
                "JOIN articles a ON a.id = t.article_id WHERE t.topic = {mark}")
    everything = "SELECT COUNT(*), MAX(updated) FROM articles WHERE live = {true}"
    if isinstance(store, SQLiteStore):
        db = sqlite3.connect(store.path)
        try:
            out = {topic: tuple(db.execute(by_topic.format(mark="?"), (topic,)).fetchone())
                   for topic in topics}
            out[ALL_TOPIC] = tuple(db.execute(everything.format(true=1)).fetchone())
        finally:
            db.close()
        return out
    assert isinstance(store, PostgresStore)
    found = {topic: tuple((await query(store.url, by_topic.format(mark="$1"), topic))[0])
             for topic in topics}
    found[ALL_TOPIC] = tuple((await query(store.url, everything.format(true="TRUE")))[0])
    return found
