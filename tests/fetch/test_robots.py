"""robots.txt: rules, Crawl-delay, caching and what a failed fetch means."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from aiohttp import web

from feedsvc.errors import HTTPStatusError, NotAllowed
from feedsvc.fetch import Fetcher
from tests.fetch.upstream import FakeClock, Upstream, make_policy, text

Serve = Callable[[Upstream], Awaitable[Upstream]]
ROBOTS = """User-agent: *
Disallow: /private/

User-agent: feedsvc
Disallow: /private/
Disallow: /search
Crawl-delay: 3
"""


def fetcher(clock: FakeClock, **policy: object) -> Fetcher:
    return Fetcher(make_policy(**policy), clock=clock, sleep=clock.sleep)


async def test_disallowed_path_is_never_requested(upstream: Upstream, clock: FakeClock) -> None:
    upstream.route("/robots.txt", text(ROBOTS))
    upstream.route("/private/x", text("secret"))
    upstream.route("/rss/", text("feed"))
    async with fetcher(clock) as f:
        with pytest.raises(NotAllowed, match="robots.txt"):
            await f.get(upstream.url("/private/x"))
        with pytest.raises(NotAllowed):
            await f.get(upstream.url("/search?q=x"))
        assert (await f.get(upstream.url("/rss/"))).body == b"feed"
    assert upstream.hits == ["/robots.txt", "/rss/"]


async def test_crawl_delay_spaces_requests(upstream: Upstream, clock: FakeClock) -> None:
    upstream.route("/robots.txt", text(ROBOTS))
    upstream.route("/rss/", text("feed"))
    async with fetcher(clock) as f:
        for _ in range(3):
            await f.get(upstream.url("/rss/"))
    assert clock.sleeps == [3.0, 3.0, 3.0]  # the Crawl-delay: after robots.txt, between the pages


async def test_robots_is_cached_until_it_expires(upstream: Upstream, clock: FakeClock) -> None:
    upstream.route("/robots.txt", text("User-agent: *\nDisallow:\n"))
    upstream.route("/rss/", text("feed"))
    async with fetcher(clock, robots_ttl=timedelta(seconds=600)) as f:
        await f.get(upstream.url("/rss/"))
        await f.get(upstream.url("/rss/"))
        clock.advance(601)
        await f.get(upstream.url("/rss/"))
    assert upstream.hits == ["/robots.txt", "/rss/", "/rss/", "/robots.txt", "/rss/"]


@pytest.mark.parametrize("status", [401, 403, 404, 410])
async def test_robots_4xx_allows_everything(
    upstream: Upstream, clock: FakeClock, status: int
) -> None:
    upstream.route("/robots.txt", text("no", status=status))
    upstream.route("/private/x", text("page"))
    async with fetcher(clock) as f:
        assert (await f.get(upstream.url("/private/x"))).status == 200


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_robots_unreachable_disallows_for_now(
    upstream: Upstream, clock: FakeClock, status: int
) -> None:
    upstream.route("/robots.txt", text("oops", status=status))
    upstream.route("/rss/", text("feed"))
    async with fetcher(clock) as f:
        with pytest.raises(NotAllowed, match="robots.txt"):
            await f.get(upstream.url("/rss/"))
        upstream.route("/robots.txt", text("User-agent: *\nDisallow:\n"))
        clock.advance(timedelta(minutes=11).total_seconds())
        assert (await f.get(upstream.url("/rss/"))).status == 200
    assert upstream.hits == ["/robots.txt", "/robots.txt", "/rss/"]


async def test_unreachable_robots_keeps_the_last_good_copy(
    upstream: Upstream, clock: FakeClock
) -> None:
    upstream.route("/robots.txt", text(ROBOTS))
    upstream.route("/rss/", text("feed"))
    async with fetcher(clock, robots_ttl=timedelta(seconds=60)) as f:
        await f.get(upstream.url("/rss/"))
        upstream.route("/robots.txt", text("oops", status=500))
        clock.advance(61)
        assert (await f.get(upstream.url("/rss/"))).status == 200
        with pytest.raises(NotAllowed):
            await f.get(upstream.url("/private/x"))


async def test_each_redirect_hop_is_checked_against_robots(
    upstream: Upstream, clock: FakeClock
) -> None:
    async def to_private(request: web.Request) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": "/private/x"})

    upstream.route("/robots.txt", text(ROBOTS))
    upstream.route("/go", to_private)
    upstream.route("/private/x", text("secret"))
    async with fetcher(clock) as f:
        with pytest.raises(NotAllowed, match="/private/x disallowed") as caught:
            await f.get(upstream.url("/go"))
    assert caught.value.url == upstream.url("/go")
    assert upstream.hits == ["/robots.txt", "/go"]


async def test_redirect_to_another_host_reads_that_hosts_robots(
    serve: Serve, upstream: Upstream, clock: FakeClock
) -> None:
    media = await serve(Upstream())

    async def to_media(request: web.Request) -> web.StreamResponse:
        return web.Response(status=301, headers={"Location": media.url("/pics/a.jpg")})

    upstream.route("/img", to_media)
    media.route("/robots.txt", text("User-agent: *\nDisallow: /private/\n"))
    media.route("/pics/a.jpg", text("jpeg"))
    async with fetcher(clock) as f:
        result = await f.get(upstream.url("/img"))
    assert (result.final_url, result.body) == (media.url("/pics/a.jpg"), b"jpeg")
    assert media.hits == ["/robots.txt", "/pics/a.jpg"]


async def test_no_robots_request_while_the_host_cools_down(
    upstream: Upstream, clock: FakeClock
) -> None:
    upstream.route("/robots.txt", text("User-agent: *\nDisallow:\n"))
    upstream.route("/rss/", text("busy", status=503, headers={"Retry-After": "60"}))
    async with fetcher(clock, robots_ttl=timedelta(seconds=30)) as f:
        with pytest.raises(HTTPStatusError):
            await f.get(upstream.url("/rss/"))
        clock.advance(31)  # robots.txt has expired, the cool-down has not
        with pytest.raises(HTTPStatusError) as caught:
            await f.get(upstream.url("/rss/"))
    assert caught.value.retry_after is not None
    assert upstream.hits == ["/robots.txt", "/rss/"]
