"""The topics watch cannot die, sees every change of content, and waits for a whole file.

Found: a reload that raised anything but a config error (a RecursionError on deeply
nested TOML) ended the watch without a line; /healthz kept saying ok and every later
edit was ignored until SIGHUP. A new content with the old modification time (a link
swapped with ``touch -r``) was never seen. A half-written file that happened to be
valid TOML was applied at once and removed three topics (410).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from feedsvc.service import Service
from tests.conftest import SHIPPED_TOPICS
from tests.security.support import eventually, polled_settings
from tests.web.conftest import Polled

LAVROV = '''
[[topics]]
slug = "lavrov"
title = "لافروف"
description = "كل ما يقوله وزير الخارجية الروسي"
query = "لافروف"
'''


class Events(logging.Handler):
    """The topics' log events as they happen; ``seen`` is set by the awaited one."""

    def __init__(self, awaited: str) -> None:
        super().__init__(logging.DEBUG)
        self.awaited = awaited
        self.seen = asyncio.Event()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        if record.getMessage().startswith(self.awaited):
            self.seen.set()


@pytest.fixture
def topic_events() -> Iterator[Any]:
    logger = logging.getLogger("feedsvc.topics")
    handlers: list[Events] = []
    level = logger.level

    def listen(awaited: str) -> Events:
        handler = Events(awaited)
        logger.addHandler(handler)
        handlers.append(handler)
        return handler

    logger.setLevel(logging.DEBUG)
    yield listen
    logger.setLevel(level)
    for handler in handlers:
        logger.removeHandler(handler)


async def start(polled: Polled, serve_feedsvc: Any, tmp_path: Path, topics_file: Path
                ) -> tuple[Service, Any, str]:
    settings = replace(polled_settings(polled, tmp_path), topics_file=topics_file)
    started: tuple[Service, Any, str] = await serve_feedsvc(settings)
    return started


async def served(http: Any, url: str) -> int:
    async with http.get(url) as response:
        await response.read()
        return int(response.status)


async def health(http: Any, base: str) -> Any:
    async with http.get(f"{base}/healthz") as response:
        return orjson.loads(await response.read())


