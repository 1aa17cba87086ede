"""Bad requests get 4xx with a message in the format asked for, never a 500."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.conftest import SHIPPED_TOPICS
from tests.web.support import get

BAD_QUERIES = {
    "limit=0": "limit",
    "limit=-1": "limit",
    "limit=201": "limit",
    "limit=99999999999999999999999999999999": "limit",
    "limit=" + "9" * 5000: "limit",
    "limit=abc": "limit",
    "limit=%C2%B2": "limit",  # "²": a digit to str.isdigit(), not to int()
    "limit=%D9%A3": "limit",  # Arabic-Indic three
    "limit=1.5": "limit",
    "limit=": "limit",
    "limit=5&limit=6": "more than once",
    "cursor=x&cursor=y": "more than once",
    "cursor=garbage!!": "cursor",
    "cursor=-1": "cursor",
    "cursor=" + "A" * 300: "cursor",
    "cursor=" + base64.urlsafe_b64encode(b"[1, 2]").decode(): "cursor",
    "cursor=" + base64.urlsafe_b64encode(b'{"a": 1, "b": 2}').decode(): "cursor",
    "cursor=" + base64.urlsafe_b64encode(b"[-99999999999999999999, \"x\"]").decode(): "cursor",
    "cursor=%00%FF%FE": "cursor",
    "page=2": "unknown parameter",
    "format=rss": "unknown parameter",
}


@pytest.mark.parametrize("query", list(BAD_QUERIES))
async def test_bad_parameters_are_400_with_a_message_in_the_format_asked_for(
        served: Any, query: str) -> None:
    service, http, base = await served()
    response, body = await get(http, f"{base}/feeds/all.json?{query}")
    assert response.status == 400, body[:200]
    assert response.headers["Content-Type"].startswith("application/json")
    error = orjson.loads(body)["error"]
    assert error["status"] == 400 and BAD_QUERIES[query] in error["message"]
    response, body = await get(http, f"{base}/feeds/all.atom?{query}")
    assert response.status == 400
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert BAD_QUERIES[query] in body.decode()


async def test_largest_limit_and_a_cursor_past_the_end_are_fine(served: Any) -> None:
    from datetime import UTC, datetime

    from feedsvc.store import Cursor

    service, http, base = await served()
    response, body = await get(http, f"{base}/feeds/all.json?limit=200")
    assert response.status == 200
    old = service.feeds.cursors.encode("all", Cursor(datetime(2000, 1, 1, tzinfo=UTC), "rt-arabic:1"))
    response, body = await get(http, f"{base}/feeds/all.json?cursor={old}")
    assert response.status == 200 and orjson.loads(body)["items"] == []
    assert "next_url" not in orjson.loads(body)


@pytest.mark.parametrize(("path", "status", "json_error"), [
    ("/feeds/no-such-topic.json", 404, True),
    ("/feeds/no-such-topic.atom", 404, False),
    ("/feeds/gaza.rss", 400, False),
    ("/feeds/gaza.json.gz", 400, False),
    ("/feeds/gaza", 404, False),
    ("/no/such/page", 404, False),
    ("/api/no-such-thing", 404, True),
    ("/api/topics?x=1", 400, True),
    ("/topics.opml?x=1", 400, False),
    ("/?lang=en", 400, False),
])
async def test_unknown_things_are_4xx(served: Any, path: str, status: int, json_error: bool) -> None:
    service, http, base = await served()
    response, body = await get(http, base + path)
    assert response.status == status, body[:200]
    if json_error:
        assert orjson.loads(body)["error"]["status"] == status
    else:
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8" and body.strip()


async def test_wrong_method_is_405_with_allow(served: Any) -> None:
    service, http, base = await served()
    async with http.post(f"{base}/feeds/all.json", data=b"x") as response:
        assert response.status == 405
        assert set(response.headers["Allow"].split(",")) == {"GET", "HEAD", "OPTIONS"}
        assert orjson.loads(await response.read())["error"]["status"] == 405


@pytest.mark.parametrize(("method", "path", "status", "allow"), [
    ("HEAD", "/feeds/all.atom", 200, None),
    ("OPTIONS", "/api/topics", 204, None),
    ("OPTIONS", "/", 405, {"GET", "HEAD"}),
    ("DELETE", "/topics.opml", 405, {"GET", "HEAD"}),
    ("PUT", "/metrics", 405, {"GET", "HEAD"}),
    ("POST", "/no/such/page", 404, None),
])
async def test_each_path_answers_its_methods_only(served: Any, method: str, path: str,
                                                  status: int, allow: set[str] | None) -> None:
    service, http, base = await served()
    async with http.request(method, base + path) as response:
        body = await response.read()
        assert response.status == status, body[:200]
        assert (set(response.headers["Allow"].split(",")) if allow else None) == allow
        if status >= 400:
            assert response.headers["Content-Type"] == "text/plain; charset=utf-8" and body.strip()
        if method == "HEAD":
            assert body == b"" and int(response.headers["Content-Length"]) > 0


async def test_a_removed_topic_answers_410(served: Any, tmp_path: Path) -> None:
    service, http, base = await served()
    response, _ = await get(http, f"{base}/feeds/sport.atom")
    assert response.status == 200
    topics = service.topics
    edited = tmp_path / "topics.toml"
    text = SHIPPED_TOPICS.read_text(encoding="utf-8")
    start = text.index('[[topics]]\nslug = "sport"')
    end = text.find("[[topics]]", start + 1)
    edited.write_text(text[:start] + (text[end:] if end != -1 else ""), encoding="utf-8")
    topics.path = edited
    assert await topics.reload()
    for fmt in ("atom", "json"):
        response, body = await get(http, f"{base}/feeds/sport.{fmt}")
        assert response.status == 410 and b"removed" in body
    response, _ = await get(http, f"{base}/feeds/gaza.atom")
    assert response.status == 200
