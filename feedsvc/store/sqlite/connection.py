"""The SQLite file's one connection: opening, migrating, and the single writer.

Every other part of the store reads through ``_read`` and writes through ``_write``,
so the locking and the wrapping of :mod:`sqlite3` errors as
:class:`~feedsvc.errors.StoreError` live here and nowhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from feedsvc.errors import StoreError
from feedsvc.store.migrations import MIGRATIONS

T = TypeVar("T")


class SQLiteConnection:
    """The connection, its write lock and transactions, shared by every part of the store."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    async def open(self) -> None:
        """Open (creating the file, never its folder: a mistyped path must not start an
        empty store elsewhere) and migrate; ``StoreError`` names the file and why."""
        if not self.path.parent.is_dir():
            raise StoreError(f"cannot open {self.path}: the folder {self.path.parent} "
                             "does not exist")
        try:
            self._db = await aiosqlite.connect(self.path, isolation_level=None)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                           "busy_timeout=5000"):
                await self._db.execute(f"PRAGMA {pragma}")
            await self._migrate()
        except (sqlite3.Error, OSError) as exc:
            await self._abandon()
            raise StoreError(f"cannot open {self.path}: {exc}") from exc
        except BaseException:  # cancelled while opening: the connection's thread must end too
            await self._abandon()
            raise

    async def _abandon(self) -> None:
        """Close a connection that failed to open; its thread would keep the process alive."""
        db, self._db = self._db, None
        if db is not None:
            with contextlib.suppress(sqlite3.Error, ValueError):
                await db.close()

    async def close(self) -> None:
        async with self._write_lock:  # let the write in flight finish
            if self._db is not None:
                await self._db.close()
                self._db = None

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise StoreError("the store is not open")
        return self._db

    async def _migrate(self) -> None:
        await self.db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
            "name TEXT NOT NULL, applied_at TEXT NOT NULL)"
        )
        rows = await self.db.execute_fetchall("SELECT version FROM schema_migrations")
        done = {row[0] for row in rows}
        for version, name, script in MIGRATIONS:
            if version in done:
                continue
            statements = [s.strip() for s in script.split(";") if s.strip()]

            async def apply(db: aiosqlite.Connection, statements: list[str] = statements,
                            version: int = version, name: str = name) -> None:
                for statement in statements:
                    await db.execute(statement)
                # the database's clock: when a step ran is bookkeeping, not data
                await db.execute("INSERT INTO schema_migrations VALUES "
                                 "(?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))", (version, name))

            await self._write(apply)

    async def _write(self, work: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Run ``work`` as one IMMEDIATE transaction through the single writer."""
        async with self._write_lock:
            db = self.db
            try:
                await db.execute("BEGIN IMMEDIATE")
                try:
                    result = await work(db)
                except BaseException:
                    await db.execute("ROLLBACK")
                    raise
                await db.execute("COMMIT")
                return result
            except sqlite3.Error as exc:
                raise StoreError(f"write to {self.path} failed: {exc}") from exc

    async def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return list(await self.db.execute_fetchall(sql, params))
        except sqlite3.Error as exc:
            raise StoreError(f"read from {self.path} failed: {exc}") from exc
