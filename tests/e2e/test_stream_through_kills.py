"""A consumer of ``/api/changes`` through kills, restarts and polls ends with exactly the
items the feeds show: a property test over random operations on the replica.

Each example is a fresh replica and store. The operations: the site publishes, edits
(some edits move an article out of its topics) and retracts; ``feedsvc poll`` runs as
a process to the end, or is killed with SIGKILL mid-poll; the serving process is
restarted (the consumer keeps only its token); the consumer reads a page of a few
changes. At the end a last poll completes, the consumer reads to the end, and its
copy of ``all`` must be the ``all`` feed, item for item, and its copy of a topic that
topic's members.
"""

from __future__ import annotations

import asyncio
import signal
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedsvc.config import load_settings
from feedsvc.replica import ReplicaSite, serve_replica
from feedsvc.service import Service, open_service
from feedsvc.web.app import create_app
from tests.conftest import Clock
from tests.e2e.test_process import ARTICLE_PAGES, start, wait_for_rows, write_config

pytestmark = [pytest.mark.slow, pytest.mark.dates]
TOPIC = "ukraine-war"

operation = st.one_of(
    st.tuples(st.just("publish")),
    st.tuples(st.just("edit"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("retract"), st.integers(0, 20)),
    st.tuples(st.just("poll")),
    st.tuples(st.just("kill"), st.integers(1, 12)),
    st.tuples(st.just("restart")),
    st.tuples(st.just("read"), st.sampled_from(["all", TOPIC]), st.integers(1, 9)),
)


@dataclass
class Consumer:
    """A copy of one feed kept from the stream alone: item id → item."""

    topic: str
    token: str | None = None
    items: dict[str, dict[str, Any]] = field(default_factory=dict)

    async def read(self, http: aiohttp.ClientSession, base: str, limit: int) -> int:
        params = {"topic": self.topic, "limit": str(limit)}
        if self.token is not None:
            params["since"] = self.token
        async with http.get(f"{base}/api/changes", params=params) as response:
            assert response.status == 200, await response.text()
            body = orjson.loads(await response.read())
        for change in body["changes"]:
            if change["op"] == "upsert":
                self.items[change["id"]] = change["item"]
            else:
                self.items.pop(change["id"], None)
        self.token = body["next"]
        return len(body["changes"])


class Run:
    """The serving process (restartable), the poll processes and the consumers."""

    def __init__(self, replica: ReplicaSite, config: Path) -> None:
        self.replica, self.config = replica, config
        self.settings = load_settings(config)
        self.stack = AsyncExitStack()
        self.service: Service | None = None
        self.base = ""
        self.http: aiohttp.ClientSession | None = None
        self.consumers = {slug: Consumer(slug) for slug in ("all", TOPIC)}

    async def serve(self) -> None:
        self.stack = AsyncExitStack()
        self.service = await self.stack.enter_async_context(
            open_service(self.settings, scheduling=False))
        server = TestServer(create_app(self.service), host="127.0.0.1")
        await server.start_server()
        self.stack.push_async_callback(server.close)
        self.http = aiohttp.ClientSession()
        self.stack.push_async_callback(self.http.close)
        self.base = str(server.make_url("")).rstrip("/")

    async def poll(self) -> None:
        process = await start("poll", "--config", str(self.config))
        output, _ = await process.communicate()
        assert process.returncode == 0, output.decode()

    async def kill_mid_poll(self, after_rows: int) -> None:
        self.replica.inject("slow", ARTICLE_PAGES, delay=0.05)
        process = await start("poll", "--config", str(self.config))
        try:
            await wait_for_rows(self.config.parent / "feedsvc.db", at_least=after_rows,
                                timeout=20)
        except AssertionError:
            pass  # the poll had less to store: it is killed wherever it is
        process.send_signal(signal.SIGKILL)
        await process.wait()
        self.replica.clear_faults()

    async def apply(self, op: tuple[Any, ...]) -> None:
        kind, *args = op
        newest = self.replica.newest()
        if kind == "publish":
            self.replica.publish_next()
        elif kind == "edit":
            article = newest[args[0] % len(newest)]
            title = "حالة الطقس في موسكو" if args[1] else article.title + " (محدث)"
            self.replica.edit(article.id, title=title)
        elif kind == "retract":
            self.replica.retract(newest[args[0] % len(newest)].id)
        elif kind == "poll":
            await self.poll()
        elif kind == "kill":
            await self.kill_mid_poll(args[0])
        elif kind == "restart":
            await self.stack.aclose()
            await self.serve()
        else:
            assert self.http is not None
            await self.consumers[args[0]].read(self.http, self.base, args[1])

    async def check(self) -> None:
        """A last full poll, a fresh serving process, every consumer to the end."""
        await self.poll()
        await self.stack.aclose()
        await self.serve()
        assert self.http is not None and self.service is not None
        for consumer in self.consumers.values():
            while await consumer.read(self.http, self.base, 50):
                pass
        async with self.http.get(f"{self.base}/feeds/all.json?limit=200") as response:
            feed = orjson.loads(await response.read())
        assert len(feed["items"]) < 200, "the whole feed on one page"
        assert self.consumers["all"].items == {item["id"]: item for item in feed["items"]}
        members = await self.service.store.topic_page(TOPIC, limit=1000)
        assert {native(i) for i in self.consumers[TOPIC].items} == {a.id for a in members}


def native(entry_id: str) -> str:
    return entry_id.rsplit("/", 1)[-1]


async def run(tmp_path: Path, port: int, operations: list[tuple[Any, ...]]) -> None:
    replica = ReplicaSite(clock=Clock())
    async with serve_replica(replica):
        config = write_config(tmp_path, replica.base_url, port)
        world = Run(replica, config)
        await world.serve()
        try:
            for consumer in world.consumers.values():  # consumers start at the head
                assert world.http is not None
                await consumer.read(world.http, world.base, 1)
            for op in operations:
                await world.apply(op)
            await world.check()
        finally:
            await world.stack.aclose()


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(operations=st.lists(operation, min_size=4, max_size=9))
def test_a_consumer_through_kills_and_restarts_holds_exactly_the_feed(
        tmp_path_factory: pytest.TempPathFactory, unused_tcp_port: int,
        operations: list[tuple[Any, ...]]) -> None:
    folder = tmp_path_factory.mktemp("stream")
    # every example starts with the site's first sync killed partway: the hardest start
    asyncio.run(run(folder, unused_tcp_port, [("kill", 15), *operations]))
