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

Every asyncpg and socket error is wrapped once, in ``connection.py``, as
:class:`~feedsvc.errors.StoreError`; the URL's password never appears in a message.

The store is assembled from one part per use case, each a subclass of the pool:

- ``connection.py``: open, close, migrations, the retried transaction (``_write``) and
  ``_read``;
- ``articles.py``: saving, aliases, merging duplicates, retracting, listing;
- ``topics.py``: topic pages and stats, membership, and the kept topic counts;
- ``changelog.py`` and ``changes.py``: the change log, appended to last by every write
  that changes a feed, under a lock that puts its numbers in commit order;
- ``polling.py``: the poll state of each source and the page state of each article;
- ``leases.py``: which replica runs a poll or a backfill, by the database's clock;
- ``notify.py``: the change channel's ``LISTEN/NOTIFY`` transport (not part of the store);
- ``secrets.py``: values every process of the store shares (the cursor key).
"""

from __future__ import annotations

from feedsvc.store.postgres.articles import PostgresArticles
from feedsvc.store.postgres.changes import PostgresChanges
from feedsvc.store.postgres.connection import MIGRATION_LOCK
from feedsvc.store.postgres.leases import PostgresLeases
from feedsvc.store.postgres.polling import PostgresPolling
from feedsvc.store.postgres.secrets import PostgresSecrets
from feedsvc.store.postgres.topics import PostgresTopics
from feedsvc.store.rows import LIVE_COUNT


class PostgresStore(PostgresArticles, PostgresTopics, PostgresChanges, PostgresPolling,
                    PostgresLeases, PostgresSecrets):
    """:class:`~feedsvc.store.base.Store` on a PostgreSQL database."""


__all__ = ["LIVE_COUNT", "MIGRATION_LOCK", "PostgresStore"]
