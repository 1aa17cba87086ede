"""PostgreSQL schema, as an ordered, append-only list. Never edit a released step: add one.

The tables mirror the SQLite schema (``migrations.py``) as it stands after its last
step, so both backends answer the contract tests alike:

- times are integer microseconds since the epoch (``BIGINT``) and bodies the codec's
  bytes (``BYTEA``), exactly what the SQLite backend stores;
- article ids and topic slugs use the ``"C"`` collation, so ``ORDER BY published, id``
  and the cursor comparison ``(published, article_id) < ($1, $2)`` order by bytes, like
  SQLite, whatever the database's default collation is;
- ``topic_counts`` holds each topic's count (the row keyed ``''`` counts the live
  articles), moved by every write in the same transaction.

Why these indexes: a topic's newest page is a range scan of
``topic_articles(topic, published DESC, article_id DESC)`` that stops after ``limit``
rows; the ``all`` page and ``iter_articles`` scan ``articles_newest`` (forwards or
backwards); the newest ``updated`` of a topic or of ``all`` is the end of an index.
Partial indexes (``WHERE live``) leave retracted articles out of the hot paths.

All pending steps are applied in one transaction under an advisory lock
(``postgres/connection.py``), so a failed step leaves the schema as it was.
"""

from __future__ import annotations

PG_MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "articles, aliases, tombstones, topics with counts, poll and page state", """
        CREATE TABLE articles (
            id           TEXT COLLATE "C" PRIMARY KEY,
            source       TEXT NOT NULL,
            published    BIGINT NOT NULL,
            updated      BIGINT NOT NULL,
            content_hash TEXT NOT NULL,
            live         BOOLEAN NOT NULL DEFAULT TRUE,
            fingerprint  TEXT,
            body         BYTEA NOT NULL
        );
        CREATE INDEX articles_newest ON articles (published DESC, id DESC) WHERE live;
        CREATE INDEX articles_updated ON articles (updated) WHERE live;
        CREATE INDEX articles_source ON articles (source) WHERE live;
        CREATE INDEX articles_fingerprint ON articles (fingerprint, published, id)
            WHERE live AND fingerprint IS NOT NULL;

        CREATE TABLE aliases (
            key        TEXT PRIMARY KEY,
            article_id TEXT COLLATE "C" NOT NULL
        );
        CREATE INDEX aliases_article ON aliases (article_id);

        CREATE TABLE tombstones (
            article_id TEXT COLLATE "C" PRIMARY KEY,
            retracted  BIGINT NOT NULL
        );

        CREATE TABLE topic_articles (
            topic      TEXT COLLATE "C" NOT NULL,
            article_id TEXT COLLATE "C" NOT NULL,
            published  BIGINT NOT NULL,
            updated    BIGINT NOT NULL,
            PRIMARY KEY (topic, article_id)
        );
        CREATE INDEX topic_articles_newest
            ON topic_articles (topic, published DESC, article_id DESC);
        CREATE INDEX topic_articles_article ON topic_articles (article_id);
        CREATE INDEX topic_articles_updated ON topic_articles (topic, updated);

        CREATE TABLE topic_counts (
            topic TEXT COLLATE "C" PRIMARY KEY,
            count BIGINT NOT NULL
        );

        CREATE TABLE poll_state (
            source TEXT PRIMARY KEY,
            body   BYTEA NOT NULL
        );

        CREATE TABLE page_state (
            article_id      TEXT COLLATE "C" PRIMARY KEY,
            source          TEXT NOT NULL,
            url             TEXT NOT NULL,
            feed_signature  TEXT NOT NULL DEFAULT '',
            etag            TEXT,
            last_modified   TEXT,
            failures        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at BIGINT,
            last_error      TEXT,
            fetched         BOOLEAN NOT NULL DEFAULT FALSE
        );
        CREATE INDEX page_state_retry ON page_state (source, next_attempt_at)
            WHERE failures > 0;
    """),
    (2, "the rules each topic's memberships were computed with", """
        CREATE TABLE topic_rules (
            topic       TEXT COLLATE "C" PRIMARY KEY,
            fingerprint TEXT NOT NULL
        );
    """),
)
