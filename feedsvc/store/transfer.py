"""Copy an embedded SQLite store into PostgreSQL: ``feedsvc migrate``.

::

    feedsvc migrate --from sqlite:///srv/feedsvc/data/feedsvc.db \\
                    --to postgresql://feedsvc@db.internal/feedsvc

Both stores are opened as feedsvc opens them, so each schema is brought up to date
first. Then every table the two schemas share (articles, aliases, tombstones, topic
memberships and counts, poll and page state; not leases, not the migrations' record)
is copied table by table, in primary-key order, in batches (the shared secrets and
the change log too, so cursors and change stream positions go on working):

- each batch is upserted by primary key (``INSERT … ON CONFLICT … DO UPDATE``), so a
  row copied twice is still one row, and running the copy again over a finished one
  writes the same rows again: **idempotent**;
- the last key copied of each table is noted in ``copy_progress`` in the same
  transaction as its batch, so a copy killed at any instant **resumes** after the last
  committed batch; a finished copy clears its notes, and the next run starts afresh;
- columns are matched by name, so a column only one side has is left out (the
  target's default applies): a newer schema on either side does not break the copy.

At the end, in one transaction, the topic counts are counted again from the copied
rows (the target may have held other articles), every topic's change counter moves
(replicas already running render again) and the progress notes go. Progress is
printed as it goes: each table's first batch, then every few seconds, then its total.

Stop feedsvc on the SQLite file first (or copy a backup of it): rows written to the
source during the copy may or may not be copied.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import orjson

from feedsvc.errors import ConfigError, StoreError
from feedsvc.store import POSTGRES_SCHEMES
from feedsvc.store.rows import LIVE_COUNT

# Not copied: each store keeps its own record of migrations, leases belong to running
# processes, and the copy's own notes are the target's.
SKIPPED = frozenset({"schema_migrations", "leases", "copy_progress"})
FIRST = ("articles", "aliases", "tombstones", "topic_articles", "topic_counts")
PROGRESS_EVERY = 2.0  # seconds between progress lines of one table

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Table:
    """A table both stores have: the columns they share, its key, and which are booleans."""

    name: str
    columns: tuple[str, ...]
    keys: tuple[str, ...]
    booleans: frozenset[str]  # SQLite stores 0/1, PostgreSQL wants true/false


def parse_urls(source: str, target: str) -> tuple[Path, str]:
    """The SQLite file and the PostgreSQL URL; ``ConfigError`` says what is wrong."""
    if not source.startswith("sqlite:///"):
        raise ConfigError(f"--from {source!r}: copy from an SQLite store (sqlite:///path.db)")
    if not target.startswith(POSTGRES_SCHEMES):
        raise ConfigError("--to: copy into a PostgreSQL store (postgresql://user@host/db)")
    path = Path(source.removeprefix("sqlite:///"))
    if not path.is_file():
        raise ConfigError(f"--from: no database at {path}")
    return path.resolve(), target


async def copy_store(source: str, target: str, *, batch_size: int = 500,
                     say: Say = print) -> int:
    """Copy every shared table of the SQLite store ``source`` into ``target``; the rows
    copied. Raises ``ConfigError`` (bad URLs) and ``StoreError``."""
    from feedsvc.store.postgres import PostgresStore
    from feedsvc.store.sqlite import SQLiteStore

    path, url = parse_urls(source, target)
    for store in (SQLiteStore(path), PostgresStore(url, max_connections=2)):
        await store.open()  # brings each schema up to date
        await store.close()
    started = time.monotonic()
    async with _Source(path) as reader, _Target(url, str(path)) as writer:
        say(f"copying {path} into {writer.where}")
        tables = await _shared_tables(reader, writer)
        copied = 0
        for table in tables:
            copied += await _copy_table(reader, writer, table, batch_size, say)
        await writer.finish()
    say(f"done: {copied} rows in {len(tables)} tables in {time.monotonic() - started:.1f} s; "
        "topic counts counted again")
    return copied


async def _shared_tables(reader: _Source, writer: _Target) -> list[Table]:
    tables = []
    order = {name: n for n, name in enumerate(FIRST)}
    for name in sorted(await reader.tables(), key=lambda n: (order.get(n, len(FIRST)), n)):
        target_columns = await writer.columns(name)
        if name in SKIPPED or not target_columns:
            continue
        source_columns, keys = await reader.columns(name)
        shared = tuple(c for c in source_columns if c in target_columns)
        if not keys or not set(keys) <= set(shared):
            raise StoreError(f"table {name}: no primary key both stores share")
        booleans = frozenset(c for c in shared if target_columns[c] == "boolean")
        tables.append(Table(name, shared, keys, booleans))
    return tables


async def _copy_table(reader: _Source, writer: _Target, table: Table, batch_size: int,
                      say: Say) -> int:
    total = await reader.count(table.name)
    after, copied = await writer.progress(table.name)
    if after is not None:
        say(f"{table.name}: resuming after {copied} rows")
    shown = 0.0
    while True:
        rows = await reader.batch(table, after, batch_size)
        if not rows:
            break
        after = [rows[-1][table.columns.index(k)] for k in table.keys]
        copied += len(rows)
        await writer.upsert(table, rows, after, copied)
        now = time.monotonic()
        if not shown or now - shown >= PROGRESS_EVERY:
            say(f"{table.name}: {copied}/{total} rows")
            shown = now
    say(f"{table.name}: {copied} rows copied")
    return copied


class _Source:
    """The SQLite file, read only, in key order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db: aiosqlite.Connection | None = None

    async def __aenter__(self) -> _Source:
        try:
            self.db = await aiosqlite.connect(f"file:{self.path}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read {self.path}: {exc}") from exc
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.db is not None:
            await self.db.close()

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        assert self.db is not None
        try:
            return list(await self.db.execute_fetchall(sql, params))
        except sqlite3.Error as exc:
            raise StoreError(f"read from {self.path} failed: {exc}") from exc

    async def tables(self) -> list[str]:
        rows = await self._rows("SELECT name FROM sqlite_master WHERE type = 'table' "
                                "AND name NOT LIKE 'sqlite_%'")
        return [row[0] for row in rows]

    async def columns(self, table: str) -> tuple[list[str], tuple[str, ...]]:
        """Columns in order, and the primary key's columns in key order."""
        info = await self._rows(f'PRAGMA table_info("{table}")')
        keys = tuple(row[1] for row in sorted((r for r in info if r[5]), key=lambda r: r[5]))
        return [row[1] for row in info], keys

    async def count(self, table: str) -> int:
        return int((await self._rows(f'SELECT COUNT(*) FROM "{table}"'))[0][0])

    async def batch(self, table: Table, after: Sequence[Any] | None, size: int) -> list[Any]:
        columns = ", ".join(f'"{c}"' for c in table.columns)
        keys = ", ".join(f'"{k}"' for k in table.keys)
        where = f"WHERE ({keys}) > ({', '.join('?' * len(table.keys))})" if after else ""
        return await self._rows(f'SELECT {columns} FROM "{table.name}" {where} '
                                f"ORDER BY {keys} LIMIT ?", (*(after or ()), size))


