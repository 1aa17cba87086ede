"""A property of the change log, on every backend: a consumer that follows it, a page at
a time, through any mix of writes, restarts and expiry, holds exactly what the feeds
list. Positions that expiry overtook are refused, and the consumer starts again from
the feed and the head, as ``docs/api.md`` tells clients to.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedsvc.models import UPSERT, Article
from feedsvc.store import ALL_TOPIC, Store, store_for_url
from tests.factories import T0, make_article
from tests.store.support import open_store

TOPICS = ("a", "b", "c")
FEEDS = (ALL_TOPIC, *TOPICS)
ARTICLES = range(1, 6)  # few, so that operations meet on the same articles
WINDOW, RETENTION = timedelta(days=2), timedelta(days=5)

article_n = st.sampled_from(ARTICLES)
topic_set = st.frozensets(st.sampled_from(TOPICS))
save = st.tuples(st.just("save"), article_n, topic_set, st.integers(0, 2))
operation = st.one_of(
    save, save, save,  # the common write, three times as likely
    st.tuples(st.just("retract"), article_n),
    st.tuples(st.just("absorb"), article_n, article_n).filter(lambda op: op[1] != op[2]),
    st.tuples(st.just("members"), st.sampled_from(TOPICS), st.frozensets(article_n)),
    st.tuples(st.just("drop"), st.sampled_from(TOPICS)),
    st.tuples(st.just("expire"), st.integers(1, 3)),
    st.tuples(st.just("read"), st.sampled_from(FEEDS), st.integers(1, 4)),
    st.tuples(st.just("restart"),),
)


@dataclass
class Mirror:
    """One consumer of one feed: its copy (article id → content hash) and position."""

    topic: str
    position: int = 0
    copy: dict[str, str] = field(default_factory=dict)
    resyncs: int = 0

    async def resync(self, store: Store) -> None:
        """Read the feed once, and go on from the head (what a 410 tells a client)."""
        self.position = (await store.read_changes(self.topic, 0, 0)).head
        self.copy = {a.id: a.content_hash for a in await feed(store, self.topic)}
        self.resyncs += 1

    async def read(self, store: Store, limit: int) -> int:
        page = await store.read_changes(self.topic, self.position, limit)
        if self.position < page.horizon:
            await self.resync(store)
            return 0
        for change in page.changes:
            assert change.seq > self.position, "commit order, nothing twice"
            if change.op == UPSERT:
                assert change.article is not None
                assert self.topic == ALL_TOPIC or self.topic in change.topics
                self.copy[change.article_id] = change.article.content_hash
            else:
                self.copy.pop(change.article_id, None)
            self.position = change.seq
        return len(page.changes)


async def feed(store: Store, topic: str) -> list[Article]:
    return await store.topic_page(topic, limit=1000)


def version(n: int, variant: int) -> Article:
    article = make_article(n)
    digest = hashlib.blake2b(f"{n}/{variant}".encode(), digest_size=8).hexdigest()
    return replace(article, title=f"{article.title} ({variant})", content_hash=digest)


@dataclass
class World:
    store: Store
    url: str
    mirrors: dict[str, Mirror]
    absorbed: set[str] = field(default_factory=set)
    now: Any = T0

    async def apply(self, op: tuple[Any, ...]) -> None:
        self.now += timedelta(minutes=7)
        kind, *args = op
        if kind == "save":
            n, topics, variant = args
            article = replace(version(n, variant), updated=self.now)
            if article.id not in self.absorbed:
                restore = await self.store.is_tombstoned(article.id)
                await self.store.save_article(article, topics, now=self.now, restore=restore)
        elif kind == "retract":
            await self.store.retract_article(make_article(args[0]).id, now=self.now)
        elif kind == "absorb":
            survivor, copy = (make_article(n).id for n in args)
            live = {a.id for a in await feed(self.store, ALL_TOPIC)}
            if survivor != copy and {survivor, copy} <= live:
                await self.store.absorb(survivor, copy, now=self.now)
                self.absorbed.add(copy)
        elif kind == "members":
            topic, numbers = args
            await self.store.set_topic_members(
                {topic: [make_article(n).id for n in numbers]}, {topic: str(numbers)}, now=self.now)
        elif kind == "drop":
            await self.store.drop_topic(args[0], now=self.now)
        elif kind == "expire":
            self.now += timedelta(days=args[0])
            await self.store.expire_changes(unlist_before=self.now - WINDOW,
                                            drop_before=self.now - RETENTION, now=self.now)
        elif kind == "read":
            await self.mirrors[args[0]].read(self.store, args[1])
        else:  # restart: everything the consumer knows is its position
            await self.store.close()
            self.store = store_for_url(self.url)
            await self.store.open()

    async def settle(self) -> None:
        """Every consumer reads to the end; each copy must equal its feed."""
        for topic, mirror in self.mirrors.items():
            while await mirror.read(self.store, 3):
                pass
            expected = {a.id: a.content_hash for a in await feed(self.store, topic)}
            assert mirror.copy == expected, topic
            listed = {d.article_id for d in await self.store.deleted_entries(topic, 1000)}
            assert not listed & set(expected), "a feed never lists an entry it holds as deleted"


async def run(url: str, operations: list[tuple[Any, ...]]) -> None:
    store = await open_store(url)
    world = World(store, url, {topic: Mirror(topic) for topic in FEEDS})
    try:
        for mirror in world.mirrors.values():
            await mirror.resync(world.store)  # a consumer starts with the feed and the head
        for op in operations:
            await world.apply(op)
        await world.settle()
    finally:
        await world.store.close()


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=10, max_size=40))
def test_a_consumer_following_the_log_holds_exactly_the_feed(
        store_url: str, tmp_path: Path, operations: list[tuple[Any, ...]]) -> None:
    url = store_url
    if url.startswith("sqlite:///"):  # a fresh file for each example
        url = "sqlite:///" + str(tmp_path / f"{uuid.uuid4().hex}.db")
    asyncio.run(run(url, operations))
