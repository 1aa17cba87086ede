"""Outbound requests go only where the settings say: the sources and the WebSub hub.

Found: the WebSub client followed a 307 from the hub to an address nobody configured.
Here a canary server on loopback, configured nowhere, is the target of every redirect
the site and the hub can give: feed, article pages, robots.txt and the hub's answer to
a ping. It must never be asked anything. And no module outside the fetch stage (and
the store's own driver) opens an outbound connection, so nothing bypasses the
allow-list.
"""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from feedsvc.replica import ReplicaSite
from tests.conftest import ROOT, settings_for
from tests.ops.test_metrics import scrape, value

# Calls that open a connection to somewhere, by the last part of their name.
CONNECTING = {"ClientSession", "TCPConnector", "aiohttp.request", "open_connection",
              "create_connection", "sock_connect", "urlopen", "HTTPConnection",
              "HTTPSConnection", "connect", "create_pool"}
# Where they may be: the fetch stage (behind the allow-list) and the store drivers, to
# storage.url (the operator's database) or the stores `feedsvc migrate` is given.
ALLOWED = {
    "feedsvc/fetch/client.py": {"ClientSession", "TCPConnector"},
    "feedsvc/store/postgres/connection.py": {"create_pool"},
    "feedsvc/store/postgres/notify.py": {"connect"},  # LISTEN on storage.url
    "feedsvc/store/sqlite/connection.py": {"connect"},  # aiosqlite.connect: a local file
    "feedsvc/store/transfer.py": {"connect"},  # feedsvc migrate --from FILE --to URL
}


class Canary:
    """A server nobody configured: it records whatever reaches it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(f"{request.method} {request.path_qs}")
        return web.Response(text="nobody should be here\n")


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@pytest.fixture
async def canary() -> AsyncIterator[Canary]:
    recorder = Canary()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", recorder.handle)
    runner, recorder.url = await _serve(app)
    yield recorder
    await runner.cleanup()


@pytest.fixture
async def redirecting_hub(canary: Canary) -> AsyncIterator[str]:
    """A WebSub hub that answers every ping with a 307 to the canary."""
    pings: list[str] = []

    async def ping(request: web.Request) -> web.Response:
        pings.append(request.path)
        return web.Response(status=307, headers={"Location": canary.url + "/hub"})

    app = web.Application()
    app.router.add_post("/hub", ping)
    runner, base = await _serve(app)
    yield base + "/hub"
    assert pings, "the hub was pinged"
    await runner.cleanup()


async def test_a_hub_redirecting_to_an_address_nobody_configured_is_not_followed(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, canary: Canary,
        redirecting_hub: str) -> None:
    settings = settings_for(replica.base_url, tmp_path)
    settings = replace(settings, server=replace(settings.server, hub_url=redirecting_hub))
    service, http, base = await serve_feedsvc(settings)
    report = await service.poller.poll(settings.sources[0])
    assert report.changed_topics
    assert service.hub is not None
    await service.hub.drain(10)
    samples = await scrape(http, base)
    assert value(samples, "feedsvc_websub_pings_total", outcome="failed") > 0
    assert value(samples, "feedsvc_websub_pings_total", outcome="ok") == 0
    assert canary.requests == []


async def test_no_redirect_of_the_site_leads_a_request_elsewhere(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, canary: Canary) -> None:
    settings = settings_for(replica.base_url, tmp_path)
    service, http, base = await serve_feedsvc(settings)
    source = settings.sources[0]

    replica.inject("redirect", "/*/*-*", location=canary.url + "/page", status=302)
    report = await service.poller.poll(source)  # the feed reads; every page redirects away
    assert report.items > 0 and report.page_errors > 0
    replica.clear_faults()

    replica.inject("redirect", "/rss*", location=canary.url + "/rss/", status=301)
    state = await service.store.get_poll_state(source.name)
    await service.store.save_poll_state(replace(state, next_poll_at=None))
    report = await service.poller.poll(source)
    assert report.failed and "not configured" in (report.error or "")
    replica.clear_faults()

    robots = replace(source, base_url=replica.base_url)
    polite = replace(settings, fetch=replace(settings.fetch, respect_robots=True),
                     storage=replace(settings.storage, url=f"sqlite:///{tmp_path / 'polite.db'}"),
                     sources=(robots,))
    polite_service, _, _ = await serve_feedsvc(polite)
    replica.inject("redirect", "/robots.txt", location=canary.url + "/robots.txt", status=302)
    report = await polite_service.poller.poll(robots)
    assert report.failed and "robots.txt could not be read" in (report.error or "")

    assert canary.requests == []


def _connecting_calls(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute):
            owner = func.value.id if isinstance(func.value, ast.Name) else ""
            names = {func.attr, f"{owner}.{func.attr}"}
        else:
            names = {func.id} if isinstance(func, ast.Name) else set()
        found |= names & CONNECTING
    return found


def test_only_the_fetch_stage_and_the_store_drivers_open_connections() -> None:
    package = ROOT / "feedsvc"
    calls = {str(path.relative_to(ROOT)): names for path in sorted(package.rglob("*.py"))
             if not path.is_relative_to(package / "replica")  # serves, never calls out
             and (names := _connecting_calls(path))}
    unexpected = {path: names - ALLOWED.get(path, set()) for path, names in calls.items()
                  if names - ALLOWED.get(path, set())}
    assert unexpected == {}, "an outbound connection outside the fetch stage's allow-list"
    assert calls["feedsvc/fetch/client.py"] == {"ClientSession", "TCPConnector"}
