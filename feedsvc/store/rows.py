"""Row shapes the SQLite and PostgreSQL stores share.

Both schemas name these columns alike (``pg_migrations.py`` says how the tables line
up) and keep times as integer microseconds, so a row reads back the same way in
either backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from feedsvc.store.base import PageState
from feedsvc.store.codec import decode_feed_item, encode_feed_item, from_micros, to_micros

# The topic_counts row counting every live article; no topic slug is empty.
LIVE_COUNT = ""
# What a topic page selects besides the body: the keys naming each article in the alias
# table, in the same statement (one query a page; ``decode_article`` keeps the URLs).
# ``{article}`` is the articles table's alias in the page query.
SQLITE_ALIAS_KEYS = ("(SELECT group_concat(k.key, char(31)) FROM aliases k "
                     "WHERE k.article_id = {article}.id)")
PG_ALIAS_KEYS = "ARRAY(SELECT k.key FROM aliases k WHERE k.article_id = {article}.id)"

# page_state's columns in PageState's field order, as page_state_from_row reads them
# and page_state_values writes them.
PAGE_COLUMNS = ("article_id, url, feed_signature, etag, last_modified, failures, "
                "next_attempt_at, last_error, fetched, item, published, first_seen_at, "
                "feed_only, gone, next_check_at, checks")


def page_state_from_row(row: Sequence[Any]) -> PageState:
    """A :class:`PageState` from a row selected as ``PAGE_COLUMNS``."""
    return PageState(
        article_id=row[0], url=row[1], feed_signature=row[2], etag=row[3], last_modified=row[4],
        failures=row[5], next_attempt_at=_moment(row[6]), last_error=row[7],
        fetched=bool(row[8]), item=decode_feed_item(row[9]) if row[9] is not None else None,
        published=_moment(row[10]), first_seen_at=_moment(row[11]), feed_only=bool(row[12]),
        gone=bool(row[13]), next_check_at=_moment(row[14]), checks=row[15],
    )


def page_state_values(state: PageState) -> tuple[Any, ...]:
    """The source, then ``PAGE_COLUMNS``' values of ``state`` (flags as bools)."""
    return (
        state.article_id.split(":", 1)[0], state.article_id, state.url, state.feed_signature,
        state.etag, state.last_modified, state.failures, _micros(state.next_attempt_at),
        state.last_error, state.fetched,
        encode_feed_item(state.item) if state.item is not None else None,
        _micros(state.published), _micros(state.first_seen_at), state.feed_only, state.gone,
        _micros(state.next_check_at), state.checks,
    )


def _moment(value: int | None) -> datetime | None:
    return from_micros(value) if value is not None else None


def _micros(moment: datetime | None) -> int | None:
    return to_micros(moment) if moment is not None else None
