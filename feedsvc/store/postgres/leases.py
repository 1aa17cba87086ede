"""Leases on PostgreSQL: which replica runs a poll or a backfill, until when.

Every comparison and every expiry uses ``clock_timestamp()``, the database server's
clock, inside the statement: replicas' clocks may differ by seconds or minutes, and a
lease must not care. ``leases()`` answers how long each lease has left rather than a
moment, for the same reason.
"""

from __future__ import annotations

from datetime import timedelta

from feedsvc.store.base import Lease
from feedsvc.store.postgres.connection import Connection, PostgresPool


class PostgresLeases(PostgresPool):
    """The lease methods of :class:`~feedsvc.store.postgres.PostgresStore`."""

    async def claim_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        async def work(conn: Connection) -> bool:
            # one statement: a concurrent claim of the same name waits on the row's lock
            # and then sees this one's expiry
            taken = await conn.fetchval(
                "INSERT INTO leases AS l (name, holder, expires_at) "
                "VALUES ($1, $2, clock_timestamp() + $3::interval) "
                "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                "expires_at = excluded.expires_at "
                "WHERE l.holder = excluded.holder OR l.expires_at <= clock_timestamp() "
                "RETURNING TRUE", name, holder, ttl)
            return taken is not None

        return await self._write(work)

    async def release_lease(self, name: str, holder: str) -> None:
        async def work(conn: Connection) -> None:
            await conn.execute("DELETE FROM leases WHERE name = $1 AND holder = $2", name, holder)

        await self._write(work)

    async def leases(self) -> list[Lease]:
        rows = await self._read(
            "SELECT name, holder, expires_at - clock_timestamp() FROM leases "
            "WHERE expires_at > clock_timestamp() ORDER BY name")
        return [Lease(name, holder, left) for name, holder, left in rows]
