"""HTTP behaviour of feed responses: validators, conditional GET, HEAD, codings, CORS."""

from __future__ import annotations

import gzip
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

import aiohttp
import brotli
import pytest

from tests.web.support import get

FEEDS = ("/feeds/all.atom", "/feeds/all.json", "/feeds/gaza.atom", "/feeds/gaza.json?limit=3")


@pytest.mark.parametrize("path", FEEDS)
async def test_validators_and_caching_headers(served: Any, path: str) -> None:
    service, http, base = await served()
    response, body = await get(http, base + path)
    assert response.status == 200
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert parsedate_to_datetime(response.headers["Last-Modified"]).tzinfo is not None
    assert response.headers["Cache-Control"] == "public, max-age=300"  # the 5 min poll interval
    assert response.headers["Vary"] == "Accept-Encoding"
    expected = "application/atom+xml" if ".atom" in path else "application/feed+json"
    assert response.headers["Content-Type"] == f"{expected}; charset=utf-8"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "Link" not in response.headers  # no hub configured
    again, same = await get(http, base + path)
    assert (again.headers["ETag"], same) == (etag, body)


@pytest.mark.parametrize("validator", [
    lambda etag, modified: {"If-None-Match": etag},
    lambda etag, modified: {"If-None-Match": f'"other", W/{etag}'},
    lambda etag, modified: {"If-None-Match": "*"},
    lambda etag, modified: {"If-Modified-Since": modified},
    lambda etag, modified: {"If-Modified-Since": format_datetime(
        parsedate_to_datetime(modified) + timedelta(days=1), usegmt=True)},
])
async def test_conditional_get_answers_304_with_the_validators(served: Any, validator: Any) -> None:
    service, http, base = await served()
    first, _ = await get(http, f"{base}/feeds/all.atom")
    headers = validator(first.headers["ETag"], first.headers["Last-Modified"])
    for method in ("GET", "HEAD"):
        async with http.request(method, f"{base}/feeds/all.atom", headers=headers) as response:
            assert response.status == 304, method
            assert await response.read() == b""
            assert response.headers["ETag"] == first.headers["ETag"]
            assert response.headers["Cache-Control"] == "public, max-age=300"
            assert response.headers["Vary"] == "Accept-Encoding"


@pytest.mark.parametrize("validator", [
    lambda etag, modified: {"If-None-Match": '"not-our-tag"'},
    # If-None-Match decides when both are sent (RFC 9110 13.2.2)
    lambda etag, modified: {"If-None-Match": '"not-our-tag"', "If-Modified-Since": modified},
    lambda etag, modified: {"If-Modified-Since": format_datetime(
        parsedate_to_datetime(modified) - timedelta(seconds=1), usegmt=True)},
    lambda etag, modified: {"If-Modified-Since": "not a date"},
    lambda etag, modified: {"If-Modified-Since": "Sun, 29 Nov 2026 09:00:00"},  # no zone
])
async def test_failed_conditions_send_the_feed(served: Any, validator: Any) -> None:
    service, http, base = await served()
    first, body = await get(http, f"{base}/feeds/all.atom")
    response, again = await get(http, f"{base}/feeds/all.atom",
                                headers=validator(first.headers["ETag"], first.headers["Last-Modified"]))
    assert (response.status, again) == (200, body)


async def test_head_sends_the_headers_of_get_and_no_body(served: Any) -> None:
    service, http, base = await served()
    full, body = await get(http, f"{base}/feeds/gaza.json", headers={"Accept-Encoding": "identity"})
    async with http.head(f"{base}/feeds/gaza.json", headers={"Accept-Encoding": "identity"}) as head:
        assert head.status == 200
        assert await head.read() == b""
        for name in ("ETag", "Last-Modified", "Content-Type", "Cache-Control", "Vary"):
            assert head.headers[name] == full.headers[name]
        assert int(head.headers["Content-Length"]) == len(body)


@pytest.mark.parametrize(("accept", "coding"), [
    ("gzip, deflate, br", "br"),
    ("gzip", "gzip"),
    ("br;q=0, gzip;q=0.5", "gzip"),
    ("*", "br"),
    ("identity", None),
    ("br;q=0, gzip;q=0", None),
    ("", None),
    ("compress;q=garbage", None),
])
async def test_content_coding_is_negotiated(served: Any, accept: str, coding: str | None) -> None:
    service, http, base = await served()
    _, plain = await get(http, f"{base}/feeds/all.json", headers={"Accept-Encoding": "identity"})
    async with aiohttp.ClientSession(auto_decompress=False) as raw:
        response, body = await get(raw, f"{base}/feeds/all.json", headers={"Accept-Encoding": accept})
    assert response.status == 200
    assert response.headers.get("Content-Encoding") == coding
    assert response.headers["Vary"] == "Accept-Encoding"
    decoded = {"br": brotli.decompress, "gzip": gzip.decompress, None: bytes}[coding](body)
    assert decoded == plain
    if coding:
        assert len(body) < len(plain) / 3


async def test_cors_preflight_allows_conditional_requests(served: Any) -> None:
    service, http, base = await served()
    for path in ("/feeds/all.json", "/api/topics"):
        headers = {"Origin": "https://reader.example", "Access-Control-Request-Method": "GET",
                   "Access-Control-Request-Headers": "if-none-match"}
        async with http.options(base + path, headers=headers) as response:
            assert response.status == 204
            assert response.headers["Access-Control-Allow-Origin"] == "*"
            assert "If-None-Match" in response.headers["Access-Control-Allow-Headers"]
    response, _ = await get(http, f"{base}/feeds/all.json", headers={"Origin": "https://x.example"})
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    response, _ = await get(http, f"{base}/api/topics")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


async def test_a_cached_feed_is_served_without_rendering_again(served: Any) -> None:
    from tests.ops.test_metrics import scrape, value

    service, http, base = await served()
    await get(http, f"{base}/feeds/sport.atom")
    before = await scrape(http, base)
    for _ in range(5):
        response, _ = await get(http, f"{base}/feeds/sport.atom")
        assert response.status == 200
    after = await scrape(http, base)
    renders = ("feedsvc_render_cache_total", {"result": "render"})
    hits = ("feedsvc_render_cache_total", {"result": "hit"})
    assert value(after, renders[0], **renders[1]) == value(before, renders[0], **renders[1])
    assert value(after, hits[0], **hits[1]) == value(before, hits[0], **hits[1]) + 5
