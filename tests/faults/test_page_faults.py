"""Faults on article pages: the poll goes on, the article waits out of the feeds until its
page can be read (only a page failing past ``feed_only_after`` lets the feed's version
stand in: tests/e2e/test_site_changes.py), /healthz names the fault, and the page is
read again later."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from feedsvc.replica import ReplicaSite
from tests.conftest import Clock
from tests.faults.support import (
    ARTICLE_PAGES,
    SOURCE,
    assert_degraded,
    assert_recovered,
    assert_same_as_a_clean_poll,
    expected_ids,
    fault_settings,
    page_fetches,
    poll_when_due,
    served_ids,
)

PAGE_RETRY_SECONDS = 5 * 60  # the pipeline's first back-off for a failed page

PAGE_FAULTS = [
    pytest.param("status", {}, "HTTP 50", id="5xx"),
    pytest.param("rate_limit", {"retry_after": 30}, "HTTP 429", id="429"),
    pytest.param("slow", {"delay": 3.0}, "timed out", id="timeout"),
    pytest.param("drip", {"chunk": 64, "interval": 0.1}, "timed out", id="slow-drip"),
    pytest.param("truncate", {}, "incomplete body", id="truncated"),
    pytest.param("oversize", {"mib": 2}, "exceeds 1048576 bytes", id="oversized"),
    pytest.param("redirect_loop", {}, "redirect loop", id="redirect-loop"),
    pytest.param("garbage", {}, "not text in a known encoding", id="garbage"),
    # junk bytes spliced into the page: read again later rather than stored mangled
    pytest.param("malformed", {}, "damaged page", id="malformed-html"),
]


@pytest.mark.parametrize(("kind", "params", "named"), PAGE_FAULTS)
async def test_page_fault_holds_the_article_back_until_the_page_reads(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock,
        kind: str, params: dict[str, Any], named: str) -> None:
    settings = fault_settings(replica.base_url, tmp_path)
    service, http, base = await serve_feedsvc(settings)
    assert not (await service.poller.poll(settings.sources[0])).failed
    listed = expected_ids(replica)

    fresh = [replica.publish_next(), replica.publish_next()]
    fresh_ids = {f"{SOURCE}:{article.id}" for article in fresh if article is not None}
    replica.inject(kind, ARTICLE_PAGES, **params)
    faulted_from = len(replica.requests)
    report = await service.poller.poll(settings.sources[0])

    assert (report.failed, report.new, report.page_errors) == (False, 0, 2)
    await assert_degraded(http, base, "2 article page(s) failed", named)
    served = set(await served_ids(http, base))
    assert listed <= served and not fresh_ids & served, "no stub meanwhile: the article waits"

    replica.clear_faults()
    spoiled = range(faulted_from, len(replica.requests))
    healed = await poll_when_due(service, clock, at_least=PAGE_RETRY_SECONDS)
    assert (healed.failed, healed.new, healed.updated, healed.page_errors) == (False, 2, 0, 0)
    await assert_recovered(service, http, base, replica, listed, spoiled)
    await assert_same_as_a_clean_poll(service, serve_feedsvc, replica, tmp_path)


async def test_a_poll_failing_half_way_keeps_what_it_stored_and_retries_the_rest(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    settings = fault_settings(replica.base_url, tmp_path)
    service, http, base = await serve_feedsvc(settings)
    replica.inject("status", ARTICLE_PAGES, times=5, statuses=[503])
    report = await service.poller.poll(settings.sources[0])
    assert (report.failed, report.page_errors) == (False, 5)
    served = set(await served_ids(http, base))
    assert served < expected_ids(replica) and len(expected_ids(replica) - served) == 5, \
        "every article whose page was read is served, the five others wait"
    assert sum(page_fetches(replica).values()) == len(replica.site_feed()) - 5, \
        "the other pages were read in full"
    await assert_degraded(http, base, "5 article page(s) failed", "HTTP 503")

    healed = await poll_when_due(service, clock, at_least=PAGE_RETRY_SECONDS)
    assert (healed.new, healed.page_errors, healed.feeds_not_modified) == (5, 0, 1)
    await assert_recovered(service, http, base, replica)
    await assert_same_as_a_clean_poll(service, serve_feedsvc, replica, tmp_path)
