"""/metrics parses with prometheus-client's own parser and moves as the service works."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from feedsvc.replica import ReplicaSite
from tests.conftest import Clock, republished_copies, settings_for
from tests.faults.support import ARTICLE_PATH, SOURCE, fault_settings, poll_when_due

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(http: Any, base: str) -> Samples:
    async with http.get(f"{base}/metrics") as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = await response.text()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum over every series of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, found), v in samples.items() if n == name and wanted <= found)


async def test_metrics_count_polls_upstream_requests_and_articles(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    settings = settings_for(replica.base_url, tmp_path)
    service, http, base = await serve_feedsvc(settings)
    before = await scrape(http, base)
    assert value(before, "feedsvc_polls_total", source=SOURCE, outcome="ok") == 0.0, \
        "series exist at zero before the first poll"

    await service.poller.poll(settings.sources[0])
    for _ in range(2):  # an unchanged site: the feed answers 304
        await poll_when_due(service, clock)
    after = await scrape(http, base)

    entries = replica.site_feed()
    copies = republished_copies(replica, (url for _, url in entries))
    host = replica.base_url.removeprefix("http://")
    assert value(after, "feedsvc_polls_total", source=SOURCE, outcome="ok") == 3
    assert value(after, "feedsvc_articles_total", source=SOURCE, outcome="new") == len(entries) - len(copies)
    assert value(after, "feedsvc_articles_total", source=SOURCE, outcome="duplicate") == len(copies)
    # the site feed once, then two conditional requests answered 304; each page once
    assert value(after, "feedsvc_upstream_requests_total", host=host, status="200") == 1 + len(entries)
    assert value(after, "feedsvc_upstream_requests_total", host=host, status="304") == 2
    assert value(after, "feedsvc_upstream_request_duration_seconds_count", host=host) == 3 + len(entries)
    assert value(after, "feedsvc_poll_duration_seconds_count", source=SOURCE) == 3
    assert total(after, "feedsvc_topic_matches_total") > 0
    assert set(service.topics.topics) >= {dict(k)["topic"] for n, k in after if n == "feedsvc_topic_matches_total"}
    assert value(after, "feedsvc_scheduler_lag_seconds") >= 0.0

    # and the site saw exactly that: no article page twice, the feed revalidated
    pages = Counter(r.path for r in replica.requests if ARTICLE_PATH.match(r.path))
    assert len(pages) == len(entries) and set(pages.values()) == {1}
    feeds = [r for r in replica.requests if r.path == "/rss/"]
    assert [r.status for r in feeds] == [200, 304, 304]
    assert all("If-None-Match" in r.headers for r in feeds[1:])


async def test_metrics_count_feed_requests_304s_cache_hits_and_failures(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    settings = settings_for(replica.base_url, tmp_path)
    service, http, base = await serve_feedsvc(settings)
    await service.poller.poll(settings.sources[0])
    async with http.get(f"{base}/feeds/all.atom") as response:
        etag = response.headers["ETag"]
    async with http.get(f"{base}/feeds/all.atom", headers={"If-None-Match": etag}) as response:
        assert response.status == 304
    async with http.get(f"{base}/feeds/sport.json") as response:
        assert response.status == 200

    replica.inject("status", "/rss*", times=1, statuses=[502])
    replica.publish_next()
    await poll_when_due(service, clock)
    samples = await scrape(http, base)

    assert value(samples, "feedsvc_feed_requests_total", topic="all", format="atom", status="200") == 1
    assert value(samples, "feedsvc_feed_requests_total", topic="all", format="atom", status="304") == 1
    assert value(samples, "feedsvc_feed_requests_total", topic="sport", format="json", status="200") == 1
    # nothing is rendered ahead: each first request renders, the 304 is a hit
    assert value(samples, "feedsvc_render_cache_total", result="render") == 2
    assert value(samples, "feedsvc_render_cache_total", result="hit") == 1
    assert value(samples, "feedsvc_polls_total", source=SOURCE, outcome="failed") == 1
    host = replica.base_url.removeprefix("http://")
    assert value(samples, "feedsvc_upstream_requests_total", host=host, status="502") == 1


async def test_metrics_count_upstream_errors_by_kind(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> None:
    settings = fault_settings(replica.base_url, tmp_path)
    service, http, base = await serve_feedsvc(settings)
    replica.inject("truncate", "/rss*", times=1)
    await service.poller.poll(settings.sources[0])
    replica.inject("oversize", "/rss*", times=1, mib=2)
    await service.poller.poll(settings.sources[0])
    samples = await scrape(http, base)
    host = replica.base_url.removeprefix("http://")
    assert value(samples, "feedsvc_upstream_requests_total", host=host, status="incomplete") == 1
    assert value(samples, "feedsvc_upstream_requests_total", host=host, status="too_large") == 1
    assert value(samples, "feedsvc_polls_total", source=SOURCE, outcome="failed") == 2
