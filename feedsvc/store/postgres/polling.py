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
from feedsvc.store.rows import PAGE_COLUMNS, page_state_from_row


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
        async def work(conn: Connection) -> None:
            await conn.execute(
                f"INSERT INTO page_state (source, {PAGE_COLUMNS}) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                "ON CONFLICT (article_id) DO UPDATE SET source = excluded.source, "
                "url = excluded.url, feed_signature = excluded.feed_signature, "
                "etag = excluded.etag, last_modified = excluded.last_modified, "
                "failures = excluded.failures, next_attempt_at = excluded.next_attempt_at, "
                "last_error = excluded.last_error, fetched = excluded.fetched",
                state.article_id.split(":", 1)[0], state.article_id, state.url,
                state.feed_signature, state.etag, state.last_modified, state.failures,
                to_micros(state.next_attempt_at) if state.next_attempt_at else None,
                state.last_error, state.fetched)

        await self._write(work)

    async def due_page_retries(self, source: str, now: datetime, limit: int) -> list[PageState]:
        rows = await self._read(
            f"SELECT {PAGE_COLUMNS} FROM page_state WHERE source = $1 AND failures > 0 "
            "AND next_attempt_at <= $2 ORDER BY next_attempt_at, article_id LIMIT $3",
            source, to_micros(now), limit)
        return [page_state_from_row(row) for row in rows]
