"""Fetcher.get against a real loopback server: bodies, validators, status errors."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime

import pytest
from aiohttp import web

from feedsvc.errors import HTTPStatusError
from feedsvc.fetch import Fetcher
from tests.fetch.upstream import FakeClock, RecordingObserver, Upstream, make_policy, text

FEED = '<?xml version="1.0" encoding="utf-8"?><rss><channel><title>RT</title></channel></rss>'


async def test_200_returns_body_validators_and_freshness(
    upstream: Upstream, clock: FakeClock
) -> None:
    upstream.route(
        "/rss/",
        text(
            FEED,
            headers={
                "ETag": '"v1"',
                "Last-Modified": "Sun, 01 Mar 2026 11:00:00 GMT",
                "Cache-Control": "public, max-age=300",
                "Content-Type": "application/rss+xml; charset=UTF-8",
            },
        ),
    )
    async with Fetcher(make_policy(), clock=clock, sleep=clock.sleep) as fetcher:
        result = await fetcher.get(upstream.url("/rss/"), accept="application/rss+xml")

    assert (result.status, result.body.decode()) == (200, FEED)
    assert (result.url, result.final_url) == (upstream.url("/rss/"), upstream.url("/rss/"))
    assert (result.content_type, result.charset) == ("application/rss+xml", "UTF-8")
    assert (result.etag, result.last_modified) == ('"v1"', "Sun, 01 Mar 2026 11:00:00 GMT")
    assert result.fetched_at == clock.now
    assert result.fresh_until == clock.now + timedelta(seconds=300)
    sent = upstream.headers[-1]
    assert sent["User-Agent"] == "feedsvc/0.1 (+https://example.org/feedsvc)"
    assert sent["Accept"] == "application/rss+xml"


async def test_304_when_validators_match(upstream: Upstream, clock: FakeClock) -> None:
    async def conditional(request: web.Request) -> web.StreamResponse:
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        return web.Response(text=FEED, headers={"ETag": '"v1"'})

    upstream.route("/rss/", conditional)
    async with Fetcher(make_policy(), clock=clock, sleep=clock.sleep) as fetcher:
        result = await fetcher.get(
            upstream.url("/rss/"), etag='"v1"', last_modified="Sun, 01 Mar 2026 11:00:00 GMT"
        )

    assert result.not_modified and result.body == b""
    assert (result.etag, result.last_modified) == ('"v1"', "Sun, 01 Mar 2026 11:00:00 GMT")
    assert upstream.headers[-1]["If-Modified-Since"] == "Sun, 01 Mar 2026 11:00:00 GMT"


async def test_expires_is_read_relative_to_date(upstream: Upstream, clock: FakeClock) -> None:
    upstream.route(
        "/rss/",
        text(
            FEED,
            headers={
                "Date": "Sun, 01 Mar 2026 09:00:00 GMT",
                "Expires": "Sun, 01 Mar 2026 09:10:00 GMT",
            },
        ),
    )
    async with Fetcher(make_policy(), clock=clock, sleep=clock.sleep) as fetcher:
        result = await fetcher.get(upstream.url("/rss/"))
    assert result.fresh_until == clock.now + timedelta(minutes=10)


@pytest.mark.parametrize("status", [404, 410, 500])
async def test_error_status_raises_with_status(
    upstream: Upstream, clock: FakeClock, status: int
) -> None:
    upstream.route("/gone/", text("no", status=status))
    async with Fetcher(make_policy(), clock=clock, sleep=clock.sleep) as fetcher:
        with pytest.raises(HTTPStatusError) as caught:
            await fetcher.get(upstream.url("/gone/"))
    assert (caught.value.status, caught.value.retry_after) == (status, None)


async def test_429_retry_after_seconds_cools_the_host_down(
    upstream: Upstream, clock: FakeClock
) -> None:
    upstream.route("/rss/", text("slow down", status=429, headers={"Retry-After": "120"}))
    upstream.route("/rss/sport/", text(FEED))
    observer = RecordingObserver()
    async with Fetcher(make_policy(respect_robots=False), clock=clock, sleep=clock.sleep,
                       observer=observer) as fetcher:
        with pytest.raises(HTTPStatusError) as first:
            await fetcher.get(upstream.url("/rss/"))
        until = clock.now + timedelta(seconds=120)
        assert (first.value.status, first.value.retry_after) == (429, until)
        assert observer.cool_downs == [(upstream.host, until)]

        with pytest.raises(HTTPStatusError) as refused:
            await fetcher.get(upstream.url("/rss/sport/"))
        assert (refused.value.status, refused.value.retry_after) == (429, until)
        assert upstream.hits == ["/rss/"]  # refused without a request

        clock.advance(120)  # the cool-down is over
        assert (await fetcher.get(upstream.url("/rss/sport/"))).status == 200


async def test_503_retry_after_http_date(upstream: Upstream, clock: FakeClock) -> None:
    when = clock.now + timedelta(hours=1, seconds=7)
    upstream.route(
        "/rss/",
        text("down", status=503, headers={"Retry-After": format_datetime(when, usegmt=True)}),
    )
    async with Fetcher(make_policy(), clock=clock, sleep=clock.sleep) as fetcher:
        with pytest.raises(HTTPStatusError) as caught:
            await fetcher.get(upstream.url("/rss/"))
    assert caught.value.status == 503
    assert caught.value.retry_after == when
    assert caught.value.retry_after.utcoffset() == timedelta(0)


async def test_retry_after_is_clipped_to_the_policy_cap(
    upstream: Upstream, clock: FakeClock
) -> None:
    upstream.route("/rss/", text("later", status=429, headers={"Retry-After": "99999999"}))
    async with Fetcher(
        make_policy(max_retry_after=timedelta(hours=1)), clock=clock, sleep=clock.sleep
    ) as fetcher:
        with pytest.raises(HTTPStatusError) as caught:
            await fetcher.get(upstream.url("/rss/"))
    assert caught.value.retry_after == clock.now + timedelta(hours=1)


async def test_other_hosts_are_not_held_by_a_cool_down(
    serve: object, upstream: Upstream, clock: FakeClock
) -> None:
    other = await serve(Upstream())  # type: ignore[operator]
    upstream.route("/rss/", text("no", status=503, headers={"Retry-After": "600"}))
    other.route("/rss/", text(FEED))
    async with Fetcher(make_policy(respect_robots=False), clock=clock, sleep=clock.sleep) as fetcher:
        with pytest.raises(HTTPStatusError):
            await fetcher.get(upstream.url("/rss/"))
        assert (await fetcher.get(other.url("/rss/"))).status == 200
    assert clock.sleeps == []
