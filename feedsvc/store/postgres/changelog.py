"""Appending to the change log on PostgreSQL, inside a writer's transaction.

Several writers commit at once here, so a sequence number alone is not commit order: a
transaction that drew 10 may commit after one that drew 11, and a reader that had
moved past 11 would never see 10. So every write to the log first takes one
transaction-level advisory lock, held until commit, and draws its numbers under it:
numbers are then drawn in commit order. A writer appends as its last step, so the lock
is held only for the append and the commit. As on SQLite, the newest entry of an
article in a feed replaces the one before (``ON CONFLICT … DO UPDATE`` with a new
number) and ``at`` never goes back along the log.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from feedsvc.store.codec import to_micros
from feedsvc.store.postgres.connection import Connection
from feedsvc.store.rows import Entry

# The advisory lock key that orders the change log: b"changes" read as an integer.
CHANGE_LOG_LOCK = int.from_bytes(b"changes", "big")


async def lock_change_log(conn: Connection) -> None:
    """Take the change log for the rest of the caller's transaction."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", CHANGE_LOG_LOCK)


async def log_changes(conn: Connection, entries: Iterable[Entry], at: datetime) -> None:
    """Append ``entries`` to the change log as of ``at`` (or the newest time written,
    when later), inside the caller's transaction; each replaces its feed's earlier entry
    for the same article."""
    newest_op = {(topic, article_id): op for topic, article_id, op in entries}
    keys = sorted(newest_op)
    if not keys:
        return
    await lock_change_log(conn)
    # read after the lock: every earlier append is committed and seen, so at never goes
    # back along the log
    await conn.execute(
        "INSERT INTO changes (topic, article_id, op, at, listed) "
        "SELECT u.topic, u.article_id, u.op, "
        "GREATEST($4, (SELECT COALESCE(MAX(at), 0) FROM changes)), TRUE "
        "FROM unnest($1::text[], $2::text[], $3::text[]) AS u (topic, article_id, op) "
        "ORDER BY u.topic, u.article_id "
        "ON CONFLICT (topic, article_id) DO UPDATE SET seq = nextval('change_seq'), "
        "op = excluded.op, at = excluded.at, listed = TRUE",
        [topic for topic, _ in keys], [article_id for _, article_id in keys],
        [newest_op[key] for key in keys], to_micros(at))
