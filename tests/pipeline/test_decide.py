"""The poll's pure decisions: which pages, in which order, when again, and when the
feed's version may stand in for a page that keeps failing."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from feedsvc.metrics import RECHECK_OUTCOMES
from feedsvc.models import FeedItem
from feedsvc.pipeline.decide import (
    PagePlan,
    feed_only_due,
    first_sight,
    next_check_at,
    page_failed,
    page_gone,
    page_read,
    plan_pages,
    recheck_outcome,
    relisted_ids,
)
from feedsvc.store import PageState
from tests.factories import T0

MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)
SCHEDULE = (15 * MINUTE, HOUR, 6 * HOUR, 24 * HOUR, 48 * HOUR)
GRACE = 30 * MINUTE
NOW = T0 + 2 * HOUR


def item(n: int, title: str = "عنوان") -> FeedItem:
    return FeedItem("rt-arabic", str(1_980_000 + n), f"https://arabic.rt.com/news/{n}-x/", title,
                    f"ملخص {n}", T0 + n * MINUTE)


def fetched_ids(plan: PagePlan) -> list[int]:
    return [int(i.native_id) - 1_980_000 for i, _ in plan.fetch]


def failed(state: PageState, at: timedelta) -> PageState:
    assert state.item is not None
    return page_failed(state, state.item, error="HTTP 503", now=T0 + at, retry_after=None,
                       base=5 * MINUTE, cap=6 * HOUR, grace=GRACE, schedule=SCHEDULE)


def test_every_recheck_outcome_is_a_metrics_label() -> None:
    saved = ("not_modified", "new", "changed", "unchanged", "restored", "duplicate", "gone",
             "failed")
    assert {recheck_outcome(s, was_gone=g) for s in saved for g in (True, False)} == set(
        RECHECK_OUTCOMES)


def test_the_budget_goes_to_the_newest_and_the_rest_is_kept() -> None:
    plan = plan_pages([item(n) for n in range(1, 8)], {}, [], now=NOW, budget=3)
    assert sorted(fetched_ids(plan)) == [5, 6, 7], "the newest three win the budget"
    assert fetched_ids(plan) == [5, 6, 7], "read oldest first: an original before its copy"
    assert sorted(w.article_id for w in plan.waiting) == [item(n).article_id for n in range(1, 5)]
    assert plan.deferred == 4 and all(not w.fetched and w.first_seen_at == NOW
                                      for w in plan.waiting)


def test_pending_pages_from_earlier_polls_compete_by_age_with_the_feed() -> None:
    older_pending = first_sight(item(1), T0)  # left the feed before its page was read
    newer_pending = first_sight(item(9), T0)
    plan = plan_pages([item(5)], {}, [older_pending, newer_pending], now=NOW, budget=2)
    assert fetched_ids(plan) == [5, 9]
    backing_off = replace(newer_pending, failures=1, next_attempt_at=NOW + MINUTE)
    plan = plan_pages([item(5)], {}, [older_pending, backing_off], now=NOW, budget=2)
    assert fetched_ids(plan) == [1, 5]


def test_a_listed_page_is_read_again_only_when_due() -> None:
    read = page_read(first_sight(item(1), T0), item(1), etag='"e"', last_modified=None,
                     now=T0 + MINUTE, schedule=SCHEDULE)
    assert fetched_ids(plan_pages([item(1)], {read.article_id: read}, [], now=NOW, budget=5)) == []
    edited = replace(item(1), title="عنوان جديد")  # the feed shows an edit
    assert fetched_ids(plan_pages([edited], {read.article_id: read}, [], now=NOW, budget=5)) == [1]
    gone = page_gone(read, item(1), now=T0 + MINUTE, schedule=SCHEDULE)
    states = {gone.article_id: gone}
    assert fetched_ids(plan_pages([item(1)], states, [], now=NOW, budget=5)) == []
    relisted = frozenset({gone.article_id})
    assert fetched_ids(plan_pages([item(1)], states, [], now=NOW, budget=5,
                                  relisted=relisted)) == [1]


def test_relisted_ids_are_the_ones_no_feed_listed_before() -> None:
    previous = (("/rss/", (item(1).article_id, item(2).article_id)),
                ("/rss/news/", (item(3).article_id,)))
    assert relisted_ids(previous, [item(n) for n in (1, 3, 4)]) == {item(4).article_id}


def test_the_schedule_counts_from_publication_and_skips_what_passed() -> None:
    assert next_check_at(T0, T0 + MINUTE, SCHEDULE) == T0 + 15 * MINUTE
    assert next_check_at(T0, T0 + 15 * MINUTE, SCHEDULE) == T0 + HOUR
    # down for five hours: the missed 1 h check is made now, then 6 h comes next
    assert next_check_at(T0, T0 + 5 * HOUR, SCHEDULE) == T0 + 6 * HOUR
    assert next_check_at(T0, T0 + 48 * HOUR, SCHEDULE) is None
    assert next_check_at(T0, T0, ()) is None


@given(st.lists(st.integers(0, 3000), min_size=1, max_size=20))
def test_checks_follow_the_schedule_whenever_the_polls_come(gaps: list[int]) -> None:
    """Polls at any times: each check lands on or after its point, never twice for one
    point, and the schedule always ends."""
    state = page_read(first_sight(item(0), T0), item(0), etag=None, last_modified=None,
                      now=T0, schedule=SCHEDULE)
    now = T0
    seen = []
    for gap in gaps:
        now += gap * MINUTE
        if state.next_check_at is not None and state.next_check_at <= now:
            seen.append(state.next_check_at)
            state = page_read(state, item(0), etag=None, last_modified=None, now=now,
                              schedule=SCHEDULE)
        assert state.next_check_at is None or state.next_check_at > now
    assert seen == sorted(set(seen)) and len(seen) == state.checks <= len(SCHEDULE)
    assert all(point - T0 in SCHEDULE for point in seen)


def test_a_failing_page_is_retried_at_the_end_of_its_grace_then_published_from_the_feed() -> None:
    state = first_sight(item(1), T0)
    attempts = []
    at = timedelta(0)
    while not feed_only_due(state, T0 + at, GRACE):
        state = failed(state, at)
        assert state.next_attempt_at is not None
        attempts.append(state.next_attempt_at - T0)
        at = state.next_attempt_at - T0
    assert attempts == [5 * MINUTE, 15 * MINUTE, 30 * MINUTE], "no later than the grace ends"
    assert at == GRACE and state.failures == 3
    assert not feed_only_due(replace(state, feed_only=True), T0 + at, GRACE), "once"


def test_no_feed_version_without_a_title_or_for_a_page_that_is_gone_or_read() -> None:
    sitemap = failed(first_sight(item(1, title=""), T0), GRACE)
    assert not feed_only_due(sitemap, T0 + GRACE, GRACE)
    gone = page_gone(first_sight(item(2), T0), item(2), now=T0, schedule=SCHEDULE)
    assert not feed_only_due(gone, T0 + GRACE, GRACE)
    read = page_read(first_sight(item(3), T0), item(3), etag=None, last_modified=None,
                     now=T0, schedule=SCHEDULE)
    assert not feed_only_due(failed(read, GRACE), T0 + GRACE, GRACE)


def test_a_failed_recheck_is_owed_until_the_schedule_ends() -> None:
    read = page_read(first_sight(item(0), T0), item(0), etag=None, last_modified=None,
                     now=T0, schedule=SCHEDULE)
    retry = failed(read, HOUR)
    assert retry.next_check_at == T0 + HOUR and retry.next_attempt_at == T0 + HOUR + 5 * MINUTE
    assert failed(read, 49 * HOUR).next_check_at is None, "after the schedule the stored version stands"


def test_a_retry_after_beyond_the_grace_wins() -> None:
    state = failed(first_sight(item(1), T0), timedelta(0))
    later = page_failed(state, item(1), error="HTTP 429", now=T0 + 5 * MINUTE,
                        retry_after=T0 + 2 * HOUR, base=5 * MINUTE, cap=6 * HOUR, grace=GRACE,
                        schedule=SCHEDULE)
    assert later.next_attempt_at == T0 + 2 * HOUR
