"""The change log on SQLite, read and expired; writers append through ``changelog.py``.

Expiry does two things in one transaction: deletions older than the feeds' window stop
being listed in them (their topics change, so the feeds are rendered again without
them), and entries older than the retention are dropped, the highest number dropped
from each feed's log becoming that feed's *horizon*: a reader of the feed positioned
before it may have missed one. The head is the newest number of any feed's log (or
horizon): positions are shared by every feed, so a reader may switch feeds.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from feedsvc.models import UPSERT, DeletedEntry, FeedChange
from feedsvc.store.base import ALL_TOPIC, ChangePage
from feedsvc.store.codec import decode_article, from_micros, to_micros
from feedsvc.store.rows import LIVE_COUNT, SQLITE_ALIAS_KEYS, feed_key
from feedsvc.store.sqlite.connection import SQLiteConnection
from feedsvc.store.sqlite.topics import touch_topics


class SQLiteChanges(SQLiteConnection):
    """The change log methods of :class:`~feedsvc.store.sqlite.SQLiteStore`."""

    async def read_changes(self, topic: str, after: int, limit: int) -> ChangePage:
        rows = await self._read(
            "SELECT c.seq, c.op, c.article_id, c.at, "
            "CASE WHEN c.op = 'upsert' THEN a.body END, "
            "CASE WHEN c.op = 'upsert' THEN {keys} END, "
            "CASE WHEN c.op = 'upsert' THEN (SELECT group_concat(m.topic, char(31)) "
            "FROM topic_articles m WHERE m.article_id = c.article_id) END "
            "FROM changes c LEFT JOIN articles a ON a.id = c.article_id "
            "WHERE c.topic = ? AND c.seq > ? ORDER BY c.seq LIMIT ?".format(
                keys=SQLITE_ALIAS_KEYS.format(article="a")),
            (feed_key(topic), after, limit))
        changes = tuple(_change(*row) for row in rows)
        head, horizon, high_water = (await self._read(
            "SELECT MAX((SELECT COALESCE(MAX(seq), 0) FROM changes), "
            "(SELECT COALESCE(MAX(seq), 0) FROM change_horizon)), "
            "COALESCE((SELECT seq FROM change_horizon WHERE topic = ?), 0), "
            "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0)",
            (feed_key(topic),)))[0]
        return ChangePage(changes, head=int(head), horizon=int(horizon),
                          high_water=int(high_water))

    async def deleted_entries(self, topic: str, limit: int) -> list[DeletedEntry]:
        rows = await self._read(
            "SELECT article_id, at FROM changes WHERE topic = ? AND op = 'delete' "
            "AND listed = 1 ORDER BY seq DESC LIMIT ?", (feed_key(topic), limit))
        return [DeletedEntry(article_id, from_micros(at)) for article_id, at in rows]

    async def expire_changes(self, *, unlist_before: datetime, drop_before: datetime,
                             now: datetime) -> frozenset[str]:
        async def work(db: aiosqlite.Connection) -> frozenset[str]:
            topics = {row[0] for row in await db.execute_fetchall(
                "SELECT DISTINCT topic FROM changes "
                "WHERE op = 'delete' AND listed = 1 AND at < ?", (to_micros(unlist_before),))}
            if topics:
                await db.execute("UPDATE changes SET listed = 0 "
                                 "WHERE op = 'delete' AND listed = 1 AND at < ?",
                                 (to_micros(unlist_before),))
                await touch_topics(db, topics, now)
            cut = to_micros(drop_before)
            dropped = list(await db.execute_fetchall(
                "SELECT topic, MAX(seq) FROM changes WHERE at < ? GROUP BY topic", (cut,)))
            if dropped:
                await db.execute("DELETE FROM changes WHERE at < ?", (cut,))
                await db.executemany(
                    "INSERT INTO change_horizon (topic, seq) VALUES (?, ?) "
                    "ON CONFLICT (topic) DO UPDATE SET seq = MAX(seq, excluded.seq)", dropped)
            return frozenset(ALL_TOPIC if topic == LIVE_COUNT else topic for topic in topics)

        return await self._write(work)


def _change(seq: int, op: str, article_id: str, at: int, body: bytes | None,
            keys: str | None, topics: str | None) -> FeedChange:
    if op != UPSERT or body is None:
        return FeedChange(seq, op, article_id, from_micros(at))
    article = decode_article(body, (keys or "").split("\x1f"))
    topic_slugs = tuple(sorted(filter(None, (topics or "").split("\x1f"))))
    return FeedChange(seq, op, article_id, from_micros(at), article, topic_slugs)
