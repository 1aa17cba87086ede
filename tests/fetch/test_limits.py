"""Timeouts, truncated and oversized bodies, redirects: each against a real server."""

from __future__ import annotations

import asyncio
import re
import socket

import pytest
from aiohttp import web

from feedsvc.errors import BodyTooLarge, FetchError, FetchTimeout, NotAllowed, TooManyRedirects
from feedsvc.fetch import Fetcher
from feedsvc.fetch.body import CHUNK_BYTES
from tests.fetch.upstream import FakeClock, Upstream, make_policy, text


def redirect(location: str, status: int = 302) -> web.Response:
    return web.Response(status=status, headers={"Location": location})


async def fetch(upstream: Upstream, clock: FakeClock, path: str, **policy: object) -> object:
    async with Fetcher(make_policy(respect_robots=False, **policy), clock=clock, sleep=clock.sleep) as f:
        return await f.get(upstream.url(path))


async def test_slow_headers_time_out(upstream: Upstream, clock: FakeClock) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(2)
        return web.Response(text="late")

    upstream.route("/slow", slow)
    with pytest.raises(FetchTimeout):
        await fetch(upstream, clock, "/slow")


async def test_body_stalling_past_the_read_timeout(upstream: Upstream, clock: FakeClock) -> None:
    async def stall(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"<rss>")
        await asyncio.sleep(2)
        return response

    upstream.route("/stall", stall)
    with pytest.raises(FetchTimeout):
        await fetch(upstream, clock, "/stall", total_timeout=5.0)


async def test_drip_body_hits_the_total_timeout(upstream: Upstream, clock: FakeClock) -> None:
    async def drip(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(40):  # every byte within the read timeout, the whole far past total
            await response.write(b".")
            await asyncio.sleep(0.05)
        return response

    upstream.route("/drip", drip)
    with pytest.raises(FetchTimeout):
        await fetch(upstream, clock, "/drip", read_timeout=0.3, total_timeout=0.4)


async def test_truncated_body(upstream: Upstream, clock: FakeClock) -> None:
    async def truncated(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "1000"})
        await response.prepare(request)
        await response.write(b"x" * 10)
        assert request.transport is not None
        request.transport.close()
        return response

    upstream.route("/cut", truncated)
    with pytest.raises(FetchError) as caught:
        await fetch(upstream, clock, "/cut")
    assert type(caught.value) is FetchError


async def test_declared_oversized_body_is_refused(upstream: Upstream, clock: FakeClock) -> None:
    upstream.route("/big", text("x" * 5000))
    with pytest.raises(BodyTooLarge, match="Content-Length 5000"):
        await fetch(upstream, clock, "/big", max_body_size=1000)


async def test_streamed_oversized_body_stops_at_the_limit(
    upstream: Upstream, clock: FakeClock
) -> None:
    total = 64 * 1024 * 1024
    sent = [0]

    async def endless(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()  # chunked: no Content-Length to refuse up front
        await response.prepare(request)
        while sent[0] < total:
            await response.write(b"y" * CHUNK_BYTES)
            sent[0] += CHUNK_BYTES
        return response

    upstream.route("/endless", endless)
    with pytest.raises(BodyTooLarge) as caught:
        await fetch(upstream, clock, "/endless", max_body_size=100_000, total_timeout=5.0)
    match = re.search(r"stopped after (\d+)", caught.value.reason)
    assert match is not None
    assert 100_000 < int(match.group(1)) <= 100_000 + CHUNK_BYTES
    assert sent[0] < total


async def test_redirect_chain_within_the_limit(upstream: Upstream, clock: FakeClock) -> None:
    async def hop(request: web.Request) -> web.StreamResponse:
        n = int(request.path.rsplit("/", 1)[1])
        return redirect(f"/r/{n + 1}" if n < 4 else "/final", 301 if n % 2 else 307)

    upstream.route("/final", text("done"))
    for n in range(5):
        upstream.route(f"/r/{n}", hop)
    async with Fetcher(make_policy(respect_robots=False), clock=clock, sleep=clock.sleep) as fetcher:
        result = await fetcher.get(upstream.url("/r/0"))
    assert (result.body, result.final_url) == (b"done", upstream.url("/final"))
    assert result.url == upstream.url("/r/0")
    assert upstream.hits == ["/r/0", "/r/1", "/r/2", "/r/3", "/r/4", "/final"]


async def test_redirect_chain_over_the_limit(upstream: Upstream, clock: FakeClock) -> None:
    async def hop(request: web.Request) -> web.StreamResponse:
        return redirect(f"/r/{int(request.path.rsplit('/', 1)[1]) + 1}")

    for n in range(10):
        upstream.route(f"/r/{n}", hop)
    with pytest.raises(TooManyRedirects, match="more than 3"):
        await fetch(upstream, clock, "/r/0", max_redirects=3)
    assert len(upstream.hits) == 4


async def test_redirect_loop(upstream: Upstream, clock: FakeClock) -> None:
    async def to_b(request: web.Request) -> web.StreamResponse:
        return redirect("/b")

    async def to_a(request: web.Request) -> web.StreamResponse:
        return redirect(upstream.url("/a"))

    upstream.route("/a", to_b)
    upstream.route("/b", to_a)
    with pytest.raises(TooManyRedirects, match="loop"):
        await fetch(upstream, clock, "/a")
    assert upstream.hits == ["/a", "/b"]


async def test_redirect_to_an_unconfigured_host(upstream: Upstream, clock: FakeClock) -> None:
    async def away(request: web.Request) -> web.StreamResponse:
        return redirect("http://169.254.169.254/latest/meta-data/")

    upstream.route("/away", away)
    with pytest.raises(NotAllowed, match="169.254.169.254 is not configured") as caught:
        await fetch(upstream, clock, "/away")
    assert caught.value.url == upstream.url("/away")


async def test_header_injection_in_validators_is_refused(
    upstream: Upstream, clock: FakeClock
) -> None:
    upstream.route("/rss/", text("feed"))
    async with Fetcher(make_policy(respect_robots=False), clock=clock, sleep=clock.sleep) as fetcher:
        with pytest.raises(FetchError):
            await fetcher.get(upstream.url("/rss/"), etag='"v1"\r\nX-Evil: 1')
    assert upstream.hits == []


async def test_refused_connection_is_a_fetch_error(clock: FakeClock) -> None:
    with socket.socket() as probe:  # a port nobody listens on once the probe is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with Fetcher(make_policy(respect_robots=False), clock=clock, sleep=clock.sleep) as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.get(f"http://127.0.0.1:{port}/rss/")
    assert type(caught.value) is FetchError
    assert caught.value.__cause__ is not None
