"""Fixtures of the web tests: one poll of the replica per module, served from copies.

Polling is the slow part, so a module polls the replica once into a database file
(:func:`polled_db`) and each test serves its own copy of that file. Tests that need
the replica alive (new articles between page fetches) poll it themselves.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from feedsvc.config import Settings
from feedsvc.replica import ReplicaSite, serve_replica
from feedsvc.service import Service, open_service
from tests.conftest import Clock, settings_for


def fast(settings: Settings, **server: Any) -> Settings:
    """No robots.txt Crawl-delay (the peer is our replica); server settings overridden."""
    return replace(settings, fetch=replace(settings.fetch, respect_robots=False),
                   server=replace(settings.server, **server))


def web_settings(base_url: str, folder: Path, **server: Any) -> Settings:
    return fast(settings_for(base_url, folder), **server)


async def poll_into(folder: Path) -> int:
    """Poll a fresh replica once into ``folder/feedsvc.db``; returns the articles stored."""
    clock = Clock()
    site = ReplicaSite(clock=clock)
    async with serve_replica(site):
        settings = web_settings(site.base_url, folder)
        async with open_service(settings, clock=clock, serving=False, scheduling=False) as service:
            report = await service.poller.poll(settings.sources[0])
        assert not report.failed and report.page_errors == 0, report
        return report.new


@dataclass(frozen=True, slots=True)
class Polled:
    folder: Path
    articles: int

    def copy_to(self, folder: Path) -> None:
        for path in self.folder.glob("feedsvc.db*"):
            shutil.copy(path, folder / path.name)


@pytest.fixture(scope="module")
def polled(tmp_path_factory: pytest.TempPathFactory) -> Polled:
    """The replica, polled once for the whole module (the database file, closed)."""
    folder = tmp_path_factory.mktemp("polled")
    articles = asyncio.run(poll_into(folder))
    return Polled(folder, articles)


Served = tuple[Service, aiohttp.ClientSession, str]


@pytest.fixture
async def served(polled: Polled, serve_feedsvc: Any, tmp_path: Path
                 ) -> Callable[..., Any]:
    """Start feedsvc on a copy of the polled database; keyword arguments set server settings."""

    async def start(**server: Any) -> Served:
        polled.copy_to(tmp_path)
        settings = web_settings("http://127.0.0.1:9", tmp_path, **server)
        started: Served = await serve_feedsvc(settings)
        return started

    return start
