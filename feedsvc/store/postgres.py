"""The PostgreSQL store, through an asyncpg connection pool.

Same schema shape, codec and answers as the SQLite store (``pg_migrations.py`` says how
the tables line up), but more than one writer: every process shares the database and
each has a pool. So where SQLite relies on its one writer, this backend relies on
row locks and on counting what each statement really changed:

- each write is one transaction (READ COMMITTED) on one pooled connection;
- the row of the article being saved or retracted is taken ``FOR UPDATE`` first; a
  new article is claimed with ``INSERT … ON CONFLICT DO NOTHING``, and a writer that
  loses that race updates the winner's row instead of counting it twice;
- topic counts move by the rows a ``DELETE … RETURNING`` or
  ``INSERT … ON CONFLICT DO NOTHING RETURNING`` touched, never by what was read
  before, so they stay equal to the rows whatever writes interleave; they are written
  last, in one statement, in slug order, so writers lock count rows in the same order;
- a deadlock or serialization failure (SQLSTATE class 40) rolls the transaction back
  and it is run again, up to three times.

Migrations run at ``open()`` in one transaction holding ``pg_advisory_xact_lock``:
processes starting together take turns, and the later ones find nothing to do.

Every asyncpg and socket error is wrapped once, here, as
:class:`~feedsvc.errors.StoreError`; the URL's password never appears in a message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import asyncpg  # type: ignore[import-untyped]  # ships no type information

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
from feedsvc.store.pg_migrations import PG_MIGRATIONS

T = TypeVar("T")
Connection = Any  # asyncpg.Connection, which is untyped

# What asyncpg and the network raise; wrapped once as StoreError.
_FAILURES = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)
_ATTEMPTS = 3  # runs of a write that hits a deadlock or serialization failure
# The advisory lock key that serializes migrations: b"feedsvc" read as an integer.
MIGRATION_LOCK = int.from_bytes(b"feedsvc", "big")
# The topic_counts row counting every live article; no topic slug is empty.
LIVE_COUNT = ""


class PostgresStore:
    """:class:`~feedsvc.store.base.Store` on a PostgreSQL database."""

    def __init__(self, url: str, *, min_connections: int = 1, max_connections: int = 10) -> None:
        self.url = url
        self.where = _redacted(url)
        self._sizes = (min_connections, max_connections)
        self._pool: Any = None  # asyncpg.Pool

    # -- lifecycle ---------------------------------------------------------------------

    async def open(self) -> None:
        try:
            self._pool = await asyncpg.create_pool(
                self.url, min_size=self._sizes[0], max_size=self._sizes[1], timeout=10)
            await self._migrate()
        except (*_FAILURES, ValueError) as exc:  # ValueError: a malformed URL
            if self._pool is not None:
                self._pool.terminate()
                self._pool = None
            raise StoreError(f"cannot open {self.where}: {exc}") from exc

    async def close(self) -> None:
        """Wait until every connection is back in the pool (the writes in flight end)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            try:
                await pool.close()
            except _FAILURES as exc:
                raise StoreError(f"closing {self.where} failed: {exc}") from exc

    @property
    def pool(self) -> Any:
        if self._pool is None:
            raise StoreError("the store is not open")
        return self._pool

    async def _migrate(self) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            # held to the end of the transaction: a second process waits here, then
            # finds every step recorded
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)")
            done = {row[0] for row in await conn.fetch("SELECT version FROM schema_migrations")}
            for version, name, script in PG_MIGRATIONS:
                if version not in done:
                    await conn.execute(script)
                    await conn.execute("INSERT INTO schema_migrations VALUES ($1, $2, $3)",
                                       version, name, datetime.now(UTC))

    async def _write(self, work: Callable[[Connection], Awaitable[T]]) -> T:
        """Run ``work`` as one transaction, again after a deadlock or serialization failure."""
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    return await work(conn)
            except asyncpg.TransactionRollbackError as exc:
                if attempt == _ATTEMPTS:
                    raise StoreError(f"write to {self.where} failed: {exc}") from exc
            except _FAILURES as exc:
                raise StoreError(f"write to {self.where} failed: {exc}") from exc
        raise AssertionError("unreachable")

    async def _read(self, sql: str, *params: Any) -> list[Any]:
        try:
            return list(await self.pool.fetch(sql, *params))
        except _FAILURES as exc:
            raise StoreError(f"read from {self.where} failed: {exc}") from exc

    # -- articles ----------------------------------------------------------------------

    async def get_article(self, article_id: str) -> Article | None:
        rows = await self._read("SELECT body FROM articles WHERE id = $1", article_id)
        return decode_article(rows[0][0]) if rows else None

    async def resolve_alias(self, key: str) -> str | None:
        rows = await self._read("SELECT article_id FROM aliases WHERE key = $1", key)
        return str(rows[0][0]) if rows else None

    async def save_article(
        self, article: Article, topics: Collection[str], aliases: Sequence[str] = (),
        fingerprint: str | None = None,
    ) -> SaveOutcome:
        wanted = set(topics)

        async def work(conn: Connection) -> SaveOutcome:
            existing = await _lock_article(conn, article.id)
            created = existing is None and await _claim_article(conn, article, fingerprint)
            if existing is None and not created:  # a concurrent writer stored it first
                existing = await _lock_article(conn, article.id)
            if existing is not None:
                old_topics = {row[0] for row in await conn.fetch(
                    "SELECT topic FROM topic_articles WHERE article_id = $1", article.id)}
                if existing == article.content_hash and old_topics == wanted:
                    return SaveOutcome.UNCHANGED
                await conn.execute(
                    "UPDATE articles SET updated = $2, content_hash = $3, body = $4, "
                    "fingerprint = $5 WHERE id = $1",
                    article.id, to_micros(article.updated), article.content_hash,
                    encode_article(article), fingerprint)
            deltas = Counter({LIVE_COUNT: 1}) if created else Counter[str]()
            deltas.subtract(row[0] for row in await conn.fetch(
                "DELETE FROM topic_articles WHERE article_id = $1 RETURNING topic", article.id))
            deltas.update(row[0] for row in await conn.fetch(
                "INSERT INTO topic_articles (topic, article_id, published, updated) "
                "SELECT topic, $2, $3, $4 FROM unnest($1::text[]) AS topic ORDER BY topic "
                "ON CONFLICT DO NOTHING RETURNING topic",
                sorted(wanted), article.id, to_micros(article.published),
                to_micros(article.updated)))
            await _insert_aliases(conn, article.id, aliases)
            await _count(conn, deltas)
            return SaveOutcome.NEW if created else SaveOutcome.UPDATED

        return await self._write(work)

    async def add_aliases(self, article_id: str, keys: Sequence[str]) -> None:
        async def work(conn: Connection) -> None:
            await _insert_aliases(conn, article_id, keys)

        await self._write(work)

    async def by_fingerprint(self, fingerprint: str) -> Article | None:
        rows = await self._read(
            "SELECT body FROM articles WHERE fingerprint = $1 AND live "
            "ORDER BY published, id LIMIT 1", fingerprint)
        return decode_article(rows[0][0]) if rows else None

    async def absorb(self, survivor_id: str, absorbed_id: str) -> frozenset[str]:
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
            await _count(conn, deltas)
            return frozenset(topics)

        return await self._write(work)

    async def retract_article(self, article_id: str, *, keep: bool = False) -> bool:
        async def work(conn: Connection) -> bool:
            live = await conn.fetchval(
                "SELECT live FROM articles WHERE id = $1 FOR UPDATE", article_id)
            await conn.execute(
                "INSERT INTO tombstones (article_id, retracted) VALUES ($1, $2) "
                "ON CONFLICT DO NOTHING", article_id, to_micros(datetime.now(UTC)))
            if not live or keep:
                return False
            topics = [row[0] for row in await conn.fetch(
                "DELETE FROM topic_articles WHERE article_id = $1 RETURNING topic", article_id)]
            await conn.execute("UPDATE articles SET live = FALSE WHERE id = $1", article_id)
            deltas = Counter({LIVE_COUNT: -1})
            deltas.subtract(topics)
            await _count(conn, deltas)
            return True

        return await self._write(work)

    async def is_tombstoned(self, article_id: str) -> bool:
        rows = await self._read("SELECT 1 FROM tombstones WHERE article_id = $1", article_id)
        return bool(rows)

    async def topic_page(
        self, topic: str, *, limit: int, before: Cursor | None = None, since: datetime | None = None
    ) -> list[Article]:
        if topic == ALL_TOPIC:
            params: list[Any] = []
            sql = ("SELECT t.body FROM articles t WHERE t.live {cond} "
                   "ORDER BY t.published DESC, t.id DESC LIMIT {limit}")
            key = "t.id"
        else:
            params = [topic]
            sql = ("SELECT a.body FROM topic_articles t JOIN articles a ON a.id = t.article_id "
                   "WHERE t.topic = $1 {cond} "
                   "ORDER BY t.published DESC, t.article_id DESC LIMIT {limit}")
            key = "t.article_id"
        cond = ""
        if before is not None:
            params += [to_micros(before.published), before.article_id]
            cond += f" AND (t.published, {key}) < (${len(params) - 1}, ${len(params)})"
        if since is not None:
            params.append(to_micros(since))
            cond += f" AND t.published >= ${len(params)}"
        params.append(limit)
        rows = await self._read(sql.format(cond=cond, limit=f"${len(params)}"), *params)
        return [decode_article(row[0]) for row in rows]

    async def topic_stats(self, topics: Sequence[str]) -> dict[str, TopicStats]:
        # Counts come from topic_counts and the newest update from the end of an index,
        # so the cost does not grow with the topic.
        slugs = [slug for slug in topics if slug != ALL_TOPIC]
        rows = await self._read(
            "SELECT s.slug, c.count, (SELECT MAX(t.updated) FROM topic_articles t "
            "WHERE t.topic = s.slug) FROM unnest($1::text[]) AS s (slug) "
            "LEFT JOIN topic_counts c ON c.topic = s.slug", slugs) if slugs else []
        if ALL_TOPIC in topics:
            rows += await self._read(
                "SELECT $1::text, (SELECT count FROM topic_counts WHERE topic = $2), "
                "(SELECT MAX(updated) FROM articles WHERE live)", ALL_TOPIC, LIVE_COUNT)
        return {slug: TopicStats(slug, int(count or 0),
                                 from_micros(updated) if updated is not None else None)
                for slug, count, updated in rows}

    async def set_topic_members(self, topic: str, article_ids: Collection[str]) -> bool:
        async def work(conn: Connection) -> bool:
            current = {row[0] for row in await conn.fetch(
                "SELECT article_id FROM topic_articles WHERE topic = $1", topic)}
            wanted = set(article_ids)
            if current == wanted:
                return False
            removed = await conn.fetch(
                "DELETE FROM topic_articles WHERE topic = $1 AND article_id = ANY($2::text[]) "
                "RETURNING article_id", topic, sorted(current - wanted))
            added = await conn.fetch(
                "INSERT INTO topic_articles (topic, article_id, published, updated) "
                "SELECT $1, id, published, updated FROM articles "
                "WHERE id = ANY($2::text[]) AND live ORDER BY id "
                "ON CONFLICT DO NOTHING RETURNING article_id", topic, sorted(wanted - current))
            await _count(conn, Counter({topic: len(added) - len(removed)}))
            return True

        return await self._write(work)

    async def drop_topic(self, topic: str) -> None:
        async def work(conn: Connection) -> None:
            removed = await conn.fetch(
                "DELETE FROM topic_articles WHERE topic = $1 RETURNING article_id", topic)
            await _count(conn, Counter({topic: -len(removed)}))
            # a writer that added to the topic meanwhile keeps its (non-zero) count
            await conn.execute("DELETE FROM topic_counts WHERE topic = $1 AND count = 0", topic)

        await self._write(work)

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

    # -- polling state -----------------------------------------------------------------

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
            f"SELECT {_PAGE_COLUMNS} FROM page_state WHERE article_id = ANY($1::text[])",
            list(article_ids))
        return {row[0]: _page_state(row) for row in rows}

    async def save_page_state(self, state: PageState) -> None:
        async def work(conn: Connection) -> None:
            await conn.execute(
                f"INSERT INTO page_state (source, {_PAGE_COLUMNS}) "
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
            f"SELECT {_PAGE_COLUMNS} FROM page_state WHERE source = $1 AND failures > 0 "
            "AND next_attempt_at <= $2 ORDER BY next_attempt_at, article_id LIMIT $3",
            source, to_micros(now), limit)
        return [_page_state(row) for row in rows]


