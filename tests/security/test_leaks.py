"""Nothing secret or internal in public answers, and no URL credentials anywhere.

Found: a store failure answered 503 with the database file's path and the SQL error
in the body; /healthz showed absolute file paths and the raw last errors to anyone;
a ``base_url`` with ``user:pass@`` showed the password in /healthz and in the logs.
"""

from __future__ import annotations

import io
import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from feedsvc.logsetup import JsonFormatter, TextFormatter
from tests.conftest import SHIPPED_TOPICS
from tests.security.support import polled_settings, with_server
from tests.web.conftest import Polled

TOKEN = "a-long-random-health-token-0123456789"
SECRET = "s3cret-pass"


async def get(http: Any, url: str, **kwargs: Any) -> tuple[int, Any, bytes]:
    async with http.get(url, **kwargs) as response:
        return response.status, response.headers, await response.read()


@pytest.fixture
def written_logs() -> Iterator[io.StringIO]:
    """Every log line as the service writes it, in both formats."""
    out = io.StringIO()
    handlers = [logging.StreamHandler(out), logging.StreamHandler(out)]
    handlers[0].setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handlers[1].setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    for handler in handlers:
        root.addHandler(handler)
    yield out
    for handler in handlers:
        root.removeHandler(handler)
    root.setLevel(level)


async def test_a_store_failure_is_a_plain_503_and_the_details_go_to_the_log(
        polled: Polled, serve_feedsvc: Any, tmp_path: Path, written_logs: io.StringIO) -> None:
    service, http, base = await serve_feedsvc(
        polled_settings(polled, tmp_path, health_detail_loopback=False))
    with sqlite3.connect(tmp_path / "feedsvc.db") as db:  # the store breaks under the service
        db.execute("DROP TABLE topic_articles")
        db.execute("DROP TABLE leases")
    for path in ("/feeds/gaza.json?limit=3", "/feeds/gaza.atom", "/api/topics", "/"):
        status, headers, body = await get(http, base + path)
        assert status == 503, (path, body[:200])
        assert headers["Retry-After"] == "5"
        text = body.decode()
        assert "temporarily unavailable" in text
        assert str(tmp_path) not in text and "feedsvc.db" not in text
        assert "no such table" not in text and "topic_articles" not in text
    logged = written_logs.getvalue()
    assert "request.failed" in logged and "no such table: topic_articles" in logged
    status, _, body = await get(http, f"{base}/healthz")  # still 200, and says why in words
    health = orjson.loads(body)
    assert status == 200 and health["status"] == "degraded"
    assert health["reasons"] == [
        "store: the store cannot be read; the feeds already rendered keep serving"]
    assert str(tmp_path) not in body.decode() and "no such table" not in body.decode()


async def test_healthz_tells_the_public_what_and_operators_why(
        polled: Polled, serve_feedsvc: Any, tmp_path: Path, unused_tcp_port: int) -> None:
    topics_file = tmp_path / "topics.toml"
    topics_file.write_text(SHIPPED_TOPICS.read_text(encoding="utf-8"), encoding="utf-8")
    settings = polled_settings(polled, tmp_path, health_detail_loopback=False, health_token=TOKEN)
    source = replace(settings.sources[0], base_url=f"http://127.0.0.1:{unused_tcp_port}")
    settings = replace(settings, topics_file=topics_file, sources=(source,))
    service, http, base = await serve_feedsvc(settings)
    await service.poller.poll(source)  # nothing listens there: the poll fails
    topics_file.write_text('[[topics]]\nslug = "x"\nquery = "(غزة"\n', encoding="utf-8")
    assert not await service.topics.reload()

    status, headers, body = await get(http, f"{base}/healthz")
    public = orjson.loads(body)
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert public["status"] == "degraded"
    assert public["reasons"] == [
        "source rt-arabic: the last poll failed",
        "config: the topics file was rejected; the last good topics keep serving"]
    assert "last_error" not in public["sources"][0] and public["sources"][0]["consecutive_failures"] == 1
    assert set(public["config"]) == {"loaded_at", "topics"}
    for hidden in (str(tmp_path), str(unused_tcp_port), "topics.toml", "http://"):
        assert hidden not in body.decode()

    for wrong in ({"Authorization": "Bearer not-the-token"}, {"Authorization": TOKEN},
                  {"Authorization": f"Basic {TOKEN}"}):
        assert orjson.loads((await get(http, f"{base}/healthz", headers=wrong))[2]) == public
    status, _, body = await get(http, f"{base}/healthz",
                                headers={"Authorization": f"Bearer {TOKEN}"})
    full = orjson.loads(body)
    assert full["status"] == "degraded" and str(unused_tcp_port) in full["sources"][0]["last_error"]
    assert full["config"]["file"] == str(topics_file) and f"{topics_file}:" in full["config"]["error"]


async def test_loopback_detail_is_for_local_clients_that_came_through_no_proxy(
        polled: Polled, serve_feedsvc: Any, tmp_path: Path) -> None:
    settings = polled_settings(polled, tmp_path, health_detail_loopback=True)
    service, http, base = await serve_feedsvc(settings)
    local = orjson.loads((await get(http, f"{base}/healthz"))[2])
    assert local["config"]["file"] == str(settings.topics_file)
    for header in ("X-Forwarded-For", "Forwarded", "X-Real-IP", "Via"):
        proxied = orjson.loads((await get(http, f"{base}/healthz", headers={header: "1.2.3.4"}))[2])
        assert "file" not in proxied["config"], header


async def test_credentials_in_a_url_reach_neither_healthz_nor_the_logs(
        polled: Polled, serve_feedsvc: Any, tmp_path: Path, unused_tcp_port: int,
        written_logs: io.StringIO) -> None:
    """The settings file refuses such URLs; here they are built in code, past that check."""
    settings = with_server(polled_settings(polled, tmp_path), health_token=TOKEN)
    source = replace(settings.sources[0],
                     base_url=f"http://reader:{SECRET}@127.0.0.1:{unused_tcp_port}")
    settings = replace(settings, sources=(source,))
    service, http, base = await serve_feedsvc(settings)
    report = await service.poller.poll(source)
    assert report.failed
    full = (await get(http, f"{base}/healthz", headers={"Authorization": f"Bearer {TOKEN}"}))[2]
    assert b"reader:" not in full and SECRET.encode() not in full
    assert "127.0.0.1" in orjson.loads(full)["sources"][0]["last_error"]
    logged = written_logs.getvalue()
    assert "feed.failed" in logged and SECRET not in logged and "reader:" not in logged
