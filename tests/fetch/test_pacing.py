"""Per-host concurrency and spacing; other hosts are never held up."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from feedsvc.fetch import Fetcher
from tests.fetch.upstream import FakeClock, Upstream, make_policy, text

Serve = Callable[[Upstream], Awaitable[Upstream]]


async def test_never_more_than_two_in_flight(upstream: Upstream, clock: FakeClock) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.05)
        return web.Response(text="page")

    upstream.route("/page", slow)
    async with Fetcher(make_policy(respect_robots=False), clock=clock, sleep=clock.sleep) as fetcher:
        results = await asyncio.gather(*(fetcher.get(upstream.url("/page")) for _ in range(8)))
    assert [r.status for r in results] == [200] * 8
    assert upstream.max_in_flight == 2


async def test_concurrency_limit_is_configurable(upstream: Upstream, clock: FakeClock) -> None:
    async def slow(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.05)
        return web.Response(text="page")

    upstream.route("/page", slow)
    policy = make_policy(respect_robots=False, per_host_concurrency=1)
    async with Fetcher(policy, clock=clock, sleep=clock.sleep) as fetcher:
        await asyncio.gather(*(fetcher.get(upstream.url("/page")) for _ in range(4)))
    assert upstream.max_in_flight == 1


async def test_min_delay_between_requests_to_a_host(upstream: Upstream, clock: FakeClock) -> None:
    upstream.route("/page", text("page"))
    async with Fetcher(make_policy(respect_robots=False), clock=clock, sleep=clock.sleep) as fetcher:
        for _ in range(3):
            await fetcher.get(upstream.url("/page"))
        clock.advance(5)
        await fetcher.get(upstream.url("/page"))  # long after the last one: no wait
    assert clock.sleeps == [1.0, 1.0]


async def test_concurrent_requests_queue_one_delay_apart(
    upstream: Upstream, clock: FakeClock
) -> None:
    upstream.route("/page", text("page"))
    policy = make_policy(respect_robots=False, min_host_delay=2.0)
    async with Fetcher(policy, clock=clock, sleep=clock.sleep) as fetcher:
        await asyncio.gather(*(fetcher.get(upstream.url("/page")) for _ in range(3)))
    # starts at t, t+2 and t+4, however the three are interleaved
    assert sum(clock.sleeps) == 4.0 and len(upstream.hits) == 3


async def test_a_second_host_is_not_delayed(
    serve: Serve, upstream: Upstream, clock: FakeClock
) -> None:
    other = await serve(Upstream())
    upstream.route("/page", text("a"))
    other.route("/page", text("b"))
    async with Fetcher(make_policy(respect_robots=False), clock=clock, sleep=clock.sleep) as fetcher:
        await fetcher.get(upstream.url("/page"))
        await fetcher.get(other.url("/page"))
        assert clock.sleeps == []
        await fetcher.get(upstream.url("/page"))
    assert clock.sleeps == [1.0]


async def test_a_clock_that_stands_still_never_stretches_the_wait(upstream: Upstream) -> None:
    frozen = FakeClock()
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # time passes, the clock does not show it
        waits.append(seconds)

    upstream.route("/page", text("page"))
    async with Fetcher(make_policy(respect_robots=False), clock=frozen, sleep=sleep) as fetcher:
        for _ in range(4):
            await fetcher.get(upstream.url("/page"))
    assert waits == [1.0, 1.0, 1.0]


async def test_a_clock_stepping_back_never_stretches_the_wait(
    upstream: Upstream, clock: FakeClock
) -> None:
    upstream.route("/page", text("page"))
    async with Fetcher(make_policy(respect_robots=False), clock=clock, sleep=clock.sleep) as fetcher:
        await fetcher.get(upstream.url("/page"))
        clock.advance(-3600)
        await fetcher.get(upstream.url("/page"))
    assert clock.sleeps == [1.0]