def write_topics(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


async def test_a_reload_that_fails_in_the_store_is_reported_and_the_watch_goes_on(
        polled: Polled, serve_feedsvc: Any, tmp_path: Path) -> None:
    topics_file = tmp_path / "topics.toml"
    write_topics(topics_file, SHIPPED_TOPICS.read_text(encoding="utf-8"))
    service, http, base = await start(polled, serve_feedsvc, tmp_path, topics_file)
    # another process holds the database's write lock: the backfill's write fails
    # (after SQLite's 5 s busy timeout) with something that is not a config error
    blocker = sqlite3.connect(tmp_path / "feedsvc.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        write_topics(topics_file, SHIPPED_TOPICS.read_text(encoding="utf-8") + LAVROV)

        async def reported() -> bool:
            return (await health(http, base))["status"] == "degraded"

        await eventually(reported)
        assert (service.topics.error or "").startswith("store: ")
        assert "lavrov" not in service.topics.topics
        assert await served(http, f"{base}/feeds/lavrov.atom") == 404
        assert await served(http, f"{base}/feeds/gaza.atom") == 200, "the topics in force serve"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()

    # the watch goes on: once the store answers, the same file is applied
    async def applied() -> bool:
        return await served(http, f"{base}/feeds/lavrov.atom") == 200

    await eventually(applied)
    assert (await health(http, base))["status"] == "ok"
    write_topics(topics_file, SHIPPED_TOPICS.read_text(encoding="utf-8"))  # and the next edit

    async def removed() -> bool:
        return await served(http, f"{base}/feeds/lavrov.atom") == 410

    await eventually(removed)


async def test_a_deeply_nested_file_is_rejected_and_the_watch_goes_on(
        polled: Polled, serve_feedsvc: Any, tmp_path: Path) -> None:
    topics_file = tmp_path / "topics.toml"
    write_topics(topics_file, SHIPPED_TOPICS.read_text(encoding="utf-8"))
    service, http, base = await start(polled, serve_feedsvc, tmp_path, topics_file)
    write_topics(topics_file, "[[topics]]\nsections = " + "[" * 100_000 + "]" * 100_000 + "\n")

    async def rejected() -> bool:
        return (await health(http, base))["status"] == "degraded"

    await eventually(rejected)
    assert await served(http, f"{base}/feeds/gaza.atom") == 200, "the last good topics serve"
    write_topics(topics_file, SHIPPED_TOPICS.read_text(encoding="utf-8") + LAVROV)

    async def applied() -> bool:
        return await served(http, f"{base}/feeds/lavrov.atom") == 200

    await eventually(applied)
    assert service.topics.error is None


async def test_new_content_with_the_old_modification_time_is_applied(
        polled: Polled, serve_feedsvc: Any, tmp_path: Path) -> None:
    topics_file = tmp_path / "topics.toml"
    write_topics(topics_file, SHIPPED_TOPICS.read_text(encoding="utf-8"))
    service, http, base = await start(polled, serve_feedsvc, tmp_path, topics_file)
    stat = topics_file.stat()
    write_topics(topics_file, SHIPPED_TOPICS.read_text(encoding="utf-8") + LAVROV)
    os.utime(topics_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    async def applied() -> bool:
        return await served(http, f"{base}/feeds/lavrov.atom") == 200

    await eventually(applied)


async def test_a_link_swapped_to_a_file_with_the_same_time_is_applied(
        polled: Polled, serve_feedsvc: Any, tmp_path: Path) -> None:
    """The way a ConfigMap or a deploy tool switches files: a new file, ``touch -r``,
    and the link moved onto it in one rename."""
    old, new = tmp_path / "topics-1.toml", tmp_path / "topics-2.toml"
    write_topics(old, SHIPPED_TOPICS.read_text(encoding="utf-8"))
    link = tmp_path / "topics.toml"
    link.symlink_to(old.name)
    service, http, base = await start(polled, serve_feedsvc, tmp_path, link)
    write_topics(new, SHIPPED_TOPICS.read_text(encoding="utf-8") + LAVROV)
    stat = old.stat()
    os.utime(new, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    (tmp_path / "topics.next").symlink_to(new.name)
    os.replace(tmp_path / "topics.next", link)

    async def applied() -> bool:
        return await served(http, f"{base}/feeds/lavrov.atom") == 200

    await eventually(applied)


async def test_a_half_written_file_is_not_applied_until_it_is_whole(
        polled: Polled, serve_feedsvc: Any, tmp_path: Path, topic_events: Any) -> None:
    topics_file = tmp_path / "topics.toml"
    whole = SHIPPED_TOPICS.read_text(encoding="utf-8") + LAVROV
    write_topics(topics_file, SHIPPED_TOPICS.read_text(encoding="utf-8"))
    service, http, base = await start(polled, serve_feedsvc, tmp_path, topics_file)
    before = set(service.topics.topics)
    events = topic_events("topics.change_pending")
    # The writer stops after the first topic: valid TOML, with most topics missing.
    half = whole[: whole.index("[[topics]]", whole.index("[[topics]]") + 1)]
    with topics_file.open("r+", encoding="utf-8") as file:
        file.write(half)
        file.truncate()
        file.flush()
        await asyncio.wait_for(events.seen.wait(), 30)  # the watch has seen the half file
        file.write(whole[len(half):])  # ... before its next look, the rest arrives

    async def applied() -> bool:
        return "lavrov" in service.topics.topics

    await eventually(applied)
    assert service.topics.removed == set()
    assert set(service.topics.topics) == before | {"lavrov"}
    loaded = [m for m in events.messages if m.startswith("topics.loaded")]
    assert len(loaded) == 1 and "removed=0" in loaded[0], loaded
    assert await served(http, f"{base}/feeds/gaza.atom") == 200


async def test_a_file_renamed_into_place_is_applied_on_the_first_look(
        polled: Polled, serve_feedsvc: Any, tmp_path: Path, topic_events: Any) -> None:
    topics_file = tmp_path / "topics.toml"
    write_topics(topics_file, SHIPPED_TOPICS.read_text(encoding="utf-8"))
    service, http, base = await start(polled, serve_feedsvc, tmp_path, topics_file)
    events = topic_events("topics.loaded")
    staged = tmp_path / "topics.toml.new"
    write_topics(staged, SHIPPED_TOPICS.read_text(encoding="utf-8") + LAVROV)
    os.replace(staged, topics_file)  # the atomic replacement the docs recommend
    await asyncio.wait_for(events.seen.wait(), 30)
    assert "lavrov" in service.topics.topics
    assert not [m for m in events.messages if m.startswith("topics.change_pending")]
