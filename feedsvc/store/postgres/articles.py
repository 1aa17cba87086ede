"""Articles on PostgreSQL: saving, aliases, merging duplicates, retracting, listing.

A write first locks the article's row ``FOR UPDATE``; a new article is claimed with
``INSERT … ON CONFLICT DO NOTHING``, and a writer that loses that race updates the
winner's row instead of counting it twice. Topic counts move by the rows each
statement touched, and the change counters and times of the topics whose feeds a
write changes move with them, in the same statement (see ``topics.py``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Collection, Iterable, Sequence
from datetime import datetime

from feedsvc.models import Article
from feedsvc.store.base import ALL_TOPIC, SaveOutcome
from feedsvc.store.codec import decode_article, encode_article, to_micros
from feedsvc.store.postgres.changelog import log_changes
from feedsvc.store.postgres.connection import Connection, PostgresPool
from feedsvc.store.postgres.topics import move_topic_counts
from feedsvc.store.rows import LIVE_COUNT, removed_entries, saved_entries, shows_new_alias


class PostgresArticles(PostgresPool):
    """The article methods of :class:`~feedsvc.store.postgres.PostgresStore`."""

    async def get_article(self, article_id: str) -> Article | None:
        rows = await self._read("SELECT body FROM articles WHERE id = $1", article_id)
        return decode_article(rows[0][0]) if rows else None

    async def resolve_alias(self, key: str) -> str | None:
        rows = await self._read("SELECT article_id FROM aliases WHERE key = $1", key)
        return str(rows[0][0]) if rows else None

    async def save_article(
        self, article: Article, topics: Collection[str], aliases: Sequence[str] = (),
        fingerprint: str | None = None, *, now: datetime, restore: bool = False,
    ) -> SaveOutcome:
        wanted = set(topics)

        async def work(conn: Connection) -> SaveOutcome:
            existing = await _lock_article(conn, article.id)
            created = existing is None and await _claim_article(conn, article, fingerprint)
            if existing is None and not created:  # a concurrent writer stored it first
                existing = await _lock_article(conn, article.id)
            revived = restore and await _restore(conn, article.id)
            live = existing is None or revived or await conn.fetchval(
                "SELECT live FROM articles WHERE id = $1", article.id)
            deltas = Counter({LIVE_COUNT: 1}) if created or revived else Counter[str]()
            if existing is not None:
                old_topics = {row[0] for row in await conn.fetch(
                    "SELECT topic FROM topic_articles WHERE article_id = $1", article.id)}
                if not revived and existing == article.content_hash and old_topics == wanted:
                    return SaveOutcome.UNCHANGED
                await conn.execute(
                    "UPDATE articles SET updated = $2, content_hash = $3, body = $4, "
                    "fingerprint = $5 WHERE id = $1",
                    article.id, to_micros(article.updated), article.content_hash,
                    encode_article(article), fingerprint)
            removed = [row[0] for row in await conn.fetch(
                "DELETE FROM topic_articles WHERE article_id = $1 RETURNING topic", article.id)]
            deltas.subtract(removed)
            deltas.update(row[0] for row in await conn.fetch(
                "INSERT INTO topic_articles (topic, article_id, published, updated) "
                "SELECT topic, $2, $3, $4 FROM unnest($1::text[]) AS topic ORDER BY topic "
                "ON CONFLICT DO NOTHING RETURNING topic",
                sorted(wanted), article.id, to_micros(article.published),
                to_micros(article.updated)))
            await _insert_aliases(conn, article.id, aliases)
            at = max(now, article.updated)
            await move_topic_counts(conn, deltas, touched={*removed, *wanted, LIVE_COUNT}, at=at)
            await log_changes(conn, saved_entries(
                article.id, removed, wanted, live=bool(live),
                content_changed=existing != article.content_hash or revived), at)
            if revived:
                return SaveOutcome.RESTORED
            return SaveOutcome.NEW if created else SaveOutcome.UPDATED

        return await self._write(work)

    async def add_aliases(self, article_id: str, keys: Sequence[str], *,
                          now: datetime | None = None) -> frozenset[str]:
        async def work(conn: Connection) -> frozenset[str]:
            # the article's row first, as every write that touches an article locks it
            body = await conn.fetchval(
                "SELECT body FROM articles WHERE id = $1 AND live FOR UPDATE", article_id)
            new = await _insert_aliases(conn, article_id, keys)
            if now is None or body is None or not shows_new_alias(new, decode_article(body).url):
                return frozenset()
            topics = {row[0] for row in await conn.fetch(
                "SELECT topic FROM topic_articles WHERE article_id = $1", article_id)}
            await move_topic_counts(conn, Counter(), touched=topics | {LIVE_COUNT}, at=now)
            await log_changes(conn, saved_entries(article_id, topics, topics,
                                                  content_changed=True), now)
            return frozenset(topics | {ALL_TOPIC})

        return await self._write(work)

    async def by_fingerprint(self, fingerprint: str) -> Article | None:
        rows = await self._read(
            "SELECT body FROM articles WHERE fingerprint = $1 AND live "
            "ORDER BY published, id LIMIT 1", fingerprint)
        return decode_article(rows[0][0]) if rows else None

    async def absorb(self, survivor_id: str, absorbed_id: str, *, now: datetime) -> frozenset[str]:
        async def work(conn: Connection) -> frozenset[str]:
            body = await conn.fetchval(
                "SELECT body FROM articles WHERE id = $1 FOR UPDATE", absorbed_id)
            hidden = await conn.fetch(
                "UPDATE articles SET live = FALSE WHERE id = $1 AND live RETURNING id",
                absorbed_id)
            topics = [row[0] for row in await conn.fetch(
                "DELETE FROM topic_articles WHERE article_id = $1 RETURNING topic", absorbed_id)]
            await conn.execute("UPDATE aliases SET article_id = $1 WHERE article_id = $2",
                               survivor_id, absorbed_id)
            keys = {f"id:{absorbed_id}"} | ({decode_article(body).url} if body else set())
            await conn.execute(
                "INSERT INTO aliases (key, article_id) SELECT key, $2 FROM unnest($1::text[]) "
                "AS key ORDER BY key ON CONFLICT (key) DO UPDATE SET article_id = excluded.article_id",
                sorted(keys), survivor_id)
            deltas = Counter({LIVE_COUNT: -len(hidden)})
            deltas.subtract(topics)
            touched = {*topics, LIVE_COUNT} if hidden or topics else set()
            await move_topic_counts(conn, deltas, touched=touched, at=now)
            await log_changes(conn, removed_entries(absorbed_id, topics, was_live=bool(hidden)),
                              now)
            return frozenset(topics)

        return await self._write(work)

    async def retract_article(self, article_id: str, *, now: datetime, keep: bool = False) -> bool:
        async def work(conn: Connection) -> bool:
            live = await conn.fetchval(
                "SELECT live FROM articles WHERE id = $1 FOR UPDATE", article_id)
            await conn.execute(
                "INSERT INTO tombstones (article_id, retracted) VALUES ($1, $2) "
                "ON CONFLICT DO NOTHING", article_id, to_micros(now))
            if not live or keep:
                return False
            topics = [row[0] for row in await conn.fetch(
                "DELETE FROM topic_articles WHERE article_id = $1 RETURNING topic", article_id)]
            await conn.execute("UPDATE articles SET live = FALSE WHERE id = $1", article_id)
            deltas = Counter({LIVE_COUNT: -1})
            deltas.subtract(topics)
            await move_topic_counts(conn, deltas, touched={*topics, LIVE_COUNT}, at=now)
            await log_changes(conn, removed_entries(article_id, topics, was_live=True), now)
            return True

        return await self._write(work)

    async def is_tombstoned(self, article_id: str) -> bool:
        rows = await self._read("SELECT 1 FROM tombstones WHERE article_id = $1", article_id)
        return bool(rows)

    async def iter_articles(self, batch_size: int = 500, since: datetime | None = None
                            ) -> AsyncIterator[Article]:
        # keyset pages, each its own query: no connection is held while the caller works
        after = (to_micros(since) - 1 if since else -1, "")
        while True:
            rows = await self._read(
                "SELECT published, id, body FROM articles "
                "WHERE live AND (published, id) > ($1, $2) ORDER BY published, id LIMIT $3",
                *after, batch_size)
            for row in rows:
                yield decode_article(row[2])
            if len(rows) < batch_size:
                return
            after = (rows[-1][0], rows[-1][1])

    async def count_articles(self, source: str | None = None) -> int:
        if source is None:
            rows = await self._read(
                "SELECT COALESCE((SELECT count FROM topic_counts WHERE topic = $1), 0)",
                LIVE_COUNT)
        else:
            rows = await self._read(
                "SELECT COUNT(*) FROM articles WHERE source = $1 AND live", source)
        return int(rows[0][0])


async def _lock_article(conn: Connection, article_id: str) -> str | None:
    """Lock the article's row for this transaction; its content hash, or None if absent."""
    content_hash = await conn.fetchval(
        "SELECT content_hash FROM articles WHERE id = $1 FOR UPDATE", article_id)
    return None if content_hash is None else str(content_hash)


