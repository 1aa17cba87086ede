"""The embedded default store: one SQLite file in WAL mode, through aiosqlite.

All writes go through one connection and one lock, each inside ``BEGIN IMMEDIATE``
… ``COMMIT``: SQLite either applies the whole transaction or none of it, also when
the process is killed mid-write (the WAL is replayed or discarded on next open).
``synchronous=NORMAL`` in WAL mode is durable against process crashes; only a
power loss can lose the last transactions.

The store is assembled from one part per use case, each a subclass of the connection:

- ``connection.py``: open, close, migrations, the single writer (``_write``) and
  ``_read``, the one place :mod:`sqlite3` errors become ``StoreError``;
- ``articles.py``: saving, aliases, merging duplicates, retracting, listing;
- ``topics.py``: topic pages and stats, membership, and the kept topic counts;
- ``changelog.py`` and ``changes.py``: the change log, appended to by every write that
  changes a feed, read by ``/api/changes`` and the feeds' deleted entries;
- ``polling.py``: the poll state of each source and the page state of each article;
- ``leases.py``: which process runs a poll or a backfill, by SQLite's clock;
- ``secrets.py``: values every process of the store shares (the cursor key).
"""

from __future__ import annotations

from feedsvc.store.rows import LIVE_COUNT
from feedsvc.store.sqlite.articles import SQLiteArticles
from feedsvc.store.sqlite.changes import SQLiteChanges
from feedsvc.store.sqlite.leases import SQLiteLeases
from feedsvc.store.sqlite.polling import SQLitePolling
from feedsvc.store.sqlite.secrets import SQLiteSecrets
from feedsvc.store.sqlite.topics import SQLiteTopics


class SQLiteStore(SQLiteArticles, SQLiteTopics, SQLiteChanges, SQLitePolling, SQLiteLeases,
                  SQLiteSecrets):
    """:class:`~feedsvc.store.base.Store` on a SQLite file."""


__all__ = ["LIVE_COUNT", "SQLiteStore"]