class _Target:
    """The PostgreSQL database: upserts and progress notes, one transaction a batch."""

    def __init__(self, url: str, source: str) -> None:
        from feedsvc.store.postgres.connection import redacted
        self.url = url
        self.source = source
        self.where = redacted(url)
        self.conn: Any = None

    async def __aenter__(self) -> _Target:
        import asyncpg  # type: ignore[import-untyped]
        try:
            self.conn = await asyncpg.connect(self.url, timeout=10)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreError(f"cannot open {self.where}: {exc}") from exc
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.conn is not None:
            await self.conn.close()

    async def _run(self, work: Callable[[Any], Any]) -> Any:
        import asyncpg
        try:
            async with self.conn.transaction():
                return await work(self.conn)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise StoreError(f"write to {self.where} failed: {exc}") from exc

    async def columns(self, table: str) -> dict[str, str]:
        rows = await self._run(lambda conn: conn.fetch(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = $1", table))
        return {name: kind for name, kind in rows}

    async def progress(self, table: str) -> tuple[list[Any] | None, int]:
        rows = await self._run(lambda conn: conn.fetch(
            "SELECT last_key, copied FROM copy_progress WHERE source = $1 AND table_name = $2",
            self.source, table))
        return (orjson.loads(rows[0][0]), int(rows[0][1])) if rows else (None, 0)

    async def upsert(self, table: Table, rows: list[Any], last_key: list[Any], copied: int
                     ) -> None:
        columns = ", ".join(f'"{c}"' for c in table.columns)
        marks = ", ".join(f"${n}" for n in range(1, len(table.columns) + 1))
        keys = ", ".join(f'"{k}"' for k in table.keys)
        updates = [f'"{c}" = excluded."{c}"' for c in table.columns if c not in table.keys]
        conflict = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
        sql = (f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks}) '
               f"ON CONFLICT ({keys}) {conflict}")
        values = [tuple(bool(v) if c in table.booleans and v is not None else v
                        for c, v in zip(table.columns, row, strict=True)) for row in rows]

        async def work(conn: Any) -> None:
            await conn.executemany(sql, values)
            await conn.execute(
                "INSERT INTO copy_progress (source, table_name, last_key, copied) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT (source, table_name) DO UPDATE SET "
                "last_key = excluded.last_key, copied = excluded.copied",
                self.source, table.name, orjson.dumps(last_key).decode(), copied)

        await self._run(work)

    async def finish(self) -> None:
        """Count every topic again from the rows, move every change counter, and forget
        this copy's progress, in one transaction."""
        async def work(conn: Any) -> None:
            await conn.execute(
                "UPDATE topic_counts c SET count = (SELECT COUNT(*) FROM topic_articles t "
                "WHERE t.topic = c.topic) WHERE c.topic <> $1", LIVE_COUNT)
            await conn.execute(
                "INSERT INTO topic_counts (topic, count) SELECT topic, COUNT(*) "
                "FROM topic_articles GROUP BY topic "
                "ON CONFLICT (topic) DO UPDATE SET count = excluded.count")
            await conn.execute(
                "INSERT INTO topic_counts (topic, count) SELECT $1, COUNT(*) FROM articles "
                "WHERE live ON CONFLICT (topic) DO UPDATE SET count = excluded.count",
                LIVE_COUNT)
            await conn.execute("UPDATE topic_counts SET version = version + 1")
            # the change log goes on after the copied positions, so a consumer's token
            # from the SQLite install (signed with the copied key) goes on here too
            await conn.execute(
                "SELECT setval('change_seq', GREATEST(m.seq, 1), m.seq > 0) FROM (SELECT "
                "GREATEST((SELECT COALESCE(MAX(seq), 0) FROM changes), "
                "(SELECT COALESCE(MAX(seq), 0) FROM change_horizon)) AS seq) m")
            await conn.execute("DELETE FROM copy_progress WHERE source = $1", self.source)

        await self._run(work)
