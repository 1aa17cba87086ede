"""Secrets on PostgreSQL: values every process of the store shares (the cursor key)."""

from __future__ import annotations

from feedsvc.store.postgres.connection import Connection, PostgresPool


class PostgresSecrets(PostgresPool):
    """The secrets method of :class:`~feedsvc.store.postgres.PostgresStore`."""

    async def shared_secret(self, name: str, candidate: bytes) -> bytes:
        async def work(conn: Connection) -> bytes:
            # a second process's insert waits on the first's row, then does nothing; the
            # SELECT (a new snapshot under READ COMMITTED) sees the row that won
            await conn.execute("INSERT INTO secrets (name, value) VALUES ($1, $2) "
                               "ON CONFLICT (name) DO NOTHING", name, candidate)
            return bytes(await conn.fetchval("SELECT value FROM secrets WHERE name = $1", name))

        return await self._write(work)
