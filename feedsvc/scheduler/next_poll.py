"""When to poll a source next: a pure decision over the outcome of the last poll.

Success: ``interval`` with ±``JITTER_SPREAD`` jitter, and never sooner than the
upstream allows: the response's freshness (Cache-Control/Expires), the feed's
``ttl`` and any Retry-After.

Failure number *n* (1, 2, ...): ``interval * 2**(n-1)``, capped at ``max_backoff``
(or at ``interval`` when that is longer, so failing never polls *more* often than
succeeding), with the same jitter, and never before Retry-After. Freshness and ttl
are ignored after a failure: they were measured from the last good response, which
is older than the poll that just failed.

No failure count disables a source: the delay stops growing at the cap, so a source
that comes back is picked up within one capped interval.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from feedsvc.pipeline.decide import backoff_delay

JITTER_SPREAD = 0.1  # jitter of 0..1 maps to a factor of 0.9..1.1


def next_poll_at(
    *,
    now: datetime,
    interval: timedelta,
    consecutive_failures: int,
    retry_after: datetime | None,
    fresh_until: datetime | None,
    ttl: timedelta | None,
    jitter: float,
    max_backoff: timedelta,
) -> datetime:
    """The earliest time the source should be polled again.

    ``jitter`` is a number in [0, 1] the caller draws from a seeded RNG, so two
    sources on the same schedule drift apart and tests stay reproducible.
    """
    _check(now, interval, consecutive_failures, jitter, max_backoff)
    factor = 1.0 + JITTER_SPREAD * (2.0 * jitter - 1.0)
    if consecutive_failures == 0:
        earliest = [now + interval * factor, fresh_until, now + ttl if ttl else None]
    else:
        # failing never polls *more* often than succeeding: the cap is at least the interval
        cap = max(max_backoff, interval)
        earliest = [now + backoff_delay(interval, consecutive_failures, cap) * factor]
    earliest.append(retry_after)
    return max(when for when in earliest if when is not None)


def _check(
    now: datetime, interval: timedelta, failures: int, jitter: float, max_backoff: timedelta
) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if interval <= timedelta(0) or max_backoff <= timedelta(0):
        raise ValueError("interval and max_backoff must be positive")
    if failures < 0:
        raise ValueError("consecutive_failures must not be negative")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError("jitter must be within [0, 1]")
