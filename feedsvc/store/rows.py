"""Row shapes the SQLite and PostgreSQL stores share.

Both schemas name these columns alike (``pg_migrations.py`` says how the tables line
up) and keep times as integer microseconds, so a row reads back the same way in
either backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedsvc.store.base import PageState
from feedsvc.store.codec import from_micros

# The topic_counts row counting every live article; no topic slug is empty.
LIVE_COUNT = ""

# page_state's columns in PageState's field order, as page_state_from_row reads them.
PAGE_COLUMNS = ("article_id, url, feed_signature, etag, last_modified, failures, "
                "next_attempt_at, last_error, fetched")


def page_state_from_row(row: Sequence[Any]) -> PageState:
    """A :class:`PageState` from a row selected as ``PAGE_COLUMNS``."""
    return PageState(
        article_id=row[0], url=row[1], feed_signature=row[2], etag=row[3], last_modified=row[4],
        failures=row[5], next_attempt_at=from_micros(row[6]) if row[6] is not None else None,
        last_error=row[7], fetched=bool(row[8]),
    )
