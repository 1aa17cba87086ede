"""Secrets on SQLite: values every process of the store shares (the cursor key)."""

from __future__ import annotations

import aiosqlite

from feedsvc.store.sqlite.connection import SQLiteConnection


class SQLiteSecrets(SQLiteConnection):
    """The secrets method of :class:`~feedsvc.store.sqlite.SQLiteStore`."""

    async def shared_secret(self, name: str, candidate: bytes) -> bytes:
        async def work(db: aiosqlite.Connection) -> bytes:
            # one IMMEDIATE transaction: a second process waits, then reads the first's
            await db.execute("INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)",
                             (name, candidate))
            rows = await db.execute_fetchall("SELECT value FROM secrets WHERE name = ?", (name,))
            return bytes(list(rows)[0][0])

        return await self._write(work)
