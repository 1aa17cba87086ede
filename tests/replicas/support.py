"""What the replica tests share: settings on one store, waiting, and comparing what
several services send for every feed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from feedsvc.config import Settings, StorageSettings
from tests.conftest import settings_for

SOURCE = "rt-arabic"
# Every representation of a topic, by the path under the service's base URL.
DOCUMENTS = ("/feeds/{slug}.atom", "/feeds/{slug}.json", "/topics/{slug}")
Representation = tuple[int, str, str, bytes]  # status, ETag, Last-Modified, body


def shared_settings(base_url: str, tmp_path: Path, storage_url: str, *,
                    catch_up: timedelta = timedelta(hours=1), **source: Any) -> Settings:
    """Settings on ``storage_url``; the catch-up read is an hour away unless a test wants it,
    so whatever converges sooner came through a notification."""
    settings = settings_for(base_url, tmp_path, **source)
    return replace(settings, storage=StorageSettings(url=storage_url, catch_up=catch_up))


async def eventually(check: Callable[[], Awaitable[bool]], within: float,
                     what: str = "the condition") -> float:
    """Wait until ``check`` passes; the seconds it took. Fails after ``within``."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not await check():
        if loop.time() - start > within:
            raise AssertionError(f"{what} did not hold within {within}s")
        await asyncio.sleep(0.1)
    return loop.time() - start


async def representation(http: Any, url: str) -> Representation:
    async with http.get(url, headers={"Accept-Encoding": "identity"}) as response:
        return (response.status, response.headers.get("ETag", ""),
                response.headers.get("Last-Modified", ""), await response.read())


async def every_representation(http: Any, base: str, slugs: Sequence[str]
                               ) -> dict[str, Representation]:
    return {path: await representation(http, base + path)
            for slug in slugs for path in (d.format(slug=slug) for d in DOCUMENTS)}


async def differences(http: Any, bases: Sequence[str], slugs: Sequence[str]) -> list[str]:
    """The documents whose status, ETag, Last-Modified or bytes differ between services."""
    seen = [await every_representation(http, base, slugs) for base in bases]
    return [path for path in seen[0] if any(other[path] != seen[0][path] for other in seen[1:])]
