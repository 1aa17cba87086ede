"""Pure decisions of a poll, with ``now`` passed in: which pages to fetch, in which order,
when to retry, when to read a page again, and when to publish an article from its feed
item alone. Each returns values; the pipeline does the I/O and stores the page states.

A page's life (``PageState``)::

    first seen ──► pending ──(extracted)──► fetched ──(re-checks at recheck_after)──► settled
                    │  ▲ fails: back-off         │ 404/410          ▲ 200 again: restored
                    │  └─ past the grace: the    ▼                  │
                    │     feed's version is    gone ────(re-checks)─┘
                    └──── published meanwhile
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from feedsvc.models import FeedItem
from feedsvc.store import PageState


def feed_signature(item: FeedItem) -> str:
    """What the feed says of an article; when it changes, the page is fetched again."""
    published = item.published.isoformat() if item.published else ""
    digest = hashlib.blake2b(f"{item.title}\x1f{item.summary}\x1f{published}".encode(), digest_size=12)
    return digest.hexdigest()


def first_sight(item: FeedItem, now: datetime) -> PageState:
    """The state of an article seen for the first time: its page is pending."""
    return PageState(item.article_id, item.url, feed_signature=feed_signature(item), item=item,
                     published=item.published or now, first_seen_at=now)


@dataclass(frozen=True, slots=True)
class PagePlan:
    # pages to fetch now: the newest due, read oldest first, so an original is stored
    # before a republished copy of it and the copy folds into it on arrival
    fetch: tuple[tuple[FeedItem, PageState], ...]
    waiting: tuple[PageState, ...]  # first seen now but over the budget: kept for later
    deferred: int  # pages due but over this poll's budget: left for the next poll


def plan_pages(items: Iterable[FeedItem], states: Mapping[str, PageState],
               pending: Iterable[PageState], *, now: datetime, budget: int,
               relisted: frozenset[str] = frozenset()) -> PagePlan:
    """The pages a poll fetches: the ``budget`` newest of those due.

    Candidates are the feed's new articles, listed ones whose feed item changed, failed
    pages whose back-off has passed, pages still pending from earlier polls (listed or
    not: ``pending`` comes from the store), and gone pages the feed lists again
    (``relisted``: absent from the previous listing). The newest win the budget, because
    a reader looks at the top of a feed: the newest story must be complete first; an
    older one that waits is still stored complete a poll later, never as a stub.
    """
    candidates: dict[str, tuple[FeedItem, PageState]] = {}
    new: set[str] = set()
    for item in items:
        state = states.get(item.article_id)
        if state is None:
            candidates[item.article_id] = (item, first_sight(item, now))
            new.add(item.article_id)
        elif _listed_page_due(item, state, now, item.article_id in relisted):
            candidates[item.article_id] = (item, state)
    for state in pending:
        if state.article_id not in candidates and state.item is not None and _attempt_due(state, now):
            candidates[state.article_id] = (state.item, state)
    ordered = sorted(candidates.values(), key=lambda pair: _newest(pair, now), reverse=True)
    chosen, over = ordered[:budget], ordered[budget:]
    waiting = tuple(state for _, state in over if state.article_id in new)
    return PagePlan(tuple(reversed(chosen)), waiting, len(over))


def _newest(pair: tuple[FeedItem, PageState], now: datetime) -> tuple[datetime, str]:
    item, state = pair
    return state.published or item.published or now, item.native_id


def _listed_page_due(item: FeedItem, state: PageState, now: datetime, relisted: bool) -> bool:
    if state.gone:
        return relisted  # retracted, and the feed lists it again: has it come back?
    if not _attempt_due(state, now):
        return False
    return not state.fetched or state.failures > 0 or state.feed_signature != feed_signature(item)


def _attempt_due(state: PageState, now: datetime) -> bool:
    return state.next_attempt_at is None or state.next_attempt_at <= now


def relisted_ids(previous: Iterable[tuple[str, Sequence[str]]], items: Iterable[FeedItem]
                 ) -> frozenset[str]:
    """Articles the feeds list now that no feed listed at the previous poll."""
    before = {article_id for _, ids in previous for article_id in ids}
    return frozenset(item.article_id for item in items if item.article_id not in before)


def next_check_at(published: datetime, now: datetime, schedule: Sequence[timedelta]
                  ) -> datetime | None:
    """The first point of the recheck schedule after ``now``, or None when it is over.

    Points that passed while nothing checked (a restart, a late first extraction)
    collapse into the check being made now: the schedule never owes a burst.
    """
    return min((published + after for after in schedule if published + after > now), default=None)


def page_read(state: PageState, item: FeedItem, *, etag: str | None, last_modified: str | None,
              now: datetime, schedule: Sequence[timedelta]) -> PageState:
    """The state after the page answered (200 and extracted, or 304)."""
    published = state.published or item.published or now
    return replace(
        state, url=item.url, item=item, feed_signature=feed_signature(item), etag=etag,
        last_modified=last_modified, failures=0, next_attempt_at=None, last_error=None,
        fetched=True, feed_only=False, gone=False, published=published,
        first_seen_at=state.first_seen_at or now,
        checks=state.checks + int(state.fetched or state.gone),
        next_check_at=next_check_at(published, now, schedule))


def page_gone(state: PageState, item: FeedItem, *, now: datetime,
              schedule: Sequence[timedelta]) -> PageState:
    """The state after a 404/410: the article is retracted; the schedule still looks,
    and a 200 on a later check restores it."""
    published = state.published or item.published or now
    return replace(
        state, url=item.url, item=item, feed_signature=feed_signature(item), etag=None,
        last_modified=None, failures=0, next_attempt_at=None, last_error="gone",
        feed_only=False, gone=True, published=published,
        first_seen_at=state.first_seen_at or now,
        checks=state.checks + int(state.fetched or state.gone),
        next_check_at=next_check_at(published, now, schedule))


def page_failed(state: PageState, item: FeedItem, *, error: str, now: datetime,
                retry_after: datetime | None, base: timedelta, cap: timedelta,
                grace: timedelta, schedule: Sequence[timedelta]) -> PageState:
    """The state after a failed fetch or extraction: back off, and keep what is owed.

    A pending page is retried at least once right when its grace period ends, so the
    feed's version is published then and not one back-off step later. An extracted
    page owes a check until the end of its schedule (after it, the stored version
    stands).
    """
    failures = state.failures + 1
    attempt = retry_at(now, failures, base=base, cap=cap)
    seen = state.first_seen_at or now
    if not state.fetched and now < seen + grace:
        attempt = min(attempt, seen + grace)
    if retry_after is not None:  # a 429/503 speaks for the whole host
        attempt = max(attempt, retry_after)
    published = state.published or item.published or now
    owed = state.next_check_at
    if state.fetched or state.gone:
        horizon = published + max(schedule, default=timedelta(0))
        owed = now if now < horizon else None
    return replace(state, url=item.url, item=item, feed_signature=feed_signature(item),
                   failures=failures, next_attempt_at=attempt, last_error=error,
                   published=published, first_seen_at=seen, next_check_at=owed)


def feed_only_due(state: PageState, now: datetime, grace: timedelta) -> bool:
    """Publish the feed's version of an article: its page never read, still failing
    ``grace`` after it was first seen, and the feed gave a title to show."""
    return (not state.fetched and not state.gone and not state.feed_only and state.failures > 0
            and state.item is not None and bool(state.item.title)
            and state.first_seen_at is not None and now >= state.first_seen_at + grace)


def recheck_outcome(saved: str, *, was_gone: bool) -> str:
    """A re-read's outcome for the metrics (``feedsvc.metrics.RECHECK_OUTCOMES``), from
    what reading and storing the page did: a first store of a gone page is a restore."""
    if saved == "new":
        return "restored" if was_gone else "changed"
    return "unchanged" if saved == "duplicate" else saved


def retry_at(now: datetime, failures: int, *, base: timedelta, cap: timedelta) -> datetime:
    """When to try a failed article page again."""
    return now + backoff_delay(base, failures, cap)


def backoff_delay(base: timedelta, failures: int, cap: timedelta) -> timedelta:
    """Exponential back-off after failure number ``failures`` (1, 2, ...): base, 2×base,
    4×base … up to ``cap``. The one back-off of feedsvc: pages and polls alike."""
    exponent = min(max(failures - 1, 0), 62)  # past this every real cap is reached
    seconds = base.total_seconds() * 2.0**exponent
    return min(timedelta(seconds=min(seconds, cap.total_seconds())), cap)


def vanished(previous: Sequence[str], current: Sequence[str]) -> list[str]:
    """Articles that left a newest-first feed from the middle: something listed after
    them (older) is still there, so they did not simply age out. Such an article may
    have been retracted, and its page is checked again."""
    listed = set(current)
    gone: list[str] = []
    older_still_listed = False
    for article_id in reversed(previous):
        if article_id in listed:
            older_still_listed = True
        elif older_still_listed:
            gone.append(article_id)
    return gone[::-1]
