"""WebSub: the hub is advertised in feeds and headers, and pinged after a poll changes topics."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import orjson
import pytest
from lxml import etree

from feedsvc.replica import ReplicaSite
from tests.conftest import Hub
from tests.ops.test_metrics import scrape, value
from tests.web.conftest import web_settings
from tests.web.support import ATOM_NS, PUBLIC, get


async def pings(http: Any, base: str) -> tuple[float, float]:
    """The hub pings counted in /metrics: (acknowledged, failed)."""
    samples = await scrape(http, base)
    return (value(samples, "feedsvc_websub_pings_total", outcome="ok"),
            value(samples, "feedsvc_websub_pings_total", outcome="failed"))


async def test_hub_is_advertised_in_feeds_and_link_headers(served: Any, hub: Hub) -> None:
    service, http, base = await served(hub_url=hub.url)
    response, body = await get(http, f"{base}/feeds/gaza.atom?limit=2")
    assert response.headers["Link"] == (f'<{hub.url}>; rel="hub", '
                                        f'<{PUBLIC}/feeds/gaza.atom?limit=2>; rel="self"')
    hubs = etree.fromstring(body).findall("a:link[@rel='hub']", ATOM_NS)
    assert [link.get("href") for link in hubs] == [hub.url]
    response, body = await get(http, f"{base}/feeds/gaza.json")
    assert response.headers["Link"] == f'<{hub.url}>; rel="hub", <{PUBLIC}/feeds/gaza.json>; rel="self"'
    assert orjson.loads(body)["hubs"] == [{"type": "WebSub", "url": hub.url}]
    not_modified, _ = await get(http, f"{base}/feeds/gaza.json",
                                headers={"If-None-Match": response.headers["ETag"]})
    assert not_modified.status == 304 and not_modified.headers["Link"] == response.headers["Link"]
    assert hub.published == []  # serving announces nothing


async def test_a_poll_that_changes_topics_pings_the_hub(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, hub: Hub) -> None:
    settings = web_settings(replica.base_url, tmp_path, hub_url=hub.url)
    service, http, base = await serve_feedsvc(settings)
    report = await service.poller.poll(settings.sources[0])
    assert report.changed_topics
    expected = {f"{PUBLIC}/feeds/{slug}.{fmt}" for slug in report.changed_topics | {"all"}
                for fmt in ("atom", "json")}
    await service.hub.drain(5)
    assert {p["hub.url"] for p in hub.published} == expected
    assert all(p["hub.mode"] == "publish" for p in hub.published)
    assert set(hub.content_types) == {"application/x-www-form-urlencoded"}
    before = len(hub.published)
    again = await service.poller.poll(settings.sources[0])
    assert not again.changed_topics
    await asyncio.sleep(0.1)
    assert len(hub.published) == before, "an unchanged poll announces nothing"


async def test_a_failing_hub_never_fails_the_poll_and_is_logged_once(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, hub: Hub,
        caplog: pytest.LogCaptureFixture) -> None:
    hub.status = 500
    settings = web_settings(replica.base_url, tmp_path, hub_url=hub.url)
    service, http, base = await serve_feedsvc(settings)
    with caplog.at_level(logging.WARNING, logger="feedsvc.websub"):
        report = await service.poller.poll(settings.sources[0])
        assert not report.failed and report.new > 0
        await service.hub.drain(5)
        assert await pings(http, base) == (0, len(hub.published))
        assert {p["hub.url"] for p in hub.published} >= {f"{PUBLIC}/feeds/all.atom"}
        hub.status = 204
        replica.publish_next()
        await service.poller.poll(settings.sources[0])
        await service.hub.drain(5)
        assert (await pings(http, base))[0] > 0
    messages = [r.getMessage() for r in caplog.records if r.name == "feedsvc.websub"]
    assert len(messages) == 1 and messages[0].startswith("websub.publish_failed"), messages
    assert "500" in messages[0]
    response, _ = await get(http, f"{base}/feeds/all.json")
    assert response.status == 200


async def test_an_unreachable_hub_never_fails_the_poll(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, unused_tcp_port: int) -> None:
    settings = web_settings(replica.base_url, tmp_path,
                            hub_url=f"http://127.0.0.1:{unused_tcp_port}/hub")
    service, http, base = await serve_feedsvc(settings)
    report = await service.poller.poll(settings.sources[0])
    assert not report.failed and report.new > 0
    await service.hub.drain(5)
    ok, failed = await pings(http, base)
    assert ok == 0 and failed >= 1
