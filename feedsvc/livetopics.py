"""The topics in force, reloaded while the service runs.

An edit of the topics file (seen within a second by a modification-time watch) or a
SIGHUP reloads it. A valid file replaces the topics at once and backfills every new
or changed topic over the stored articles, so its feed is full immediately. An
invalid file is rejected with ``file:line:column: reason``, logged, reported in
``/healthz``, and the last good topics keep serving. Removed topics answer 410 Gone
until the process restarts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from feedsvc.errors import TopicConfigError
from feedsvc.models import Article
from feedsvc.store import Store
from feedsvc.topics import Topic, TopicIndex, compile_topics, load_topics

log = logging.getLogger("feedsvc.topics")


class LiveTopics:
    def __init__(self, path: Path, store: Store, clock: Callable[[], datetime]) -> None:
        self.path = path
        self.store = store
        self.clock = clock
        self.topics: dict[str, Topic] = {}
        self.index: TopicIndex = compile_topics(())
        self.removed: set[str] = set()
        self.loaded_at: datetime | None = None
        self.error: str | None = None
        self.on_change: Callable[[set[str]], Awaitable[None]] | None = None
        self.on_reload: Callable[[bool], None] | None = None  # told whether a reload applied
        self._mtime: float | None = None
        self._lock = asyncio.Lock()

    def match(self, article: Article) -> frozenset[str]:
        return self.index.match(article)

    async def load(self) -> None:
        """First load at start-up: an invalid file raises (the service refuses to start)."""
        self._mtime = self._stat()
        topics = load_topics(self.path)
        await self._apply(topics)

    async def reload(self) -> bool:
        """Re-read the file; on error keep the current topics. Returns True when applied."""
        async with self._lock:
            self._mtime = self._stat()
            try:
                topics = load_topics(self.path)
            except TopicConfigError as exc:
                self.error = "\n".join(exc.problems)
                log.error("topics.reload_failed file=%s error=%s", self.path, self.error)
                self._reloaded(False)
                return False
            await self._apply(topics)
            self._reloaded(True)
            return True

    def _reloaded(self, applied: bool) -> None:
        if self.on_reload is not None:
            self.on_reload(applied)

    async def watch(self, interval: float = 0.5) -> None:
        """Reload whenever the file's modification time changes (until cancelled)."""
        while True:
            await asyncio.sleep(interval)
            if self._stat() != self._mtime:
                await self.reload()

    async def _apply(self, topics: tuple[Topic, ...]) -> None:
        new = {topic.slug: topic for topic in topics}
        changed = {slug for slug, topic in new.items() if self.topics.get(slug) != topic}
        gone = set(self.topics) - set(new)
        # New articles are matched with the new rules at once; readers see a new or
        # changed topic only once its backfill is stored, never half-filled.
        self.index = compile_topics(topics)
        await self._backfill([new[slug] for slug in sorted(changed)])
        self.topics = new
        self.removed = (self.removed | gone) - set(new)
        self.loaded_at, self.error = self.clock(), None
        for slug in sorted(gone):
            await self.store.drop_topic(slug)
        log.info("topics.loaded file=%s topics=%d changed=%d removed=%d",
                 self.path, len(new), len(changed), len(gone))
        if self.on_change is not None and (changed or gone):
            await self.on_change(changed | gone)

    async def _backfill(self, topics: list[Topic]) -> None:
        """Re-apply the rules of new or changed topics to every stored article."""
        if not topics:
            return
        index = compile_topics(tuple(topics))
        members: dict[str, set[str]] = {topic.slug: set() for topic in topics}
        async for article in self.store.iter_articles():
            for slug in index.match(article):
                members[slug].add(article.id)
        for slug, article_ids in members.items():
            await self.store.set_topic_members(slug, article_ids)

    def _stat(self) -> float | None:
        try:
            return self.path.stat().st_mtime_ns / 1e9
        except OSError:
            return None
