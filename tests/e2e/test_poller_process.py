"""``feedsvc serve`` with ``scheduler.poller_process``: a child polls, the server serves.

Real processes, a real SQLite file, the replica on loopback. The change catch-up is set
to an hour, so whatever reaches a feed within the tests came through the child's pipe.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import feedparser
import pytest
from prometheus_client.parser import text_string_to_metric_families

from feedsvc.replica import ReplicaSite
from tests.conftest import Hub
from tests.e2e.test_process import write_config
from tests.ops.test_metrics import Samples, value

pytestmark = [pytest.mark.slow, pytest.mark.dates]
POLLER_NICE = 7  # not the default: the child's priority comes from the setting
SOURCE = "rt-arabic"


class Server:
    """A ``feedsvc serve`` process and a client of it."""

    def __init__(self, process: asyncio.subprocess.Process, port: int,
                 session: aiohttp.ClientSession, hold: Any) -> None:
        self.process, self.port, self.session = process, port, session
        self.hold = hold  # the replica's feed waits until ``hold.released`` is set

    async def polling(self) -> int:
        """The child's pid, once it has started its poll (and lowered its priority)."""
        await until(self._asked_for_feed)
        return await self.poller_pid()

    async def _asked_for_feed(self) -> bool:
        return bool(self.hold.hits)

    async def get(self, path: str) -> tuple[int, bytes]:
        async with self.session.get(f"http://127.0.0.1:{self.port}{path}") as response:
            return response.status, await response.read()

    async def health(self) -> dict[str, Any]:
        async with self.session.get(f"http://127.0.0.1:{self.port}/healthz") as response:
            body: dict[str, Any] = await response.json()
            return body

    async def poller_pid(self, other_than: int | None = None, timeout: float = 30.0) -> int:
        """The child's pid, as /healthz says, once there is one (other than ``other_than``)."""
        async def found() -> int | None:
            pid = (await self.health())["replica"]["poller_pid"]
            return pid if pid not in (None, other_than) else None
        return await until(found, timeout)

    async def output(self) -> str:
        assert self.process.stdout is not None
        return (await self.process.stdout.read()).decode("utf-8", "replace")


async def until(probe: Any, timeout: float = 30.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        try:
            if (value := await probe()) not in (None, False):
                return value
        except aiohttp.ClientConnectionError:
            pass  # not listening yet
        await asyncio.sleep(0.05)
    raise AssertionError(f"not so after {timeout}s")


@pytest.fixture
async def server(replica: ReplicaSite, tmp_path: Path, unused_tcp_port: int, hub: Hub) -> Any:
    config = write_config(tmp_path, replica.base_url, unused_tcp_port,
                          server=f'health_detail_loopback = true\nhub_url = "{hub.url}"',
                          storage='catch_up = "1h"',
                          scheduler=f"poller_process = true\npoller_nice = {POLLER_NICE}")
    hold = replica.inject("hold", "/rss/", most=60)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "feedsvc", "serve", "--config", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    async with aiohttp.ClientSession() as session:
        running = Server(process, unused_tcp_port, session, hold)
        try:
            await until(lambda: running.get("/readyz"))
            yield running
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


def nice_of(pid: int) -> int:
    # /proc/<pid>/stat: the field after the parenthesised name; nice is the 19th field
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])


def session_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[3])


def ignores(pid: int, signum: int) -> bool:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigIgn:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    raise AssertionError(f"no SigIgn in /proc/{pid}/status")


