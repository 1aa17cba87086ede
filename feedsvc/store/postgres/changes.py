"""The change log on PostgreSQL, read and expired; writers append through ``changelog.py``.

Read at READ COMMITTED, a page sees a prefix of the log: numbers are drawn in commit
order (``changelog.py``), so no smaller number can commit after a reader saw a larger
one. Expiry takes the log's lock like any writer, and like them only after the topic
counts it moves, so two writers never wait for each other in a circle.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from feedsvc.models import UPSERT, DeletedEntry, FeedChange
from feedsvc.store.base import ALL_TOPIC, ChangePage
from feedsvc.store.codec import decode_article, from_micros, to_micros
from feedsvc.store.postgres.changelog import lock_change_log
from feedsvc.store.postgres.connection import Connection, PostgresPool
from feedsvc.store.postgres.topics import move_topic_counts
from feedsvc.store.rows import LIVE_COUNT, PG_ALIAS_KEYS, feed_key


class PostgresChanges(PostgresPool):
    """The change log methods of :class:`~feedsvc.store.postgres.PostgresStore`."""

    async def read_changes(self, topic: str, after: int, limit: int) -> ChangePage:
        rows = await self._read(
            "SELECT c.seq, c.op, c.article_id, c.at, "
            "CASE WHEN c.op = 'upsert' THEN a.body END, "
            "CASE WHEN c.op = 'upsert' THEN {keys} END, "
            "CASE WHEN c.op = 'upsert' THEN ARRAY(SELECT m.topic FROM topic_articles m "
            "WHERE m.article_id = c.article_id ORDER BY m.topic) END "
            "FROM changes c LEFT JOIN articles a ON a.id = c.article_id "
            "WHERE c.topic = $1 AND c.seq > $2 ORDER BY c.seq LIMIT $3".format(
                keys=PG_ALIAS_KEYS.format(article="a")),
            feed_key(topic), after, limit)
        changes = tuple(_change(row) for row in rows)
        head, horizon, high_water = (await self._read(
            "SELECT GREATEST((SELECT COALESCE(MAX(seq), 0) FROM changes), "
            "(SELECT COALESCE(MAX(seq), 0) FROM change_horizon)), "
            "COALESCE((SELECT seq FROM change_horizon WHERE topic = $1), 0), "
            "(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM change_seq)",
            feed_key(topic)))[0]
        return ChangePage(changes, head=int(head), horizon=int(horizon),
                          high_water=int(high_water))

    async def deleted_entries(self, topic: str, limit: int) -> list[DeletedEntry]:
        rows = await self._read(
            "SELECT article_id, at FROM changes WHERE topic = $1 AND op = 'delete' "
            "AND listed ORDER BY seq DESC LIMIT $2", feed_key(topic), limit)
        return [DeletedEntry(article_id, from_micros(at)) for article_id, at in rows]

    async def expire_changes(self, *, unlist_before: datetime, drop_before: datetime,
                             now: datetime) -> frozenset[str]:
        async def work(conn: Connection) -> frozenset[str]:
            # topic counts before the log's lock, in the order every writer takes them
            topics = {row[0] for row in await conn.fetch(
                "SELECT DISTINCT topic FROM changes WHERE op = 'delete' AND listed AND at < $1",
                to_micros(unlist_before))}
            await move_topic_counts(conn, Counter(), touched=topics, at=now)
            await lock_change_log(conn)
            await conn.execute(
                "UPDATE changes SET listed = FALSE WHERE op = 'delete' AND listed AND at < $1 "
                "AND topic = ANY($2::text[])", to_micros(unlist_before), sorted(topics))
            await conn.execute(
                "WITH gone AS (DELETE FROM changes WHERE at < $1 RETURNING topic, seq) "
                "INSERT INTO change_horizon AS h (topic, seq) "
                "SELECT topic, MAX(seq) FROM gone GROUP BY topic ORDER BY topic "
                "ON CONFLICT (topic) DO UPDATE SET seq = GREATEST(h.seq, excluded.seq)",
                to_micros(drop_before))
            return frozenset(ALL_TOPIC if topic == LIVE_COUNT else topic for topic in topics)

        return await self._write(work)


def _change(row: Any) -> FeedChange:
    seq, op, article_id, at, body, keys, topics = row
    if op != UPSERT or body is None:
        return FeedChange(int(seq), op, article_id, from_micros(at))
    article = decode_article(body, keys or ())
    return FeedChange(int(seq), op, article_id, from_micros(at), article, tuple(topics or ()))
