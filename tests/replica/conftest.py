"""The replica served on a free loopback port, with a clock that stands still until moved."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from feedsvc.replica import ReplicaSite, serve_replica

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
LAVROV_ID = 780269  # the reference article of rt-arabic-article-page.txt


class StoppedClock:
    """A test clock: reads the same time until a test moves it."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> StoppedClock:
    return StoppedClock()


@pytest.fixture
def site(clock: StoppedClock) -> ReplicaSite:
    return ReplicaSite(clock=clock)


@pytest.fixture
async def base_url(site: ReplicaSite) -> AsyncIterator[str]:
    async with serve_replica(site) as url:
        yield url


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    timeout = aiohttp.ClientTimeout(total=20)
    async with aiohttp.ClientSession(timeout=timeout, auto_decompress=False) as session:
        yield session


async def fetch(http: aiohttp.ClientSession, url: str, **kwargs: object) -> tuple[int, bytes]:
    async with http.get(url, **kwargs) as answer:  # type: ignore[arg-type]
        return answer.status, await answer.read()
