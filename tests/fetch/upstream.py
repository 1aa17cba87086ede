"""Test doubles at the edges: an upstream over real HTTP on loopback, a clock, a DNS."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from feedsvc.fetch import FetchPolicy

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


class FakeClock:
    """``now`` stands still until ``sleep`` is asked to wait; every wait is recorded."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Upstream:
    """One test server: routes added per test, every request recorded."""

    def __init__(self) -> None:
        self.app = web.Application(middlewares=[self._count])
        self.app.router.add_get("/{path:.*}", self._dispatch)
        self.routes: dict[str, Handler] = {}
        self.hits: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.base = ""
        self.host = ""

    def route(self, path: str, handler: Handler) -> None:
        self.routes[path] = handler

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        handler = self.routes.get(request.path)
        if handler is None:
            raise web.HTTPNotFound()
        return await handler(request)

    def url(self, path: str) -> str:
        return self.base + path

    @web.middleware
    async def _count(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.hits.append(request.path_qs)
        self.headers.append(dict(request.headers))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await handler(request)
        finally:
            self.in_flight -= 1


class RecordingObserver:
    """A FetchObserver that keeps what it hears."""

    def __init__(self) -> None:
        self.responses: list[tuple[str, int]] = []
        self.errors: list[tuple[str, str]] = []
        self.cool_downs: list[tuple[str, datetime]] = []

    def on_response(self, host: str, status: int, seconds: float) -> None:
        self.responses.append((host, status))

    def on_error(self, host: str, kind: str, seconds: float) -> None:
        self.errors.append((host, kind))

    def on_cool_down(self, host: str, until: datetime) -> None:
        self.cool_downs.append((host, until))


def make_policy(**overrides: object) -> FetchPolicy:
    """Short timeouts so failing cases end in well under a second."""
    base = FetchPolicy(
        contact_url="https://example.org/feedsvc",
        connect_timeout=0.5,
        read_timeout=0.3,
        total_timeout=0.5,
        allowed_hosts=("127.0.0.1",),
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


class StaticResolver(AbstractResolver):
    """DNS stand-in: fixed answers for made-up names."""

    def __init__(self, answers: dict[str, str]) -> None:
        self.answers = answers

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        address = self.answers[host.rstrip(".")]
        return [
            ResolveResult(
                hostname=host, host=address, port=port, family=socket.AF_INET, proto=0, flags=0
            )
        ]

    async def close(self) -> None:
        return None


def text(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(text=body, status=status, headers=headers)

    return handler
