"""Polling state on SQLite: each source's poll state and each article page's state.

The scheduler only ticks; what is due, the validators and the back-off live here, so
a restarted process picks up where the last one stood.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from feedsvc.models import PollState
from feedsvc.store.base import PageState
from feedsvc.store.codec import decode_poll_state, encode_poll_state, to_micros
from feedsvc.store.rows import PAGE_COLUMNS, page_state_from_row, page_state_values
from feedsvc.store.sqlite.connection import SQLiteConnection


class SQLitePolling(SQLiteConnection):
    """The polling-state methods of :class:`~feedsvc.store.sqlite.SQLiteStore`."""

    async def get_poll_state(self, source: str) -> PollState:
        rows = await self._read("SELECT body FROM poll_state WHERE source = ?", (source,))
        return decode_poll_state(source, rows[0][0]) if rows else PollState(source=source)

    async def save_poll_state(self, state: PollState) -> None:
        async def work(db: aiosqlite.Connection) -> None:
            await db.execute(
                "INSERT INTO poll_state (source, body) VALUES (?, ?) "
                "ON CONFLICT (source) DO UPDATE SET body = excluded.body",
                (state.source, encode_poll_state(state)))

        await self._write(work)

    async def get_page_states(self, article_ids: Sequence[str]) -> dict[str, PageState]:
        states: dict[str, PageState] = {}
        # in chunks: SQLite caps the parameters one statement may bind (999 before 3.32)
        for start in range(0, len(article_ids), 500):
            chunk = list(article_ids[start:start + 500])
            marks = ",".join("?" * len(chunk))
            rows = await self._read(f"SELECT {PAGE_COLUMNS} FROM page_state "
                                    f"WHERE article_id IN ({marks})", chunk)
            states.update((row[0], page_state_from_row(row)) for row in rows)
        return states

    async def save_page_state(self, state: PageState) -> None:
        values = page_state_values(state)

        async def work(db: aiosqlite.Connection) -> None:
            await db.execute(
                f"INSERT OR REPLACE INTO page_state (source, {PAGE_COLUMNS}) "
                f"VALUES ({', '.join('?' * len(values))})", values)

        await self._write(work)

    async def pending_pages(self, source: str, now: datetime, limit: int) -> list[PageState]:
        rows = await self._read(
            f"SELECT {PAGE_COLUMNS} FROM page_state WHERE source = ? AND fetched = 0 "
            "AND gone = 0 AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
            "ORDER BY published DESC, article_id DESC LIMIT ?", (source, to_micros(now), limit))
        return [page_state_from_row(row) for row in rows]

    async def due_rechecks(self, source: str, now: datetime, limit: int) -> list[PageState]:
        moment = to_micros(now)
        rows = await self._read(
            f"SELECT {PAGE_COLUMNS} FROM page_state WHERE source = ? "
            "AND next_check_at IS NOT NULL AND next_check_at <= ? "
            "AND (fetched = 1 OR gone = 1) AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
            "ORDER BY next_check_at, article_id LIMIT ?", (source, moment, moment, limit))
        return [page_state_from_row(row) for row in rows]
