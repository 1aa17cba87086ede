"""Polls give way to readers: the rests' arithmetic, and the whole path from a request
through the connection guard to a poll that rests between pages."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from contextlib import AsyncExitStack
from dataclasses import replace
from typing import Any

import aiohttp
import pytest

from feedsvc import pipeline
from feedsvc.metrics import Metrics
from feedsvc.pipeline import feeds
from feedsvc.readers import LONGEST_PAUSE, RECENT_SECONDS, ReadersFirst
from feedsvc.replica import ReplicaSite
from feedsvc.service import open_service
from feedsvc.web.server import http_server, listen
from tests.conftest import Clock, settings_for


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def paused_seconds(metrics: Metrics) -> float:
    return metrics.registry.get_sample_value("feedsvc_poll_paused_seconds_total") or 0.0


def test_a_poll_rests_only_while_requests_are_answered() -> None:
    ticks = Ticks()
    readers = ReadersFirst(0.25, Metrics(), clock=ticks)
    assert readers.pause_for(0.010) == 0.0, "no request yet: full speed"
    readers.request_seen()
    assert readers.pause_for(0.010) == pytest.approx(0.030), "a quarter of the time"
    ticks.now += RECENT_SECONDS / 2
    assert readers.pause_for(0.020) == pytest.approx(0.060)
    ticks.now += RECENT_SECONDS
    assert readers.pause_for(0.010) == 0.0, "the readers went quiet"
    readers.request_seen()
    assert readers.pause_for(10.0) == LONGEST_PAUSE, "one slow page never stalls the poll"
    assert readers.pause_for(0.0) == 0.0


def test_a_share_of_one_never_rests_and_a_share_out_of_range_is_refused() -> None:
    readers = ReadersFirst(1.0, Metrics())
    readers.request_seen()
    assert readers.pause_for(0.5) == 0.0
    for share in (0.0, -0.5, 1.5):
        with pytest.raises(ValueError, match="share"):
            ReadersFirst(share, Metrics())


async def test_until_quiet_waits_out_the_last_request() -> None:
    ticks = Ticks()
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        ticks.now += seconds
        if len(slept) == 1:
            readers.request_seen()  # another request while it waited: wait again

    readers = ReadersFirst(0.25, Metrics(), clock=ticks, sleep=sleep)
    await readers.until_quiet()
    assert slept == [], "no request yet: at once"
    readers.request_seen()
    ticks.now += 0.25
    await readers.until_quiet()
    assert slept == [pytest.approx(RECENT_SECONDS - 0.25), pytest.approx(RECENT_SECONDS)]
    assert ticks.now - 100.0 == pytest.approx(0.25 + RECENT_SECONDS - 0.25 + RECENT_SECONDS)


async def test_each_rest_is_slept_and_counted() -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    metrics = Metrics()
    readers = ReadersFirst(0.5, metrics, clock=Ticks(), sleep=sleep)
    await readers.pause_after(0.2)
    readers.request_seen()
    await readers.pause_after(0.2)
    await readers.pause_after(0.1)
    assert slept == [pytest.approx(0.2), pytest.approx(0.1)]
    assert paused_seconds(metrics) == pytest.approx(0.3)


async def poll_while(path: str | None, replica: ReplicaSite, tmp_path_factory: pytest.TempPathFactory,
                     clock: Clock) -> tuple[float, int]:
    """Serve behind ``http_server``, poll the replica once (with a client asking for
    ``path`` all along, if any); the seconds rested and the articles stored."""
    folder = tmp_path_factory.mktemp("served")
    settings = settings_for(replica.base_url, folder)
    async with AsyncExitStack() as stack:
        service = await stack.enter_async_context(
            open_service(settings, clock=clock, scheduling=False))
        sock = listen("127.0.0.1", 0)
        stack.callback(sock.close)
        await stack.enter_async_context(http_server(service, sock))
        http = await stack.enter_async_context(aiohttp.ClientSession())
        url = f"http://127.0.0.1:{sock.getsockname()[1]}{path}"
        answered = asyncio.Event()

        async def reader() -> None:
            while True:
                async with http.get(url) as response:
                    await response.read()
                answered.set()

        task = asyncio.create_task(reader()) if path is not None else None
        try:
            if task is not None:
                await answered.wait()  # the guard has seen a request before the poll starts
            report = await service.poller.poll(settings.sources[0])
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        assert service.readers is not None
        return paused_seconds(service.metrics), report.new


async def test_a_poll_beside_readers_rests_and_one_alone_or_probed_does_not(
        replica: ReplicaSite, tmp_path_factory: pytest.TempPathFactory, clock: Clock) -> None:
    alone, everything = await poll_while(None, replica, tmp_path_factory, clock)
    assert alone == 0 and everything > 30
    probed, stored = await poll_while("/healthz", replica, tmp_path_factory, clock)
    assert probed == 0 and stored == everything, "a health probe is nobody reading"
    rested, stored = await poll_while("/feeds/all.atom", replica, tmp_path_factory, clock)
    assert rested > 0, "it gave way to the reader"
    assert stored == everything, "and still stored every article"


async def test_a_poll_without_a_server_never_rests(replica: ReplicaSite, tmp_path_factory: pytest.TempPathFactory,
                                                  clock: Clock) -> None:
    settings = settings_for(replica.base_url, tmp_path_factory.mktemp("poll"))
    settings = replace(settings, scheduler=replace(settings.scheduler, share_while_serving=0.01))
    async with open_service(settings, clock=clock, serving=False, scheduling=False) as service:
        assert service.readers is None and service.pipeline.pause is None


async def test_feeds_and_pages_are_read_off_the_event_loop(
        replica: ReplicaSite, tmp_path_factory: pytest.TempPathFactory, clock: Clock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Parsing a feed of a thousand items, or a page, on the event loop would keep
    every request waiting: both run in worker threads."""
    on_the_loop: list[str] = []

    def watched(name: str, function: Any) -> Any:
        def run(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread() is threading.main_thread():
                on_the_loop.append(name)
            return function(*args, **kwargs)
        return run

    monkeypatch.setattr(feeds, "parse_rss", watched("feed", feeds.parse_rss))
    monkeypatch.setattr(pipeline, "_read_page", watched("page", pipeline._read_page))
    settings = settings_for(replica.base_url, tmp_path_factory.mktemp("poll"))
    async with open_service(settings, clock=clock, serving=False, scheduling=False) as service:
        report = await service.poller.poll(settings.sources[0])
    assert report.new > 0 and report.feeds_ok == 1
    assert on_the_loop == []
