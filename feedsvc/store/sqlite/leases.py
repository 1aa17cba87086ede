"""Leases on SQLite: which process runs a poll or a backfill, until when.

Processes sharing one SQLite file run on one machine, so the database's clock is that
machine's: SQLite's ``julianday('now')``, read inside the statement, never a time
passed in (a process's clock may be a test's, or differ from another's).
"""

from __future__ import annotations

from datetime import timedelta

import aiosqlite

from feedsvc.store.base import Lease
from feedsvc.store.sqlite.connection import SQLiteConnection

# Unix time in seconds, with milliseconds, by SQLite's clock.
_NOW = "((julianday('now') - 2440587.5) * 86400.0)"


class SQLiteLeases(SQLiteConnection):
    """The lease methods of :class:`~feedsvc.store.sqlite.SQLiteStore`."""

    async def claim_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        async def work(db: aiosqlite.Connection) -> bool:
            cursor = await db.execute(
                f"INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, {_NOW} + ?) "
                "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                "expires_at = excluded.expires_at "
                f"WHERE leases.holder = excluded.holder OR leases.expires_at <= {_NOW}",
                (name, holder, ttl.total_seconds()))
            return cursor.rowcount > 0

        return await self._write(work)

    async def release_lease(self, name: str, holder: str) -> None:
        async def work(db: aiosqlite.Connection) -> None:
            await db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder))

        await self._write(work)

    async def leases(self) -> list[Lease]:
        rows = await self._read(f"SELECT name, holder, expires_at - {_NOW} FROM leases "
                                f"WHERE expires_at > {_NOW} ORDER BY name")
        return [Lease(name, holder, timedelta(seconds=left)) for name, holder, left in rows]
