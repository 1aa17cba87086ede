"""Fixtures: start upstreams on loopback for one test, and a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from tests.fetch.upstream import FakeClock, Upstream


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Upstream], Awaitable[Upstream]]]:
    runners: list[web.AppRunner] = []

    async def start(upstream: Upstream) -> Upstream:
        runner = web.AppRunner(upstream.app, handler_cancellation=True, shutdown_timeout=0.2)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        upstream.host = f"127.0.0.1:{port}"
        upstream.base = f"http://{upstream.host}"
        return upstream

    yield start
    for runner in reversed(runners):
        await runner.cleanup()


@pytest.fixture
async def upstream(serve: Callable[[Upstream], Awaitable[Upstream]]) -> Upstream:
    return await serve(Upstream())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
