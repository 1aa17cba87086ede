"""Faults on the site's RSS feed: the last good feeds keep serving, /healthz names the
fault, and the source heals by itself on its next due poll once the fault clears."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from feedsvc.replica import ReplicaSite
from tests.conftest import Clock
from tests.faults.support import (
    FEEDS,
    SOURCE,
    assert_degraded,
    assert_recovered,
    expected_ids,
    fault_settings,
    page_fetches,
    poll_when_due,
    served_atom,
)

# kind, parameters, what /healthz says about it
FEED_FAULTS = [
    pytest.param("status", {}, "HTTP 500", id="5xx"),
    pytest.param("rate_limit", {"retry_after": 30}, "HTTP 429", id="429"),
    pytest.param("slow", {"delay": 3.0}, "timed out", id="timeout"),
    pytest.param("drip", {"chunk": 64, "interval": 0.1}, "timed out", id="slow-drip"),
    pytest.param("truncate", {}, "incomplete body", id="truncated"),
    pytest.param("oversize", {"mib": 2}, "exceeds 1048576 bytes", id="oversized"),
    pytest.param("redirect_loop", {}, "redirect loop", id="redirect-loop"),
    pytest.param("garbage", {}, "not a readable feed", id="garbage"),
]


@pytest.mark.parametrize(("kind", "params", "named"), FEED_FAULTS)
async def test_feed_fault_keeps_the_last_good_feeds_and_heals(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock,
        kind: str, params: dict[str, Any], named: str) -> None:
    settings = fault_settings(replica.base_url, tmp_path)
    service, http, base = await serve_feedsvc(settings)
    assert not (await service.poller.poll(settings.sources[0])).failed
    last_good = await served_atom(http, base)
    listed = expected_ids(replica)
    pages_before = page_fetches(replica)

    replica.publish_next()  # the feed changes, so it answers 200 (some faults spoil only a 200)
    replica.inject(kind, FEEDS, **params)
    report = await service.poller.poll(settings.sources[0])

    assert report.failed and report.new == 0
    body = await assert_degraded(http, base, named)
    assert body["sources"][0]["consecutive_failures"] == 1
    assert await served_atom(http, base) == last_good, "the last good feed keeps serving"
    assert page_fetches(replica) == pages_before, "no page is read while the feed fails"

    replica.clear_faults()
    healed = await poll_when_due(service, clock)
    assert (healed.failed, healed.new, healed.page_errors) == (False, 1, 0)
    await assert_recovered(service, http, base, replica, listed)
    assert await served_atom(http, base) != last_good


async def test_robots_disallow_is_obeyed_named_and_outlived(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    settings = fault_settings(replica.base_url, tmp_path, respect_robots=True)
    replica.set_robots(True, crawl_delay=None)  # the replica's usual 1 s would slow every page
    service, http, base = await serve_feedsvc(settings)
    assert not (await service.poller.poll(settings.sources[0])).failed
    last_good = await served_atom(http, base)
    listed = expected_ids(replica)

    replica.set_robots(False, crawl_delay=None)
    replica.publish_next()
    clock.advance(hours=1, seconds=1)  # the cached robots.txt expires
    seen = len(replica.requests)
    report = await service.poller.poll(settings.sources[0])
    assert report.failed
    await assert_degraded(http, base, "disallowed by robots.txt")
    assert [r.path for r in list(replica.requests)[seen:]] == ["/robots.txt"], \
        "nothing but robots.txt is asked for while it disallows"
    assert await served_atom(http, base) == last_good

    replica.set_robots(True, crawl_delay=None)
    healed = await poll_when_due(service, clock, at_least=3600)  # until robots.txt is read again
    assert (healed.failed, healed.new) == (False, 1)
    await assert_recovered(service, http, base, replica, listed)
    state = await service.store.get_poll_state(SOURCE)
    assert state.consecutive_failures == 0
