"""SQLite schema, as an ordered, append-only list. Never edit a released step: add one.

Why these indexes: a topic's newest page is a range scan of
``topic_articles(topic, published DESC, article_id DESC)`` that stops after
``limit`` rows, so its cost does not grow with the number of stored articles.
Topic stats (step 3) read ``topic_counts``, kept by every write in the same
transaction (the row keyed ``''`` counts the live articles), and the newest
``updated`` from ``topic_articles(topic, updated)`` / ``articles(live, updated)``,
so they cost the same at 1M articles as at 1k (``docs/benchmarks.md``, "Storage").

Step 6 is for processes sharing one store: each ``topic_counts`` row also keeps a
change counter (``version``, read by the change channel's catch-up) and when the topic
last changed (``changed_at``, its feeds' Last-Modified); ``leases`` holds who runs a
poll or a backfill, until when by the database's clock.
Pages waiting for their first extraction are read newest first from
``page_state_pending`` and the due re-checks from ``page_state_recheck`` (step 5),
both partial, so neither scan grows with the pages already settled.

Step 9 is the change log (``sqlite/changes.py``): one row per topic and article (the
newest change replaces the one before, so the log never holds more rows than
memberships plus recent deletions), read by ``(topic, seq)``; deletions still listed in
the feeds come from a partial index, and expiry cuts by ``at``, noting in
``change_horizon`` the highest number it dropped from each feed's log.
"""

from __future__ import annotations

MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "articles, aliases, topics, poll and page state", """
        CREATE TABLE articles (
            id           TEXT PRIMARY KEY,
            source       TEXT NOT NULL,
            published    INTEGER NOT NULL,
            updated      INTEGER NOT NULL,
            content_hash TEXT NOT NULL,
            live         INTEGER NOT NULL DEFAULT 1,
            body         BLOB NOT NULL
        );
        CREATE INDEX articles_newest ON articles (live, published DESC, id DESC);
        CREATE INDEX articles_source ON articles (source, live);
        CREATE TABLE aliases (
            key        TEXT PRIMARY KEY,
            article_id TEXT NOT NULL
        );
        CREATE INDEX aliases_article ON aliases (article_id);
        CREATE TABLE tombstones (
            article_id TEXT PRIMARY KEY,
            retracted  INTEGER NOT NULL
        );
        CREATE TABLE topic_articles (
            topic      TEXT NOT NULL,
            article_id TEXT NOT NULL,
            published  INTEGER NOT NULL,
            PRIMARY KEY (topic, article_id)
        );
        CREATE INDEX topic_articles_newest ON topic_articles (topic, published DESC, article_id DESC);
        CREATE INDEX topic_articles_article ON topic_articles (article_id);
        CREATE TABLE poll_state (
            source TEXT PRIMARY KEY,
            body   BLOB NOT NULL
        );
        CREATE TABLE page_state (
            article_id      TEXT PRIMARY KEY,
            source          TEXT NOT NULL,
            url             TEXT NOT NULL,
            feed_signature  TEXT NOT NULL DEFAULT '',
            etag            TEXT,
            last_modified   TEXT,
            failures        INTEGER NOT NULL DEFAULT 0,
            next_attempt_at INTEGER,
            last_error      TEXT,
            fetched         INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX page_state_retry ON page_state (source, failures, next_attempt_at);
    """),
    (2, "content fingerprints for the dedupe ladder", """
        ALTER TABLE articles ADD COLUMN fingerprint TEXT;
        CREATE INDEX articles_fingerprint ON articles (fingerprint, published)
            WHERE fingerprint IS NOT NULL;
    """),
    (3, "topic counts and newest updates without scanning a topic", """
        ALTER TABLE topic_articles ADD COLUMN updated INTEGER NOT NULL DEFAULT 0;
        UPDATE topic_articles SET updated = COALESCE((
            SELECT a.updated FROM articles a WHERE a.id = topic_articles.article_id), published);
        CREATE INDEX topic_articles_updated ON topic_articles (topic, updated);
        CREATE INDEX articles_updated ON articles (live, updated);
        CREATE TABLE topic_counts (
            topic TEXT PRIMARY KEY,
            count INTEGER NOT NULL
        );
        INSERT INTO topic_counts (topic, count)
            SELECT topic, COUNT(*) FROM topic_articles GROUP BY topic;
        INSERT INTO topic_counts (topic, count)
            SELECT '', COUNT(*) FROM articles WHERE live = 1;
    """),
    (4, "the rules each topic's memberships were computed with", """
        CREATE TABLE topic_rules (
            topic       TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL
        );
    """),
    (5, "page state for every article: feed item, grace period, recheck schedule", """
        ALTER TABLE page_state ADD COLUMN item BLOB;
        ALTER TABLE page_state ADD COLUMN published INTEGER;
        ALTER TABLE page_state ADD COLUMN first_seen_at INTEGER;
        ALTER TABLE page_state ADD COLUMN feed_only INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE page_state ADD COLUMN gone INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE page_state ADD COLUMN next_check_at INTEGER;
        ALTER TABLE page_state ADD COLUMN checks INTEGER NOT NULL DEFAULT 0;
        UPDATE page_state SET published = (
            SELECT a.published FROM articles a WHERE a.id = page_state.article_id);
        UPDATE page_state SET published = COALESCE(next_attempt_at, 0) WHERE published IS NULL;
        UPDATE page_state SET first_seen_at = published;
        UPDATE page_state SET gone = 1
            WHERE article_id IN (SELECT article_id FROM tombstones);
        UPDATE page_state SET feed_only = 1
            WHERE fetched = 0 AND article_id IN (SELECT id FROM articles);
        INSERT INTO page_state (article_id, source, url, published, first_seen_at, feed_only)
            SELECT a.id, a.source, json_extract(CAST(a.body AS TEXT), '$.url'), a.published,
                   a.published, 1
            FROM articles a
            WHERE a.live = 1 AND a.id NOT IN (SELECT article_id FROM page_state);
        CREATE INDEX page_state_pending ON page_state (source, published DESC, article_id DESC)
            WHERE fetched = 0 AND gone = 0;
        CREATE INDEX page_state_recheck ON page_state (source, next_check_at)
            WHERE next_check_at IS NOT NULL;
    """),
    (6, "topic versions and change times; leases", """
        ALTER TABLE topic_counts ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE topic_counts ADD COLUMN changed_at INTEGER;
        UPDATE topic_counts SET changed_at = (
            SELECT MAX(t.updated) FROM topic_articles t WHERE t.topic = topic_counts.topic)
            WHERE topic <> '';
        UPDATE topic_counts SET changed_at = (SELECT MAX(updated) FROM articles WHERE live = 1)
            WHERE topic = '';
        CREATE TABLE leases (
            name       TEXT PRIMARY KEY,
            holder     TEXT NOT NULL,
            expires_at REAL NOT NULL
        );
    """),
    (7, "secrets every process of the store shares (the cursor key)", """
        CREATE TABLE secrets (
            name  TEXT PRIMARY KEY,
            value BLOB NOT NULL
        );
    """),
    (8, "the compiled topics file, so a restart need not parse it again", """
        CREATE TABLE topic_snapshots (
            digest TEXT PRIMARY KEY,
            body   BLOB NOT NULL
        );
    """),
    (9, "the change log: what entered, changed in or left each feed, in commit order", """
        CREATE TABLE changes (
            seq        INTEGER PRIMARY KEY AUTOINCREMENT,
            topic      TEXT NOT NULL,
            article_id TEXT NOT NULL,
            op         TEXT NOT NULL,
            at         INTEGER NOT NULL,
            listed     INTEGER NOT NULL DEFAULT 1
        );
        CREATE UNIQUE INDEX changes_entry ON changes (topic, article_id);
        CREATE INDEX changes_topic ON changes (topic, seq);
        CREATE INDEX changes_at ON changes (at);
        CREATE INDEX changes_listed ON changes (topic, seq DESC)
            WHERE op = 'delete' AND listed = 1;
        CREATE TABLE change_horizon (
            topic TEXT PRIMARY KEY,
            seq   INTEGER NOT NULL
        );
    """),
)