async def _restore(conn: Connection, article_id: str) -> bool:
    """Lift the tombstone; True when a retracted row (locked by the caller) is live again."""
    await conn.execute("DELETE FROM tombstones WHERE article_id = $1", article_id)
    revived = await conn.fetchval(
        "UPDATE articles SET live = TRUE WHERE id = $1 AND NOT live RETURNING TRUE", article_id)
    return revived is not None


async def _claim_article(conn: Connection, article: Article, fingerprint: str | None) -> bool:
    """Insert a new article; False when another transaction inserted it first.

    ``ON CONFLICT`` waits for that transaction, so a False means its row is committed and
    visible to the next statement.
    """
    inserted = await conn.fetchval(
        "INSERT INTO articles (id, source, published, updated, content_hash, body, fingerprint) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING RETURNING TRUE",
        article.id, article.source, to_micros(article.published), to_micros(article.updated),
        article.content_hash, encode_article(article), fingerprint)
    return inserted is not None


async def _insert_aliases(conn: Connection, article_id: str, keys: Iterable[str]) -> list[str]:
    """Keys already naming an article keep naming it (the SQLite ``INSERT OR IGNORE``);
    the keys that were new."""
    rows = await conn.fetch(
        "INSERT INTO aliases (key, article_id) SELECT key, $2 FROM unnest($1::text[]) AS key "
        "ORDER BY key ON CONFLICT (key) DO NOTHING RETURNING key", sorted(set(keys)), article_id)
    return [row[0] for row in rows]
