"""Shared fixtures: the offline replica over loopback HTTP and feedsvc pointed at it."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from feedsvc.config import (
    FetchSettings,
    SchedulerSettings,
    ServerSettings,
    Settings,
    SourceSettings,
    StorageSettings,
)
from feedsvc.replica import ReplicaSite, serve_replica
from feedsvc.service import Service, open_service
from feedsvc.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_TOPICS = ROOT / "feedsvc" / "topics" / "shipped.toml"
# The replica's newest articles are from late November 2026; "now" sits just after them.
REPLICA_NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


class Clock:
    """A clock that starts at ``start``, runs with real time, and jumps when told to.

    Running with real time keeps the fetcher's pacing (which waits for the clock)
    working; ``advance`` lets a test skip over back-offs and intervals.
    """

    def __init__(self, start: datetime = REPLICA_NOW) -> None:
        self.start = start
        self.offset = timedelta(0)
        self._origin = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + self.offset + timedelta(seconds=time.monotonic() - self._origin)

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def replica(clock: Clock) -> AsyncIterator[ReplicaSite]:
    site = ReplicaSite(clock=clock)
    async with serve_replica(site):
        yield site


def republished_copies(site: ReplicaSite, links: Iterable[str]) -> set[int]:
    """Ids among ``links`` that republish another article also among them: dedupe folds
    each into its original, so they never become articles of their own."""
    listed = {int(found.group(1)) for link in links if (found := re.search(r"/(\d+)-", link))}
    return {i for i in listed if (a := site.article(i)) is not None and a.republish_of in listed}


def settings_for(base_url: str, tmp_path: Path, *, topics_file: Path = SHIPPED_TOPICS,
                 feeds: tuple[str, ...] = ("/rss/",), **source: object) -> Settings:
    """Settings polling ``base_url`` fast (no politeness delay: the peer is our replica)."""
    mirror = base_url.replace("127.0.0.1", "localhost")
    return Settings(
        config_path=tmp_path / "feedsvc.toml", topics_file=topics_file,
        # the tests' clients are on loopback: they read the full /healthz, as an operator
        server=ServerSettings(public_url="http://feeds.test", health_detail_loopback=True),
        storage=StorageSettings(url="sqlite:///" + str(tmp_path / "feedsvc.db")),
        # respect_robots stays on in the fetch tests; here the replica's Crawl-delay
        # would only slow every poll down
        fetch=replace(FetchSettings(), min_host_delay=0.0, connect_timeout=2.0, read_timeout=2.0,
                      total_timeout=5.0, respect_robots=False),
        scheduler=SchedulerSettings(tick=timedelta(seconds=1)),
        sources=(replace(SourceSettings(), base_url=base_url, feeds=feeds, mirror_hosts=(mirror,),
                         **source),),  # type: ignore[arg-type]
    )


@pytest.fixture
async def serve_feedsvc(clock: Clock) -> AsyncIterator[Callable[..., Any]]:
    """Start feedsvc (no scheduler: tests poll by hand) on loopback; yields a starter that
    returns the service, a client session and the base URL. Everything closes in reverse."""
    async with AsyncExitStack() as stack:

        async def start(settings: Settings, *, run_scheduler: bool = False
                        ) -> tuple[Service, aiohttp.ClientSession, str]:
            service = await stack.enter_async_context(
                open_service(settings, clock=clock, scheduling=run_scheduler))
            server = TestServer(create_app(service), host="127.0.0.1")
            await server.start_server()
            stack.push_async_callback(server.close)
            session = aiohttp.ClientSession(auto_decompress=True)
            stack.push_async_callback(session.close)
            return service, session, str(server.make_url("")).rstrip("/")

        yield start


class Hub:
    """A loopback hub that records publish notifications and answers ``status``."""

    def __init__(self) -> None:
        self.published: list[dict[str, str]] = []
        self.content_types: list[str] = []
        self.status = 204
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.content_types.append(request.content_type)
        self.published.append(dict(await request.post()))  # type: ignore[arg-type]
        return web.Response(status=self.status)


@pytest.fixture
async def hub() -> AsyncIterator[Hub]:
    recorder = Hub()
    app = web.Application()
    app.router.add_post("/hub", recorder.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    recorder.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hub"
    yield recorder
    await runner.cleanup()