def gone(pid: int) -> bool:
    """No such process, or a zombie waiting for whoever adopted it."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


async def test_the_child_polls_at_its_priority_and_the_server_serves_it(
        server: Server) -> None:
    child = await server.polling()
    assert nice_of(child) == max(POLLER_NICE, nice_of(server.process.pid))
    assert nice_of(server.process.pid) == os.getpriority(os.PRIO_PROCESS, 0)
    # in the server's session (with autogroup scheduling, a session of its own would
    # share the CPU with the server as an equal whatever its nice value)
    assert session_of(child) == session_of(server.process.pid)
    assert ignores(child, signal.SIGINT) and not ignores(server.process.pid, signal.SIGINT)
    # rendered while the child waits on the feed: empty, and cached
    status, empty = await server.get("/feeds/all.atom")
    assert status == 200 and feedparser.parse(empty).entries == []
    server.hold.released.set()
    await until(lambda: _polled(server))  # the poll has ended: every article is in
    stored = (await server.health())["sources"][0]["articles"]
    assert stored >= 30

    async def filled() -> list[Any] | None:
        # the last lines may still be on their way: the feed fills once they arrive
        entries = feedparser.parse((await server.get("/feeds/all.atom"))[1]).entries
        return entries if len(entries) >= min(stored, 30) else None
    entries = await until(filled)
    assert all(entry.title for entry in entries)


async def _polled(server: Server) -> bool:
    source = (await server.health())["sources"][0]
    return bool(source["last_success_at"]) and not source["polling"]


async def test_the_servers_metrics_and_the_hub_hear_of_the_childs_polls(
        server: Server, hub: Hub, replica: ReplicaSite) -> None:
    await server.polling()
    server.hold.released.set()
    await until(lambda: _polled(server))
    stored = (await server.health())["sources"][0]["articles"]

    async def counted() -> Samples | None:  # the child sends what moved every few seconds
        _, text = await server.get("/metrics")
        samples = {(s.name, frozenset(s.labels.items())): s.value
                   for family in text_string_to_metric_families(text.decode())
                   for s in family.samples}
        polled = value(samples, "feedsvc_polls_total", source=SOURCE, outcome="ok") == 1
        return samples if polled else None
    samples = await until(counted)
    assert value(samples, "feedsvc_articles_total", source=SOURCE, outcome="new") == stored
    host = replica.base_url.removeprefix("http://")
    assert value(samples, "feedsvc_upstream_requests_total", host=host, status="200") > stored
    assert value(samples, "feedsvc_poll_duration_seconds_count", source=SOURCE) == 1
    assert value(samples, "feedsvc_poller_process_up") == 1
    # the child announced its changes (the server only hears of them)
    all_feed = f"http://127.0.0.1:{server.port}/feeds/all"
    await until(lambda: _announced(hub, f"{all_feed}.atom"))
    await until(lambda: _announced(hub, f"{all_feed}.json"))
    assert all(p["hub.mode"] == "publish" for p in hub.published)


async def _announced(hub: Hub, url: str) -> bool:
    return any(p["hub.url"] == url for p in hub.published)


async def test_a_killed_child_is_started_again_and_the_server_says_so(server: Server) -> None:
    first = await server.polling()
    server.hold.released.set()
    await until(lambda: _polled(server))
    os.kill(first, signal.SIGKILL)
    second = await server.poller_pid(other_than=first)
    assert second != first and not gone(second)
    assert (await server.health())["status"] == "ok"
    _, metrics = await server.get("/metrics")
    assert b"feedsvc_poller_process_exits_total 1.0" in metrics
    assert b"feedsvc_poller_process_up 1.0" in metrics
    server.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(server.process.wait(), 30) == 0
    output = await server.output()
    assert "poller.exited" in output and "killed by SIGKILL" in output
    assert "Traceback" not in output
    assert gone(second)


async def test_sigterm_stops_server_and_child_cleanly(server: Server) -> None:
    child = await server.polling()
    server.hold.released.set()
    server.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(server.process.wait(), 30) == 0
    assert gone(child)
    output = await server.output()
    assert f"poller.stopped pid={child} status=0" in output and "Traceback" not in output


async def test_the_child_ends_by_itself_when_the_server_is_killed(server: Server) -> None:
    child = await server.polling()
    server.hold.released.set()
    server.process.send_signal(signal.SIGKILL)
    await server.process.wait()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    while not gone(child):
        assert loop.time() < deadline, "the polling child outlived its server"
        await asyncio.sleep(0.05)
