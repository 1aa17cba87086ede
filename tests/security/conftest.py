"""Fixtures of the security tests: the service as ``feedsvc serve`` runs it (behind
``http_server``, with the connection limits), and the replica polled once per module."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import aiohttp
import pytest

from feedsvc.config import Settings
from feedsvc.service import open_service
from feedsvc.web.server import http_server, listen
from tests.conftest import Clock
from tests.security.support import Started
from tests.web.conftest import polled  # noqa: F401  (the module's polled database, a fixture)


@pytest.fixture
async def serve_guarded(clock: Clock) -> AsyncIterator[Callable[[Settings], Awaitable[Started]]]:
    """Start the service behind ``http_server`` on a free loopback port (no scheduler)."""
    async with AsyncExitStack() as stack:

        async def start(settings: Settings) -> Started:
            service = await stack.enter_async_context(
                open_service(settings, clock=clock, scheduling=False))
            sock = listen("127.0.0.1", 0)
            stack.callback(sock.close)
            port = sock.getsockname()[1]
            await stack.enter_async_context(http_server(service, sock))
            # no keep-alive: each request its own connection, so the test's own requests
            # never hold one of the places they are counting
            http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True))
            stack.push_async_callback(http.close)
            return service, http, f"http://127.0.0.1:{port}"

        yield start
