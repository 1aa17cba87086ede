"""Row shapes the SQLite and PostgreSQL stores share.

Both schemas name these columns alike (``pg_migrations.py`` says how the tables line
up) and keep times as integer microseconds, so a row reads back the same way in
either backend.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any

from feedsvc.models import DELETE, UPSERT
from feedsvc.store.base import ALL_TOPIC, PageState
from feedsvc.store.codec import decode_feed_item, encode_feed_item, from_micros, to_micros

# The topic_counts row counting every live article; no topic slug is empty.
LIVE_COUNT = ""
# What a topic page selects besides the body: the keys naming each article in the alias
# table, in the same statement (one query a page; ``decode_article`` keeps the URLs).
# ``{article}`` is the articles table's alias in the page query.
SQLITE_ALIAS_KEYS = ("(SELECT group_concat(k.key, char(31)) FROM aliases k "
                     "WHERE k.article_id = {article}.id)")
PG_ALIAS_KEYS = "ARRAY(SELECT k.key FROM aliases k WHERE k.article_id = {article}.id)"

# One change log entry: (feed key: a topic slug, or LIVE_COUNT for ``all``; article id;
# UPSERT or DELETE). Which writes make which entries is decided here, for both backends.
Entry = tuple[str, str, str]


def shows_new_alias(new_keys: Iterable[str], url: str) -> bool:
    """Whether keys newly naming an article change it as served: its ``aliases`` are the
    URLs naming it other than its own (``codec.decode_article``)."""
    return any("://" in key and key != url for key in new_keys)


def feed_key(topic: str) -> str:
    """The log's key of a topic's feed: its slug, or ``LIVE_COUNT`` for ``all``."""
    return LIVE_COUNT if topic == ALL_TOPIC else topic


def saved_entries(article_id: str, old: Collection[str], new: Collection[str], *,
                  content_changed: bool, live: bool = True) -> list[Entry]:
    """A saved article: upserted in the topics it entered (in all of its topics when its
    content changed), deleted from those it left, and upserted in ``all`` whatever
    changed (its topics are part of it there) while it is live."""
    entered = set(new) if content_changed else set(new) - set(old)
    return _entries(article_id, upserts=entered | ({LIVE_COUNT} if live else set()),
                    deletes=set(old) - set(new))


def removed_entries(article_id: str, topics: Iterable[str], *, was_live: bool) -> list[Entry]:
    """A retracted article, or a copy merged into another: it left every feed it was in."""
    return _entries(article_id, deletes={*topics, *([LIVE_COUNT] if was_live else [])})


def membership_entries(topic: str, added: Iterable[str], removed: Iterable[str]) -> list[Entry]:
    """A topic's members replaced (a reload's backfill): the added are upserted in it,
    the removed deleted from it, and both upserted in ``all`` (their topics changed)."""
    added, removed = set(added), set(removed)
    return (_entries_in(topic, added, UPSERT) + _entries_in(topic, removed, DELETE)
            + _entries_in(LIVE_COUNT, added | removed, UPSERT))


def _entries(article_id: str, *, upserts: Iterable[str] = (),
             deletes: Iterable[str] = ()) -> list[Entry]:
    return ([(topic, article_id, UPSERT) for topic in sorted(upserts)]
            + [(topic, article_id, DELETE) for topic in sorted(deletes)])


def _entries_in(topic: str, article_ids: Iterable[str], op: str) -> list[Entry]:
    return [(topic, article_id, op) for article_id in sorted(article_ids)]


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
