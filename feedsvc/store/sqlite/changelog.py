"""Appending to the change log on SQLite, inside a writer's transaction.

The single writer makes ``AUTOINCREMENT`` numbers commit order, and ``INSERT OR
REPLACE`` on ``(topic, article_id)`` drops the entry an article had in that feed
before: the log keeps the newest change of each article in each feed, so reading it
from any position gives exactly what a consumer needs to reach the feed's present
state. ``at`` never goes back along the log (a writer whose clock is behind takes the
newest ``at`` written), so cutting the log by time cuts a prefix of it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import aiosqlite

from feedsvc.store.codec import to_micros
from feedsvc.store.rows import Entry


async def log_changes(db: aiosqlite.Connection, entries: Iterable[Entry], at: datetime) -> None:
    """Append ``entries`` to the change log as of ``at`` (or the newest time written,
    when later), inside the caller's transaction; each replaces its feed's earlier entry
    for the same article."""
    newest_op = {(topic, article_id): op for topic, article_id, op in entries}
    rows = sorted((topic, article_id, op) for (topic, article_id), op in newest_op.items())
    if not rows:
        return
    # at never goes back along the log: the newest time written, if later (one statement)
    await db.executemany(
        "INSERT OR REPLACE INTO changes (topic, article_id, op, at, listed) VALUES "
        "(?, ?, ?, MAX(?, COALESCE((SELECT MAX(at) FROM changes), 0)), 1)",
        [(topic, article_id, op, to_micros(at)) for topic, article_id, op in rows])
