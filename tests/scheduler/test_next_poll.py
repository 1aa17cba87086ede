"""next_poll_at: examples, then the properties that must hold for any input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedsvc.scheduler.next_poll import JITTER_SPREAD, next_poll_at

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FIVE_MIN = timedelta(minutes=5)
SIX_HOURS = timedelta(hours=6)


def poll(failures: int = 0, jitter: float = 0.5, **kw: object) -> datetime:
    args: dict[str, object] = {
        "now": NOW,
        "interval": FIVE_MIN,
        "consecutive_failures": failures,
        "retry_after": None,
        "fresh_until": None,
        "ttl": None,
        "jitter": jitter,
        "max_backoff": SIX_HOURS,
    }
    args.update(kw)
    return next_poll_at(**args)  # type: ignore[arg-type]


def test_success_polls_after_the_interval_with_jitter() -> None:
    assert poll() == NOW + FIVE_MIN
    assert poll(jitter=0.0) == NOW + FIVE_MIN * (1 - JITTER_SPREAD)
    assert poll(jitter=1.0) == NOW + FIVE_MIN * (1 + JITTER_SPREAD)


def test_success_waits_for_freshness_ttl_and_retry_after() -> None:
    assert poll(fresh_until=NOW + timedelta(minutes=30)) == NOW + timedelta(minutes=30)
    assert poll(ttl=timedelta(minutes=60)) == NOW + timedelta(minutes=60)
    assert poll(retry_after=NOW + timedelta(hours=2)) == NOW + timedelta(hours=2)
    assert poll(fresh_until=NOW + timedelta(minutes=1)) == NOW + FIVE_MIN


def test_failures_double_up_to_the_cap() -> None:
    delays = [poll(failures=n) - NOW for n in (1, 2, 3, 4, 10, 1000)]
    assert delays == [FIVE_MIN, FIVE_MIN * 2, FIVE_MIN * 4, FIVE_MIN * 8, SIX_HOURS, SIX_HOURS]


def test_failure_ignores_freshness_but_not_retry_after() -> None:
    assert poll(failures=1, fresh_until=NOW + timedelta(hours=1)) == NOW + FIVE_MIN
    assert poll(failures=1, retry_after=NOW + timedelta(hours=1)) == NOW + timedelta(hours=1)


def test_cap_below_interval_never_polls_faster_than_success() -> None:
    assert poll(failures=3, max_backoff=timedelta(minutes=1)) == NOW + FIVE_MIN


@pytest.mark.parametrize(
    "bad",
    [
        {"jitter": 1.5},
        {"failures": -1},
        {"interval": timedelta(0)},
        {"now": datetime(2026, 3, 1)},  # noqa: DTZ001 - a naive datetime is the fault tested
    ],
)
def test_invalid_arguments(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        poll(**bad)


intervals = st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=1))
caps = st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=7))
offsets = st.none() | st.timedeltas(min_value=timedelta(days=-1), max_value=timedelta(days=30))
jitters = st.floats(min_value=0.0, max_value=1.0)


@given(intervals, caps, st.integers(0, 10_000), offsets, offsets, jitters)
def test_never_before_retry_after_or_now(
    interval: timedelta,
    cap: timedelta,
    failures: int,
    retry: timedelta | None,
    fresh: timedelta | None,
    jitter: float,
) -> None:
    retry_after = NOW + retry if retry is not None else None
    fresh_until = NOW + fresh if fresh is not None else None
    when = poll(
        failures,
        jitter,
        interval=interval,
        max_backoff=cap,
        retry_after=retry_after,
        fresh_until=fresh_until,
    )
    assert when > NOW
    assert retry_after is None or when >= retry_after
    assert failures > 0 or fresh_until is None or when >= fresh_until


@given(intervals, caps, st.integers(1, 10_000), jitters)
def test_never_beyond_cap_plus_jitter(
    interval: timedelta, cap: timedelta, failures: int, jitter: float
) -> None:
    when = poll(failures, jitter, interval=interval, max_backoff=cap)
    limit = max(cap, interval) * (1 + JITTER_SPREAD)
    assert when - NOW <= limit + timedelta(microseconds=1)


@given(intervals, caps, st.integers(1, 10_000), jitters)
def test_monotone_in_failures(
    interval: timedelta, cap: timedelta, failures: int, jitter: float
) -> None:
    fewer = poll(failures, jitter, interval=interval, max_backoff=cap)
    more = poll(failures + 1, jitter, interval=interval, max_backoff=cap)
    assert fewer <= more
