"""The PostgreSQL connection pool: opening, migrating, and the retried transaction.

Every other part of the store reads through ``_read`` and writes through ``_write``,
so the retry after a deadlock and the wrapping of asyncpg and socket errors as
:class:`~feedsvc.errors.StoreError` live here and nowhere else. A message names the
database by ``where``, never by the URL, which may carry a password.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped]  # ships no type information

from feedsvc.errors import StoreError
from feedsvc.store.pg_migrations import PG_MIGRATIONS

T = TypeVar("T")
Connection = Any  # asyncpg.Connection, which is untyped

# What asyncpg and the network raise; wrapped once as StoreError.
FAILURES = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)
_ATTEMPTS = 3  # runs of a write that hits a deadlock or serialization failure
# The advisory lock key that serializes migrations: b"feedsvc" read as an integer.
MIGRATION_LOCK = int.from_bytes(b"feedsvc", "big")


class PostgresPool:
    """The pool, its migrations and transactions, shared by every part of the store."""

    def __init__(self, url: str, *, min_connections: int = 1, max_connections: int = 10) -> None:
        self.url = url
        self.where = redacted(url)
        self._sizes = (min_connections, max_connections)
        self._pool: Any = None  # asyncpg.Pool

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.url, min_size=self._sizes[0], max_size=self._sizes[1], timeout=10)
            await self._migrate()
        except (*FAILURES, ValueError) as exc:  # ValueError: a malformed URL
            if self._pool is not None:
                self._pool.terminate()
                self._pool = None
            raise StoreError(f"cannot open {self.where}: {exc}") from exc

    async def close(self) -> None:
        """Wait until every connection is back in the pool (the writes in flight end)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await pool.close()
            except FAILURES as exc:
                raise StoreError(f"closing {self.where} failed: {exc}") from exc

    @property
    def pool(self) -> Any:
        if self._pool is None:
            raise StoreError("the store is not open")
        return self._pool

    async def _migrate(self) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            # held to the end of the transaction: a second process waits here, then
            # finds every step recorded
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)")
            done = {row[0] for row in await conn.fetch("SELECT version FROM schema_migrations")}
            for version, name, script in PG_MIGRATIONS:
                if version not in done:
                    await conn.execute(script)
                    # the database's clock: when a step ran is bookkeeping, not data
                    await conn.execute("INSERT INTO schema_migrations VALUES ($1, $2, now())",
                                       version, name)

    async def _write(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """Run ``work`` as one transaction, again after a deadlock or serialization failure."""
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    return await work(conn)
            except asyncpg.TransactionRollbackError as exc:
                if attempt == _ATTEMPTS:
                    raise StoreError(f"write to {self.where} failed: {exc}") from exc
            except FAILURES as exc:
                raise StoreError(f"write to {self.where} failed: {exc}") from exc
        raise AssertionError("unreachable")

    async def _read(self, sql: str, *params: Any) -> list[Any]:
        try:
            return list(await self.pool.fetch(sql, *params))
        except FAILURES as exc:
            raise StoreError(f"read from {self.where} failed: {exc}") from exc


def redacted(url: str) -> str:
    """``host:port/database`` of a storage URL: never its user or password."""
    try:
        parts = urlsplit(url)
        host = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
    except ValueError:
        return "the PostgreSQL database"
    return f"postgresql://{host}{parts.path}"
