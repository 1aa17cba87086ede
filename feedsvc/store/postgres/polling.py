"""Polling state on PostgreSQL: each source's poll state and each article page's state.

The scheduler only ticks; what is due, the validators and the back-off live here, so
a restarted process, or a second replica, picks up where things stood.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from feedsvc.models import PollState
from feedsvc.store.base import PageState
from feedsvc.store.codec import decode_poll_state, encode_poll_state, to_micros
from feedsvc.store.postgres.connection import Connection, PostgresPool
from feedsvc.store.rows import PAGE_COLUMNS, page_state_from_row, page_state_values


class PostgresPolling(PostgresPool):
    """The polling-state methods of :class:`~feedsvc.store.postgres.PostgresStore`."""

    async def get_poll_state(self, source: str) -> PollState:
        rows = await self._read("SELECT body FROM poll_state WHERE source = $1", source)
        return decode_poll_state(source, rows[0][0]) if rows else PollState(source=source)

    async def save_poll_state(self, state: PollState) -> None:
        async def work(conn: Connection) -> None:
            await conn.execute(
                "INSERT INTO poll_state (source, body) VALUES ($1, $2) "
                "ON CONFLICT (source) DO UPDATE SET body = excluded.body",
                state.source, encode_poll_state(state))

        await self._write(work)

    async def get_page_states(self, article_ids: Sequence[str]) -> dict[str, PageState]:
        rows = await self._read(
            f"SELECT {PAGE_COLUMNS} FROM page_state WHERE article_id = ANY($1::text[])",
            list(article_ids))
        return {row[0]: page_state_from_row(row) for row in rows}

    async def save_page_state(self, state: PageState) -> None:
        values = page_state_values(state)
        columns = ["source", *(c.strip() for c in PAGE_COLUMNS.split(","))]
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c != "article_id")
        marks = ", ".join(f"${n}" for n in range(1, len(values) + 1))

        async def work(conn: Connection) -> None:
            await conn.execute(
                f"INSERT INTO page_state ({', '.join(columns)}) VALUES ({marks}) "
                f"ON CONFLICT (article_id) DO UPDATE SET {updates}", *values)

        await self._write(work)

    async def pending_pages(self, source: str, now: datetime, limit: int) -> list[PageState]:
        rows = await self._read(
            f"SELECT {PAGE_COLUMNS} FROM page_state WHERE source = $1 AND NOT fetched "
            "AND NOT gone AND (next_attempt_at IS NULL OR next_attempt_at <= $2) "
            "ORDER BY published DESC, article_id DESC LIMIT $3", source, to_micros(now), limit)
        return [page_state_from_row(row) for row in rows]

    async def due_rechecks(self, source: str, now: datetime, limit: int) -> list[PageState]:
        rows = await self._read(
            f"SELECT {PAGE_COLUMNS} FROM page_state WHERE source = $1 "
            "AND next_check_at IS NOT NULL AND next_check_at <= $2 AND (fetched OR gone) "
            "AND (next_attempt_at IS NULL OR next_attempt_at <= $2) "
            "ORDER BY next_check_at, article_id LIMIT $3", source, to_micros(now), limit)
        return [page_state_from_row(row) for row in rows]
