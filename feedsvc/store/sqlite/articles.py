"""Articles on SQLite: saving, aliases, merging duplicates, retracting, listing.

Each write reads what it needs and changes rows inside one ``_write`` transaction:
the single writer means nothing can change between its read and its write, so the
topic counts can move by what was read. A write that changes feeds also moves their
topics' change counters and times (``touch_topics``) in the same transaction.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from feedsvc.models import Article
from feedsvc.store.base import ALL_TOPIC, SaveOutcome
from feedsvc.store.codec import decode_article, encode_article, to_micros
from feedsvc.store.rows import LIVE_COUNT, removed_entries, saved_entries, shows_new_alias
from feedsvc.store.sqlite.changelog import log_changes
from feedsvc.store.sqlite.connection import SQLiteConnection
from feedsvc.store.sqlite.topics import move_topic_counts, touch_topics


class SQLiteArticles(SQLiteConnection):
    """The article methods of :class:`~feedsvc.store.sqlite.SQLiteStore`."""

    async def get_article(self, article_id: str) -> Article | None:
        rows = await self._read("SELECT body FROM articles WHERE id = ?", (article_id,))
        return decode_article(rows[0][0]) if rows else None

    async def resolve_alias(self, key: str) -> str | None:
        rows = await self._read("SELECT article_id FROM aliases WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    async def save_article(
        self, article: Article, topics: Collection[str], aliases: Sequence[str] = (),
        fingerprint: str | None = None, *, now: datetime, restore: bool = False,
    ) -> SaveOutcome:
        async def work(db: aiosqlite.Connection) -> SaveOutcome:
            cursor = await db.execute(
                "SELECT content_hash, live FROM articles WHERE id = ?", (article.id,))
            existing = await cursor.fetchone()
            revived = restore and await _restore(db, article.id, existing)
            old_topics = {row[0] for row in await db.execute_fetchall(
                "SELECT topic FROM topic_articles WHERE article_id = ?", (article.id,))}
            wanted = set(topics)
            if (existing and not revived and existing[0] == article.content_hash
                    and old_topics == wanted):
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
            await move_topic_counts(db, wanted - old_topics, +1)
            await move_topic_counts(db, old_topics - wanted, -1)
            if not existing:
                await move_topic_counts(db, [LIVE_COUNT], +1)
            await db.executemany(
                "INSERT OR IGNORE INTO aliases (key, article_id) VALUES (?, ?)",
                [(key, article.id) for key in aliases])
            at = max(now, article.updated)
            await touch_topics(db, old_topics | wanted | {LIVE_COUNT}, at)
            live = not existing or bool(existing[1]) or revived
            await log_changes(db, saved_entries(
                article.id, old_topics, wanted, live=live,
                content_changed=not existing or revived or existing[0] != article.content_hash),
                at)
            if revived:
                return SaveOutcome.RESTORED
            return SaveOutcome.UPDATED if existing else SaveOutcome.NEW

        return await self._write(work)

    async def add_aliases(self, article_id: str, keys: Sequence[str], *,
                          now: datetime | None = None) -> frozenset[str]:
        async def work(db: aiosqlite.Connection) -> frozenset[str]:
            new = [key for key in dict.fromkeys(keys) if list(await db.execute_fetchall(
                "INSERT OR IGNORE INTO aliases (key, article_id) VALUES (?, ?) RETURNING key",
                (key, article_id)))]
            rows = list(await db.execute_fetchall(
                "SELECT body FROM articles WHERE id = ? AND live = 1", (article_id,)))
            if now is None or not rows or not shows_new_alias(new, decode_article(rows[0][0]).url):
                return frozenset()
            topics = {row[0] for row in await db.execute_fetchall(
                "SELECT topic FROM topic_articles WHERE article_id = ?", (article_id,))}
            await touch_topics(db, topics | {LIVE_COUNT}, now)
            await log_changes(db, saved_entries(article_id, topics, topics,
                                                content_changed=True), now)
            return frozenset(topics | {ALL_TOPIC})

        return await self._write(work)

    async def by_fingerprint(self, fingerprint: str) -> Article | None:
        rows = await self._read(
            "SELECT body FROM articles WHERE fingerprint = ? AND live = 1 "
            "ORDER BY published, id LIMIT 1", (fingerprint,))
        return decode_article(rows[0][0]) if rows else None

    async def absorb(self, survivor_id: str, absorbed_id: str, *, now: datetime) -> frozenset[str]:
        async def work(db: aiosqlite.Connection) -> frozenset[str]:
            topics = frozenset(row[0] for row in await db.execute_fetchall(
                "SELECT topic FROM topic_articles WHERE article_id = ?", (absorbed_id,)))
            rows = list(await db.execute_fetchall(
                "SELECT body FROM articles WHERE id = ?", (absorbed_id,)))
            cursor = await db.execute(
                "UPDATE articles SET live = 0 WHERE id = ? AND live = 1", (absorbed_id,))
            await move_topic_counts(db, [LIVE_COUNT], -cursor.rowcount)
            await db.execute("DELETE FROM topic_articles WHERE article_id = ?", (absorbed_id,))
            await move_topic_counts(db, topics, -1)
            await db.execute("UPDATE aliases SET article_id = ? WHERE article_id = ?",
                             (survivor_id, absorbed_id))
            keys = [f"id:{absorbed_id}"] + ([decode_article(rows[0][0]).url] if rows else [])
            await db.executemany("INSERT OR REPLACE INTO aliases (key, article_id) VALUES (?, ?)",
                                 [(key, survivor_id) for key in keys])
            if cursor.rowcount or topics:
                await touch_topics(db, {*topics, LIVE_COUNT}, now)
                await log_changes(db, removed_entries(absorbed_id, topics,
                                                      was_live=bool(cursor.rowcount)), now)
            return topics

        return await self._write(work)

    async def retract_article(self, article_id: str, *, now: datetime, keep: bool = False) -> bool:
        async def work(db: aiosqlite.Connection) -> bool:
            rows = list(await db.execute_fetchall(
                "SELECT live FROM articles WHERE id = ?", (article_id,)))
            await db.execute(
                "INSERT OR IGNORE INTO tombstones (article_id, retracted) VALUES (?, ?)",
                (article_id, to_micros(now)))
            if not rows or not rows[0][0] or keep:
                return False
            topics = [row[0] for row in await db.execute_fetchall(
                "SELECT topic FROM topic_articles WHERE article_id = ?", (article_id,))]
            await db.execute("UPDATE articles SET live = 0 WHERE id = ?", (article_id,))
            await db.execute("DELETE FROM topic_articles WHERE article_id = ?", (article_id,))
            await move_topic_counts(db, [*topics, LIVE_COUNT], -1)
            await touch_topics(db, {*topics, LIVE_COUNT}, now)
            await log_changes(db, removed_entries(article_id, topics, was_live=True), now)
            return True

        return await self._write(work)

    async def is_tombstoned(self, article_id: str) -> bool:
        rows = await self._read("SELECT 1 FROM tombstones WHERE article_id = ?", (article_id,))
        return bool(rows)

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


async def _restore(db: aiosqlite.Connection, article_id: str, existing: Any) -> bool:
    """Lift the tombstone; True when a retracted row is put back in the feeds."""
    await db.execute("DELETE FROM tombstones WHERE article_id = ?", (article_id,))
    if not existing or existing[1]:
        return False
    await db.execute("UPDATE articles SET live = 1 WHERE id = ?", (article_id,))
    await move_topic_counts(db, [LIVE_COUNT], +1)
    return True