async def _lock_article(conn: Connection, article_id: str) -> str | None:
    """Lock the article's row for this transaction; its content hash, or None if absent."""
    content_hash = await conn.fetchval(
        "SELECT content_hash FROM articles WHERE id = $1 FOR UPDATE", article_id)
    return None if content_hash is None else str(content_hash)


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


async def _insert_aliases(conn: Connection, article_id: str, keys: Iterable[str]) -> None:
    """Keys already naming an article keep naming it (the SQLite ``INSERT OR IGNORE``)."""
    await conn.execute(
        "INSERT INTO aliases (key, article_id) SELECT key, $2 FROM unnest($1::text[]) AS key "
        "ORDER BY key ON CONFLICT (key) DO NOTHING", sorted(set(keys)), article_id)


async def _count(conn: Connection, deltas: Counter[str]) -> None:
    """Move topic counts by ``deltas``, inside the caller's transaction, in slug order."""
    moves = sorted((topic, delta) for topic, delta in deltas.items() if delta)
    if moves:
        await conn.execute(
            "INSERT INTO topic_counts AS c (topic, count) "
            "SELECT * FROM unnest($1::text[], $2::bigint[]) "
            "ON CONFLICT (topic) DO UPDATE SET count = c.count + excluded.count",
            [topic for topic, _ in moves], [delta for _, delta in moves])


def _redacted(url: str) -> str:
    """``host:port/database`` of a storage URL: never its user or password."""
    try:
        parts = urlsplit(url)
        host = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
    except ValueError:
        return "the PostgreSQL database"
    return f"postgresql://{host}{parts.path}"


_PAGE_COLUMNS = ("article_id, url, feed_signature, etag, last_modified, failures, "
                 "next_attempt_at, last_error, fetched")


def _page_state(row: Sequence[Any]) -> PageState:
    return PageState(
        article_id=row[0], url=row[1], feed_signature=row[2], etag=row[3], last_modified=row[4],
        failures=row[5], next_attempt_at=from_micros(row[6]) if row[6] is not None else None,
        last_error=row[7], fetched=bool(row[8]),
    )
