"""Topics on SQLite: newest-first pages, stats, membership, and the kept counts.

A page's alias keys come in the page's own statement, never in a query per article.
``topic_counts`` holds one row a topic (and the ``LIVE_COUNT`` row for every live
article). Each write moves the counts it changes in its own transaction, so a stats
query reads a row instead of counting the topic (migration 3); and the change counter
and change time of each topic whose feed it changes (``touch_topics``, migration 6).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

import aiosqlite

from feedsvc.models import Article
from feedsvc.store.base import ALL_TOPIC, Cursor, TopicStats
from feedsvc.store.codec import decode_article, from_micros, to_micros
from feedsvc.store.rows import LIVE_COUNT, SQLITE_ALIAS_KEYS, membership_entries
from feedsvc.store.sqlite.changelog import log_changes
from feedsvc.store.sqlite.connection import SQLiteConnection


class SQLiteTopics(SQLiteConnection):
    """The topic methods of :class:`~feedsvc.store.sqlite.SQLiteStore`."""

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
            sql = ("SELECT t.body, {keys} FROM articles t WHERE t.live = 1 {cond} "
                   "ORDER BY t.published DESC, t.id DESC LIMIT ?")
            keys = SQLITE_ALIAS_KEYS.format(article="t")
        else:
            sql = ("SELECT a.body, {keys} FROM topic_articles t "
                   "JOIN articles a ON a.id = t.article_id WHERE t.topic = ? {cond} "
                   "ORDER BY t.published DESC, t.article_id DESC LIMIT ?")
            keys = SQLITE_ALIAS_KEYS.format(article="a")
            params.insert(0, topic)
        cond = "".join(f" AND {clause}" for clause in where)
        rows = await self._read(sql.format(cond=cond, keys=keys), (*params, limit))
        return [decode_article(body, (keys or "").split("\x1f")) for body, keys in rows]

    async def topic_stats(self, topics: Sequence[str]) -> dict[str, TopicStats]:
        # One statement, whatever the number of topics: counts come from topic_counts
        # and each newest update from the end of an index (migration 3), so the cost
        # does not grow with the topics' sizes.
        wanted = set(topics)
        rows = await self._read(
            "SELECT c.topic, c.count, CASE WHEN c.topic = ? "
            "THEN (SELECT MAX(updated) FROM articles WHERE live = 1) "
            "ELSE (SELECT MAX(updated) FROM topic_articles WHERE topic = c.topic) END, "
            "c.changed_at FROM topic_counts c", (LIVE_COUNT,))
        found = {ALL_TOPIC if topic == LIVE_COUNT else topic: (count, updated, changed)
                 for topic, count, updated, changed in rows}
        stats = {}
        for slug in wanted:
            count, updated, changed = found.get(slug, (0, None, None))
            stats[slug] = TopicStats(slug, int(count or 0),
                                     from_micros(updated) if updated else None,
                                     from_micros(changed) if changed else None)
        return stats

    async def topic_versions(self) -> dict[str, int]:
        rows = await self._read("SELECT topic, version FROM topic_counts")
        return {topic or ALL_TOPIC: int(version) for topic, version in rows}

    async def set_topic_members(self, members: Mapping[str, Collection[str]],
                                rules: Mapping[str, str], *, now: datetime) -> frozenset[str]:
        async def work(db: aiosqlite.Connection) -> frozenset[str]:
            changed = set()
            current = await _members_of(db, sorted(members))
            for topic in sorted(members):
                if current[topic] == (wanted := set(members[topic])):
                    continue  # most topics, in a backfill of thousands: one read for all
                added, removed = await _replace_members(db, topic, current[topic], wanted)
                if added or removed:
                    changed.add(topic)
                    await log_changes(db, membership_entries(topic, added, removed), now)
            await touch_topics(db, changed, now)
            await db.executemany(
                "INSERT OR REPLACE INTO topic_rules (topic, fingerprint) VALUES (?, ?)",
                sorted(rules.items()))
            return frozenset(changed)

        return await self._write(work)

    async def topic_snapshot(self, digest: str) -> bytes | None:
        rows = await self._read("SELECT body FROM topic_snapshots WHERE digest = ?", (digest,))
        return bytes(rows[0][0]) if rows else None

    async def save_topic_snapshot(self, digest: str, body: bytes) -> None:
        async def work(db: aiosqlite.Connection) -> None:
            await db.execute("DELETE FROM topic_snapshots WHERE digest != ?", (digest,))
            await db.execute("INSERT OR REPLACE INTO topic_snapshots (digest, body) VALUES (?, ?)",
                             (digest, body))

        await self._write(work)

    async def topic_rules(self) -> dict[str, str]:
        rows = await self._read("SELECT topic, fingerprint FROM topic_rules")
        return {str(topic): str(fingerprint) for topic, fingerprint in rows}

    async def drop_topic(self, topic: str, *, now: datetime) -> None:
        async def work(db: aiosqlite.Connection) -> None:
            members = [row[0] for row in await db.execute_fetchall(
                "SELECT article_id FROM topic_articles WHERE topic = ?", (topic,))]
            # its articles left its feed (a reader of the stream of a topic of that name
            # learns so, should it come back), and their topics changed
            await log_changes(db, membership_entries(topic, (), members), now)
            await db.execute("DELETE FROM topic_articles WHERE topic = ?", (topic,))
            await db.execute("DELETE FROM topic_counts WHERE topic = ?", (topic,))
            await db.execute("DELETE FROM topic_rules WHERE topic = ?", (topic,))

        await self._write(work)


async def _members_of(db: aiosqlite.Connection, topics: list[str]) -> dict[str, set[str]]:
    """The stored members of each of ``topics``, read 500 topics a statement."""
    members: dict[str, set[str]] = {topic: set() for topic in topics}
    for start in range(0, len(topics), 500):  # SQLite's bound on host parameters
        batch = topics[start:start + 500]
        for topic, article_id in await db.execute_fetchall(
                "SELECT topic, article_id FROM topic_articles WHERE topic IN ({})".format(
                    ",".join("?" * len(batch))), batch):
            members[topic].add(article_id)
    return members


async def _replace_members(db: aiosqlite.Connection, topic: str, current: set[str],
                           wanted: set[str]) -> tuple[set[str], set[str]]:
    """Make ``topic``, which holds ``current``, hold exactly ``wanted`` (its live ones),
    in the caller's transaction; the articles added and those removed."""
    removed = current - wanted
    await db.executemany("DELETE FROM topic_articles WHERE topic = ? AND article_id = ?",
                         [(topic, a) for a in sorted(removed)])
    candidates = sorted(wanted - current)
    added: set[str] = set()
    for start in range(0, len(candidates), 500):  # SQLite's bound on host parameters
        batch = candidates[start:start + 500]
        added.update(row[0] for row in await db.execute_fetchall(
            "SELECT id FROM articles WHERE live = 1 AND id IN ({})".format(
                ",".join("?" * len(batch))), batch))
    await db.executemany(
        "INSERT INTO topic_articles (topic, article_id, published, updated) "
        "SELECT ?, id, published, updated FROM articles WHERE id = ?",
        [(topic, a) for a in sorted(added)])
    # a whole-topic edit: counting the one topic again is simplest (an upsert, so the
    # row's change counter and time stay)
    await db.execute(
        "INSERT INTO topic_counts (topic, count) "
        "SELECT ?, COUNT(*) FROM topic_articles WHERE topic = ? "
        "ON CONFLICT (topic) DO UPDATE SET count = excluded.count", (topic, topic))
    return added, removed


async def move_topic_counts(db: aiosqlite.Connection, topics: Collection[str], delta: int) -> None:
    """Move the counts of ``topics`` by ``delta``, inside the caller's transaction."""
    if delta:
        await db.executemany(
            "INSERT INTO topic_counts (topic, count) VALUES (?, ?) "
            "ON CONFLICT (topic) DO UPDATE SET count = count + excluded.count",
            [(topic, delta) for topic in sorted(topics)])


async def touch_topics(db: aiosqlite.Connection, topics: Collection[str], at: datetime) -> None:
    """Move the change counter of ``topics`` (``LIVE_COUNT`` for ``all``) and their change
    time to ``at`` unless it is later already, inside the caller's transaction."""
    await db.executemany(
        "INSERT INTO topic_counts (topic, count, version, changed_at) VALUES (?, 0, 1, ?) "
        "ON CONFLICT (topic) DO UPDATE SET version = version + 1, "
        "changed_at = MAX(COALESCE(changed_at, 0), excluded.changed_at)",
        [(topic, to_micros(at)) for topic in sorted(set(topics))])
