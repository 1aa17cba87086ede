"""The embedded default store: one SQLite file in WAL mode, through aiosqlite.

All writes go through one connection and one lock, each inside ``BEGIN IMMEDIATE``
… ``COMMIT``: SQLite either applies the whole transaction or none of it, also when
the process is killed mid-write (the WAL is replayed or discarded on next open).
``synchronous=NORMAL`` in WAL mode is durable against process crashes; only a
power loss can lose the last transactions.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from feedsvc.errors import StoreError
from feedsvc.models import Article, PollState
from feedsvc.store.base import ALL_TOPIC, Cursor, PageState, SaveOutcome, TopicStats
from feedsvc.store.codec import (
    decode_article,
    decode_poll_state,
    encode_article,
    encode_poll_state,
    from_micros,
    to_micros,
)
from feedsvc.store.migrations import MIGRATIONS

T = TypeVar("T")


class SQLiteStore:
    """:class:`~feedsvc.store.base.Store` on a SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()

    # -- lifecycle ---------------------------------------------------------------------

    async def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = await aiosqlite.connect(self.path, isolation_level=None)
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                           "busy_timeout=5000"):
                await self._db.execute(f"PRAGMA {pragma}")
            await self._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open {self.path}: {exc}") from exc

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
                await db.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)",
                                 (version, name, datetime.now(UTC).isoformat()))

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

    # -- articles ----------------------------------------------------------------------

    async def get_article(self, article_id: str) -> Article | None:
        rows = await self._read("SELECT body FROM articles WHERE id = ?", (article_id,))
        return decode_article(rows[0][0]) if rows else None

    async def resolve_alias(self, key: str) -> str | None:
        rows = await self._read("SELECT article_id FROM aliases WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    async def save_article(
        self, article: Article, topics: Collection[str], aliases: Sequence[str] = (),
        fingerprint: str | None = None,
    ) -> SaveOutcome:
        async def work(db: aiosqlite.Connection) -> SaveOutcome:
            cursor = await db.execute(
                "SELECT content_hash, live FROM articles WHERE id = ?", (article.id,))
            existing = await cursor.fetchone()
            old_topics = {row[0] for row in await db.execute_fetchall(
                "SELECT topic FROM topic_articles WHERE article_id = ?", (article.id,))}
            wanted = set(topics)
            if existing and existing[0] == article.content_hash and old_topics == wanted:
                return SaveOutcome.UNCHANGED
            published = to_micros(article.published)
            await db.execute(
                "INSERT INTO articles (id, source, published, updated, content_hash, live, body, "
                "fingerprint) VALUES (?, ?, ?, ?, ?, 1, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "updated = excluded.updated, content_hash = excluded.content_hash, "
                "body = excluded.body, fingerprint = excluded.fingerprint",
                (article.id, article.source, published, to_micros(article.updated),
                 article.content_hash, encode_article(article), fingerprint))
            await db.execute("DELETE FROM topic_articles WHERE article_id = ?", (article.id,))
            await db.executemany(
                "INSERT INTO topic_articles (topic, article_id, published, updated) "
                "VALUES (?, ?, ?, ?)",
                [(topic, article.id, published, to_micros(article.updated))
                 for topic in sorted(wanted)])
            await _count(db, wanted - old_topics, +1)
            await _count(db, old_topics - wanted, -1)
            if not existing:
                await _count(db, [LIVE_COUNT], +1)
            await db.executemany(
                "INSERT OR IGNORE INTO aliases (key, article_id) VALUES (?, ?)",
                [(key, article.id) for key in aliases])
            return SaveOutcome.UPDATED if existing else SaveOutcome.NEW

        return await self._write(work)

    async def add_aliases(self, article_id: str, keys: Sequence[str]) -> None:
        async def work(db: aiosqlite.Connection) -> None:
            await db.executemany("INSERT OR IGNORE INTO aliases (key, article_id) VALUES (?, ?)",
                                 [(key, article_id) for key in keys])

        await self._write(work)

    async def by_fingerprint(self, fingerprint: str) -> Article | None:
        rows = await self._read(
            "SELECT body FROM articles WHERE fingerprint = ? AND live = 1 "
            "ORDER BY published, id LIMIT 1", (fingerprint,))
        return decode_article(rows[0][0]) if rows else None

    async def absorb(self, survivor_id: str, absorbed_id: str) -> frozenset[str]:
        async def work(db: aiosqlite.Connection) -> frozenset[str]:
            topics = frozenset(row[0] for row in await db.execute_fetchall(
                "SELECT topic FROM topic_articles WHERE article_id = ?", (absorbed_id,)))
            rows = list(await db.execute_fetchall(
                "SELECT body FROM articles WHERE id = ?", (absorbed_id,)))
            cursor = await db.execute(
                "UPDATE articles SET live = 0 WHERE id = ? AND live = 1", (absorbed_id,))
            await _count(db, [LIVE_COUNT], -cursor.rowcount)
            await db.execute("DELETE FROM topic_articles WHERE article_id = ?", (absorbed_id,))
            await _count(db, topics, -1)
            await db.execute("UPDATE aliases SET article_id = ? WHERE article_id = ?",
                             (survivor_id, absorbed_id))
            keys = [f"id:{absorbed_id}"] + ([decode_article(rows[0][0]).url] if rows else [])
            await db.executemany("INSERT OR REPLACE INTO aliases (key, article_id) VALUES (?, ?)",
                                 [(key, survivor_id) for key in keys])
            return topics

        return await self._write(work)

    async def retract_article(self, article_id: str, *, keep: bool = False) -> bool:
        async def work(db: aiosqlite.Connection) -> bool:
            rows = list(await db.execute_fetchall(
                "SELECT live FROM articles WHERE id = ?", (article_id,)))
            await db.execute(
                "INSERT OR IGNORE INTO tombstones (article_id, retracted) VALUES (?, ?)",
                (article_id, to_micros(datetime.now(UTC))))
            if not rows or not rows[0][0] or keep:
                return False
            topics = [row[0] for row in await db.execute_fetchall(
                "SELECT topic FROM topic_articles WHERE article_id = ?", (article_id,))]
            await db.execute("UPDATE articles SET live = 0 WHERE id = ?", (article_id,))
            await db.execute("DELETE FROM topic_articles WHERE article_id = ?", (article_id,))
            await _count(db, [*topics, LIVE_COUNT], -1)
            return True

        return await self._write(work)

    async def is_tombstoned(self, article_id: str) -> bool:
        rows = await self._read("SELECT 1 FROM tombstones WHERE article_id = ?", (article_id,))
        return bool(rows)

    async def topic_page(
        self, topic: str, *, limit: int, before: Cursor | None = None, since: datetime | None = None
    ) -> list[Article]:
        where, params = [], []
        if before is not None:
            where.append("(t.published, t.id) < (?, ?)" if topic == ALL_TOPIC else
                         "(t.published, t.article_id) < (?, ?)")
            params += [to_micros(before.published), before.article_id]
        if since is not None:
            where.append("t.published >= ?")
            params.append(to_micros(since))
        if topic == ALL_TOPIC:
            sql = ("SELECT t.body FROM articles t WHERE t.live = 1 {cond} "
                   "ORDER BY t.published DESC, t.id DESC LIMIT ?")
        else:
            sql = ("SELECT a.body FROM topic_articles t JOIN articles a ON a.id = t.article_id "
                   "WHERE t.topic = ? {cond} ORDER BY t.published DESC, t.article_id DESC LIMIT ?")
            params.insert(0, topic)
        cond = "".join(f" AND {clause}" for clause in where)
        rows = await self._read(sql.format(cond=cond), (*params, limit))
        return [decode_article(row[0]) for row in rows]

    async def topic_stats(self, topics: Sequence[str]) -> dict[str, TopicStats]:
        # Counts come from topic_counts and the newest update from an index, so the
        # cost does not grow with the topic (migration 3).
        stats = {}
        for slug in topics:
            if slug == ALL_TOPIC:
                rows = await self._read(
                    "SELECT (SELECT count FROM topic_counts WHERE topic = ?), "
                    "(SELECT MAX(updated) FROM articles WHERE live = 1)", (LIVE_COUNT,))
            else:
                rows = await self._read(
                    "SELECT (SELECT count FROM topic_counts WHERE topic = ?), "
                    "(SELECT MAX(updated) FROM topic_articles WHERE topic = ?)", (slug, slug))
            count, updated = rows[0]
            stats[slug] = TopicStats(slug, int(count or 0),
                                     from_micros(updated) if updated else None)
        return stats

    async def set_topic_members(self, topic: str, article_ids: Collection[str]) -> bool:
        async def work(db: aiosqlite.Connection) -> bool:
            rows = await db.execute_fetchall(
                "SELECT article_id FROM topic_articles WHERE topic = ?", (topic,))
            current = {row[0] for row in rows}
            wanted = set(article_ids)
            if current == wanted:
                return False
            await db.executemany("DELETE FROM topic_articles WHERE topic = ? AND article_id = ?",
                                 [(topic, a) for a in current - wanted])
            await db.executemany(
                "INSERT INTO topic_articles (topic, article_id, published, updated) "
                "SELECT ?, id, published, updated FROM articles WHERE id = ? AND live = 1",
                [(topic, a) for a in sorted(wanted - current)])
            # a rare, whole-topic edit: counting the one topic again is simplest
            await db.execute(
                "INSERT OR REPLACE INTO topic_counts (topic, count) "
                "SELECT ?, COUNT(*) FROM topic_articles WHERE topic = ?", (topic, topic))
            return True

        return await self._write(work)

    async def drop_topic(self, topic: str) -> None:
        async def work(db: aiosqlite.Connection) -> None:
            await db.execute("DELETE FROM topic_articles WHERE topic = ?", (topic,))
            await db.execute("DELETE FROM topic_counts WHERE topic = ?", (topic,))

        await self._write(work)

    async def iter_articles(self, batch_size: int = 500, since: datetime | None = None
                            ) -> AsyncIterator[Article]:
        after = (to_micros(since) - 1 if since else -1, "")
        while True:
            rows = await self._read(
                "SELECT published, id, body FROM articles WHERE live = 1 AND (published, id) > (?, ?) "
                "ORDER BY published, id LIMIT ?", (*after, batch_size))
            for row in rows:
                yield decode_article(row[2])
            if len(rows) < batch_size:
                return
            after = (rows[-1][0], rows[-1][1])

    async def count_articles(self, source: str | None = None) -> int:
        if source is None:
            rows = await self._read(
                "SELECT COALESCE((SELECT count FROM topic_counts WHERE topic = ?), 0)",
                (LIVE_COUNT,))
        else:
            rows = await self._read(
                "SELECT COUNT(*) FROM articles WHERE source = ? AND live = 1", (source,))
        return int(rows[0][0])

    # -- polling state -----------------------------------------------------------------

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
        for start in range(0, len(article_ids), 500):
            chunk = list(article_ids[start:start + 500])
            marks = ",".join("?" * len(chunk))
            rows = await self._read(f"SELECT {_PAGE_COLUMNS} FROM page_state "
                                    f"WHERE article_id IN ({marks})", chunk)
            states.update((row[0], _page_state(row)) for row in rows)
        return states

    async def save_page_state(self, state: PageState) -> None:
        async def work(db: aiosqlite.Connection) -> None:
            await db.execute(
                f"INSERT OR REPLACE INTO page_state (source, {_PAGE_COLUMNS}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (state.article_id.split(":", 1)[0], state.article_id, state.url,
                 state.feed_signature, state.etag, state.last_modified, state.failures,
                 to_micros(state.next_attempt_at) if state.next_attempt_at else None,
                 state.last_error, int(state.fetched)))

        await self._write(work)

    async def due_page_retries(self, source: str, now: datetime, limit: int) -> list[PageState]:
        rows = await self._read(
            f"SELECT {_PAGE_COLUMNS} FROM page_state WHERE source = ? AND failures > 0 "
            "AND next_attempt_at <= ? ORDER BY next_attempt_at LIMIT ?",
            (source, to_micros(now), limit))
        return [_page_state(row) for row in rows]


# The topic_counts row counting every live article; no topic slug is empty.
LIVE_COUNT = ""


async def _count(db: aiosqlite.Connection, topics: Collection[str], delta: int) -> None:
    """Move the counts of ``topics`` by ``delta``, inside the caller's transaction."""
    if delta:
        await db.executemany(
            "INSERT INTO topic_counts (topic, count) VALUES (?, ?) "
            "ON CONFLICT (topic) DO UPDATE SET count = count + excluded.count",
            [(topic, delta) for topic in sorted(topics)])


_PAGE_COLUMNS = ("article_id, url, feed_signature, etag, last_modified, failures, "
                 "next_attempt_at, last_error, fetched")


def _page_state(row: Sequence[Any]) -> PageState:
    return PageState(
        article_id=row[0], url=row[1], feed_signature=row[2], etag=row[3], last_modified=row[4],
        failures=row[5], next_attempt_at=from_micros(row[6]) if row[6] is not None else None,
        last_error=row[7], fetched=bool(row[8]),
    )
