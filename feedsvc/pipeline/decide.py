"""Pure decisions of a poll, with ``now`` passed in: which pages to fetch, when to retry."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from feedsvc.models import FeedItem
from feedsvc.store import PageState


def feed_signature(item: FeedItem) -> str:
    """What the feed says of an article; when it changes, the page is fetched again."""
    published = item.published.isoformat() if item.published else ""
    digest = hashlib.blake2b(f"{item.title}\x1f{item.summary}\x1f{published}".encode(), digest_size=12)
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class PagePlan:
    fetch: tuple[FeedItem, ...]  # pages to fetch now, oldest first
    feed_only: tuple[FeedItem, ...]  # new articles stored from the feed alone for now
    deferred: int  # over this poll's page budget: left for the next poll


def plan_pages(items: Iterable[FeedItem], states: Mapping[str, PageState], *, now: datetime,
               budget: int, fetch_pages: bool) -> PagePlan:
    """Each new page once; again only when the feed shows a change, or a failed page
    after its back-off. (Recent articles within the refresh window are re-checked
    separately, since an unchanged feed lists nothing.)"""
    due: list[FeedItem] = []
    feed_only: list[FeedItem] = []
    for item in sorted(items, key=lambda i: (i.published or now, i.native_id)):
        state = states.get(item.article_id)
        if state is None:
            (due if fetch_pages else feed_only).append(item)
        elif fetch_pages and _page_due(item, state, now):
            due.append(item)
    fetch, deferred = due[:budget], due[budget:]
    unseen = {i.article_id for i in deferred if i.article_id not in states}
    feed_only += [i for i in deferred if i.article_id in unseen]
    return PagePlan(tuple(fetch), tuple(feed_only), len(deferred))


def _page_due(item: FeedItem, state: PageState, now: datetime) -> bool:
    if state.failures:
        return state.next_attempt_at is None or state.next_attempt_at <= now
    return not state.fetched or state.feed_signature != feed_signature(item)


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
