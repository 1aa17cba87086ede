"""Topics on PostgreSQL: newest-first pages, stats, membership, and the kept counts.

With more than one writer, a count cannot move by what a transaction read before
writing: another may change the rows in between. So counts move by the rows a
``DELETE … RETURNING`` or ``INSERT … RETURNING`` really touched, and are written last,
in one statement, in slug order, so writers lock count rows in the same order. The
same statement moves the change counter (``version``) and change time (``changed_at``)
of every topic whose feed the write changed.
A page's alias keys come in the page's own statement, never in a query per article.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from feedsvc.models import Article
from feedsvc.store.base import ALL_TOPIC, Cursor, TopicStats
from feedsvc.store.codec import decode_article, from_micros, to_micros
from feedsvc.store.postgres.changelog import log_changes
from feedsvc.store.postgres.connection import Connection, PostgresPool
from feedsvc.store.rows import LIVE_COUNT, PG_ALIAS_KEYS, Entry, membership_entries


class PostgresTopics(PostgresPool):
    """The topic methods of :class:`~feedsvc.store.postgres.PostgresStore`."""

    async def topic_page(
        self, topic: str, *, limit: int, before: Cursor | None = None, since: datetime | None = None
    ) -> list[Article]:
        if topic == ALL_TOPIC:
            params: list[Any] = []
            sql = ("SELECT t.body, {keys} FROM articles t WHERE t.live {cond} "
                   "ORDER BY t.published DESC, t.id DESC LIMIT {limit}")
            key, keys = "t.id", PG_ALIAS_KEYS.format(article="t")
        else:
            params = [topic]
            sql = ("SELECT a.body, {keys} FROM topic_articles t "
                   "JOIN articles a ON a.id = t.article_id WHERE t.topic = $1 {cond} "
                   "ORDER BY t.published DESC, t.article_id DESC LIMIT {limit}")
            key, keys = "t.article_id", PG_ALIAS_KEYS.format(article="a")
        cond = ""
        if before is not None:
            params += [to_micros(before.published), before.article_id]
            cond += f" AND (t.published, {key}) < (${len(params) - 1}, ${len(params)})"
        if since is not None:
            params.append(to_micros(since))
            cond += f" AND t.published >= ${len(params)}"
        params.append(limit)
        rows = await self._read(sql.format(cond=cond, limit=f"${len(params)}", keys=keys),
                                *params)
        return [decode_article(body, keys) for body, keys in rows]

    async def topic_stats(self, topics: Sequence[str]) -> dict[str, TopicStats]:
        # Counts come from topic_counts and the newest update from the end of an index,
        # so the cost does not grow with the topic.
        slugs = [slug for slug in topics if slug != ALL_TOPIC]
        rows = await self._read(
            "SELECT s.slug, c.count, (SELECT MAX(t.updated) FROM topic_articles t "
            "WHERE t.topic = s.slug), c.changed_at FROM unnest($1::text[]) AS s (slug) "
            "LEFT JOIN topic_counts c ON c.topic = s.slug", slugs) if slugs else []
        if ALL_TOPIC in topics:
            rows += await self._read(
                "SELECT $1::text, c.count, (SELECT MAX(updated) FROM articles WHERE live), "
                "c.changed_at FROM (SELECT 1) AS one "
                "LEFT JOIN topic_counts c ON c.topic = $2", ALL_TOPIC, LIVE_COUNT)
        return {slug: TopicStats(slug, int(count or 0),
                                 from_micros(updated) if updated is not None else None,
                                 from_micros(changed) if changed is not None else None)
                for slug, count, updated, changed in rows}

    async def topic_versions(self) -> dict[str, int]:
        rows = await self._read("SELECT topic, version FROM topic_counts")
        return {topic or ALL_TOPIC: int(version) for topic, version in rows}

    async def set_topic_members(self, members: Mapping[str, Collection[str]],
                                rules: Mapping[str, str], *, now: datetime) -> frozenset[str]:
        async def work(conn: Connection) -> frozenset[str]:
            moved: Counter[str] = Counter()
            changed = set()
            entries: list[Entry] = []
            current = await _members_of(conn, sorted(members))
            for topic in sorted(members):
                if current[topic] == (wanted := set(members[topic])):
                    continue  # most topics, in a backfill of thousands: one read for all
                added, removed = await _replace_members(conn, topic, current[topic], wanted)
                if added or removed:
                    changed.add(topic)
                    moved[topic] += len(added) - len(removed)
                    entries += membership_entries(topic, added, removed)
            await move_topic_counts(conn, moved, touched=changed, at=now)
            if rules:
                await conn.execute(
                    "INSERT INTO topic_rules AS r (topic, fingerprint) "
                    "SELECT * FROM unnest($1::text[], $2::text[]) "
                    "ON CONFLICT (topic) DO UPDATE SET fingerprint = excluded.fingerprint",
                    sorted(rules), [rules[topic] for topic in sorted(rules)])
            await log_changes(conn, entries, now)  # last: the log's lock is held to commit
            return frozenset(changed)

        return await self._write(work)

    async def topic_snapshot(self, digest: str) -> bytes | None:
        rows = await self._read("SELECT body FROM topic_snapshots WHERE digest = $1", digest)
        return bytes(rows[0][0]) if rows else None

    async def save_topic_snapshot(self, digest: str, body: bytes) -> None:
        async def work(conn: Connection) -> None:
            await conn.execute("DELETE FROM topic_snapshots WHERE digest != $1", digest)
            await conn.execute(
                "INSERT INTO topic_snapshots (digest, body) VALUES ($1, $2) "
                "ON CONFLICT (digest) DO UPDATE SET body = excluded.body", digest, body)

        await self._write(work)

    async def topic_rules(self) -> dict[str, str]:
        rows = await self._read("SELECT topic, fingerprint FROM topic_rules")
        return {str(topic): str(fingerprint) for topic, fingerprint in rows}

    async def drop_topic(self, topic: str, *, now: datetime) -> None:
        async def work(conn: Connection) -> None:
            removed = await conn.fetch(
                "DELETE FROM topic_articles WHERE topic = $1 RETURNING article_id", topic)
            await move_topic_counts(conn, Counter({topic: -len(removed)}))
            # a writer that added to the topic meanwhile keeps its (non-zero) count
            await conn.execute("DELETE FROM topic_counts WHERE topic = $1 AND count = 0", topic)
            await conn.execute("DELETE FROM topic_rules WHERE topic = $1", topic)
            # its articles left its feed (a reader of the stream of a topic of that name
            # learns so, should it come back), and their topics changed
            await log_changes(conn, membership_entries(
                topic, (), [row[0] for row in removed]), now)

        await self._write(work)


async def _members_of(conn: Connection, topics: list[str]) -> dict[str, set[str]]:
    """The stored members of each of ``topics``, in one statement."""
    members: dict[str, set[str]] = {topic: set() for topic in topics}
    for topic, article_id in await conn.fetch(
            "SELECT topic, article_id FROM topic_articles WHERE topic = ANY($1::text[])", topics):
        members[topic].add(article_id)
    return members


async def _replace_members(conn: Connection, topic: str, current: set[str], wanted: set[str]
                           ) -> tuple[list[str], list[str]]:
    """Make ``topic``, which holds ``current``, hold exactly ``wanted`` (its live ones),
    in the caller's transaction; the articles really added and removed."""
    removed = await conn.fetch(
        "DELETE FROM topic_articles WHERE topic = $1 AND article_id = ANY($2::text[]) "
        "RETURNING article_id", topic, sorted(current - wanted))
    added = await conn.fetch(
        "INSERT INTO topic_articles (topic, article_id, published, updated) "
        "SELECT $1, id, published, updated FROM articles "
        "WHERE id = ANY($2::text[]) AND live ORDER BY id "
        "ON CONFLICT DO NOTHING RETURNING article_id", topic, sorted(wanted - current))
    return [row[0] for row in added], [row[0] for row in removed]


async def move_topic_counts(conn: Connection, deltas: Counter[str], *,
                            touched: Collection[str] = (), at: datetime | None = None) -> None:
    """Move topic counts by ``deltas``, and the change counter and time (to ``at``, unless
    later already) of the ``touched`` topics, inside the caller's transaction, in one
    statement, in slug order."""
    topics = sorted({topic for topic, delta in deltas.items() if delta} | set(touched))
    if not topics:
        return
    await conn.execute(
        "INSERT INTO topic_counts AS c (topic, count, version, changed_at) "
        "SELECT u.topic, u.delta, CASE WHEN u.touched THEN 1 ELSE 0 END, "
        "CASE WHEN u.touched THEN $4::bigint END "
        "FROM unnest($1::text[], $2::bigint[], $3::boolean[]) AS u (topic, delta, touched) "
        "ON CONFLICT (topic) DO UPDATE SET count = c.count + excluded.count, "
        "version = c.version + excluded.version, "
        "changed_at = GREATEST(c.changed_at, excluded.changed_at)",
        topics, [deltas.get(topic, 0) for topic in topics],
        [topic in touched for topic in topics],
        to_micros(at) if at is not None else None)
