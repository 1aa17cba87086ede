"""/healthz says what is wrong and stays 200; /readyz; topic reloads counted by outcome."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from feedsvc.replica import ReplicaSite
from tests.conftest import SHIPPED_TOPICS, settings_for
from tests.ops.test_metrics import scrape, value

BROKEN = '[[topic]]\nslug = "broken"\ntitle = "x"\nquery = "(غزة"\n'


async def test_a_bad_topics_file_degrades_health_keeps_topics_and_counts_the_reload(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> None:
    topics_file = tmp_path / "topics.toml"
    topics_file.write_text(SHIPPED_TOPICS.read_text(encoding="utf-8"), encoding="utf-8")
    settings = settings_for(replica.base_url, tmp_path, topics_file=topics_file)
    service, http, base = await serve_feedsvc(settings)
    await service.poller.poll(settings.sources[0])
    topics = service.topics
    before = set(topics.topics)

    topics_file.write_text(BROKEN, encoding="utf-8")
    assert not await topics.reload()
    async with http.get(f"{base}/healthz") as response:
        assert response.status == 200, "liveness: degraded is still alive"
        body = await response.json()
    assert body["status"] == "degraded"
    assert [r.split(":", 1)[0] for r in body["reasons"]] == ["config"]
    assert str(topics_file) in body["reasons"][0] and body["config"]["error"]
    assert set(topics.topics) == before, "the last good topics keep serving"
    async with http.get(f"{base}/feeds/sport.atom") as response:
        assert response.status == 200

    topics_file.write_text(SHIPPED_TOPICS.read_text(encoding="utf-8"), encoding="utf-8")
    assert await topics.reload()
    async with http.get(f"{base}/healthz") as response:
        assert (await response.json())["status"] == "ok"
    samples = await scrape(http, base)
    assert value(samples, "feedsvc_config_reloads_total", outcome="failed") == 1
    assert value(samples, "feedsvc_config_reloads_total", outcome="ok") == 1


async def test_readyz_once_storage_and_topics_are_up_and_healthz_ok_after_a_poll(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> None:
    settings = settings_for(replica.base_url, tmp_path)
    service, http, base = await serve_feedsvc(settings)
    async with http.get(f"{base}/readyz") as response:
        assert response.status == 200
        assert await response.json() == {"ready": True, "store": True, "topics": True}
    await service.poller.poll(settings.sources[0])
    async with http.get(f"{base}/healthz") as response:
        body = await response.json()
    assert (body["status"], body["reasons"]) == ("ok", [])
    [source] = body["sources"]
    assert source["last_success_at"] and source["next_poll_at"] and source["articles"] > 0
