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
Partial indexes (``WHERE live``) leave retracted articles out of the hot paths, and
``page_state_pending`` / ``page_state_recheck`` (step 3) hold only the pages still
waiting for a first extraction or a re-check.

Step 4 is for replicas sharing the database: each ``topic_counts`` row also keeps a
change counter (``version``, read by the change channel's catch-up) and when the topic
last changed (``changed_at``, its feeds' Last-Modified); ``leases`` holds who runs a
poll or a backfill, until when by the database's clock (``TIMESTAMPTZ``, compared with
``clock_timestamp()`` only, never with a replica's clock); ``copy_progress`` is where
``feedsvc migrate`` notes how far it copied each table, so a killed copy resumes.

Step 7 is the change log (``postgres/changes.py``). Sequence numbers are handed out
under a transaction-level advisory lock taken as a write's last step, so they are in
commit order: a reader never sees a number while a smaller one is still to commit.

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
    (3, "page state for every article: feed item, grace period, recheck schedule", """
        ALTER TABLE page_state
            ADD COLUMN item          BYTEA,
            ADD COLUMN published     BIGINT,
            ADD COLUMN first_seen_at BIGINT,
            ADD COLUMN feed_only     BOOLEAN NOT NULL DEFAULT FALSE,
            ADD COLUMN gone          BOOLEAN NOT NULL DEFAULT FALSE,
            ADD COLUMN next_check_at BIGINT,
            ADD COLUMN checks        INTEGER NOT NULL DEFAULT 0;
        UPDATE page_state p SET published = a.published FROM articles a WHERE a.id = p.article_id;
        UPDATE page_state SET published = COALESCE(next_attempt_at, 0) WHERE published IS NULL;
        UPDATE page_state SET first_seen_at = published;
        UPDATE page_state SET gone = TRUE
            WHERE article_id IN (SELECT article_id FROM tombstones);
        UPDATE page_state SET feed_only = TRUE
            WHERE NOT fetched AND article_id IN (SELECT id FROM articles);
        INSERT INTO page_state (article_id, source, url, published, first_seen_at, feed_only)
            SELECT a.id, a.source, convert_from(a.body, 'UTF8')::json ->> 'url', a.published,
                   a.published, TRUE
            FROM articles a
            WHERE a.live AND NOT EXISTS (SELECT 1 FROM page_state p WHERE p.article_id = a.id);
        CREATE INDEX page_state_pending ON page_state (source, published DESC, article_id DESC)
            WHERE NOT fetched AND NOT gone;
        CREATE INDEX page_state_recheck ON page_state (source, next_check_at)
            WHERE next_check_at IS NOT NULL;
    """),
    (4, "topic versions and change times; leases; copy progress", """
        ALTER TABLE topic_counts
            ADD COLUMN version    BIGINT NOT NULL DEFAULT 0,
            ADD COLUMN changed_at BIGINT;
        UPDATE topic_counts c SET changed_at = (
            SELECT MAX(t.updated) FROM topic_articles t WHERE t.topic = c.topic)
            WHERE c.topic <> '';
        UPDATE topic_counts SET changed_at = (SELECT MAX(updated) FROM articles WHERE live)
            WHERE topic = '';

        CREATE TABLE leases (
            name       TEXT COLLATE "C" PRIMARY KEY,
            holder     TEXT NOT NULL,
            expires_at TIMESTAMPTZ NOT NULL
        );

        CREATE TABLE copy_progress (
            source     TEXT NOT NULL,
            table_name TEXT NOT NULL,
            last_key   TEXT NOT NULL,
            copied     BIGINT NOT NULL,
            PRIMARY KEY (source, table_name)
        );
    """),
    (5, "secrets every process of the store shares (the cursor key)", """
        CREATE TABLE secrets (
            name  TEXT PRIMARY KEY,
            value BYTEA NOT NULL
        );
    """),
    (6, "the compiled topics file, so a restart need not parse it again", """
        CREATE TABLE topic_snapshots (
            digest TEXT COLLATE "C" PRIMARY KEY,
            body   BYTEA NOT NULL
        );
    """),
    (7, "the change log: what entered, changed in or left each feed, in commit order", """
        CREATE SEQUENCE change_seq AS BIGINT;
        CREATE TABLE changes (
            seq        BIGINT PRIMARY KEY DEFAULT nextval('change_seq'),
            topic      TEXT COLLATE "C" NOT NULL,
            article_id TEXT COLLATE "C" NOT NULL,
            op         TEXT NOT NULL,
            at         BIGINT NOT NULL,
            listed     BOOLEAN NOT NULL DEFAULT TRUE,
            UNIQUE (topic, article_id)
        );
        CREATE INDEX changes_topic ON changes (topic, seq);
        CREATE INDEX changes_at ON changes (at);
        CREATE INDEX changes_listed ON changes (topic, seq DESC)
            WHERE op = 'delete' AND listed;
        CREATE TABLE change_horizon (
            topic TEXT COLLATE "C" PRIMARY KEY,
            seq   BIGINT NOT NULL
        );
    """),
)
