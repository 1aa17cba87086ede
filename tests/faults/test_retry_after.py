"""429 + Retry-After is honoured to the second: the stored next poll is not before it,
and the scheduler's tick does not poll before it (the clock is the test's)."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from feedsvc.replica import ReplicaSite
from feedsvc.service import Service
from tests.conftest import Clock
from tests.faults.support import (
    ARTICLE_PAGES,
    FEEDS,
    SOURCE,
    assert_degraded,
    assert_recovered,
    expected_ids,
    fault_settings,
    served_ids,
)
from tests.ops.test_metrics import scrape, value

RETRY_AFTER = 3600  # far beyond the first back-off (one 5 min interval), so it decides


def retry_instant(before: datetime, after: datetime, http_date: bool) -> tuple[datetime, datetime]:
    """The earliest and latest instant the site's Retry-After can name, given when it answered."""
    if http_date:  # an HTTP date: the replica's now + 3600 s, cut to the whole second
        latest = parsedate_to_datetime(format_datetime(after + timedelta(seconds=RETRY_AFTER), usegmt=True))
        return before.replace(microsecond=0) + timedelta(seconds=RETRY_AFTER), latest
    return before + timedelta(seconds=RETRY_AFTER), after + timedelta(seconds=RETRY_AFTER)


async def tick_at(service: Service, clock: Clock, when: datetime) -> bool:
    """Move the clock to ``when`` and tick; True when the tick started a poll (awaited)."""
    clock.advance(seconds=(when - clock()).total_seconds())
    poller = service.poller
    await poller.tick()
    task = poller.running.get(SOURCE)
    if task is not None:
        await task
    return task is not None


@pytest.mark.parametrize("http_date", [False, True], ids=["seconds", "http-date"])
@pytest.mark.parametrize("where", [FEEDS, ARTICLE_PAGES], ids=["feed", "page"])
async def test_retry_after_is_honoured_to_the_second(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock,
        where: str, http_date: bool) -> None:
    settings = fault_settings(replica.base_url, tmp_path)
    service, http, base = await serve_feedsvc(settings)
    await service.poller.poll(settings.sources[0])
    listed = expected_ids(replica)
    fresh = replica.publish_next()
    assert fresh is not None

    replica.inject("rate_limit", where, times=1, retry_after=RETRY_AFTER, http_date=http_date)
    before = clock()
    report = await service.poller.poll(settings.sources[0])
    earliest, latest = retry_instant(before, clock(), http_date)
    assert report.failed == (where == FEEDS)
    await assert_degraded(http, base, "HTTP 429")

    next_at = (await service.store.get_poll_state(SOURCE)).next_poll_at
    assert next_at is not None and earliest <= next_at <= latest, (earliest, next_at, latest)
    host = replica.base_url.removeprefix("http://")
    cooling = value(await scrape(http, base), "feedsvc_upstream_cooling_until_seconds", host=host)
    assert abs(cooling - next_at.timestamp()) < 1e-6, "the fetcher's cool-down ends at that instant"

    seen = len(replica.requests)
    assert not await tick_at(service, clock, next_at - timedelta(seconds=2)), "no poll before Retry-After"
    assert len(replica.requests) == seen, "nothing is sent to the site before Retry-After"

    assert await tick_at(service, clock, next_at + timedelta(seconds=1)), "polled once it passed"
    await assert_recovered(service, http, base, replica, listed)
    assert f"{SOURCE}:{fresh.id}" in await served_ids(http, base)
