"""The topics in force, reloaded while the service runs.

An edit of the topics file (seen within a second by a modification-time watch) or a
SIGHUP reloads it. A valid file replaces the topics at once and backfills every new
or changed topic over the stored articles, so its feed is full immediately. An
invalid file is rejected with ``file:line:column: reason``, logged, reported in
``/healthz``, and the last good topics keep serving. Removed topics answer 410 Gone
until the process restarts.

Whatever changed (new, edited and removed topics) is published on the change
channel once the backfill is stored; reload outcomes are counted in the metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path

from feedsvc.changes import Changes
from feedsvc.errors import TopicConfigError
from feedsvc.logsetup import get_log
from feedsvc.metrics import Metrics
from feedsvc.models import Article
from feedsvc.store import ALL_TOPIC, Store
from feedsvc.topics import Topic, TopicIndex, compile_topics, load_topics
from feedsvc.topics.model import DEFAULT_LIMITS, TopicLimits

log = get_log("feedsvc.topics")


class LiveTopics:
    def __init__(self, path: Path, store: Store, clock: Callable[[], datetime], *,
                 changes: Changes, metrics: Metrics, limits: TopicLimits = DEFAULT_LIMITS) -> None:
        self.path = path
        self.limits = limits
        self.store = store
        self.clock = clock
        self.changes = changes
        self.metrics = metrics
        self.topics: dict[str, Topic] = {}
        self.index: TopicIndex = compile_topics(())
        self.removed: set[str] = set()
        self.loaded_at: datetime | None = None
        self.error: str | None = None
        self._mtime: float | None = None
        self._lock = asyncio.Lock()

    def match(self, article: Article) -> frozenset[str]:
        return self.index.match(article)

    def known(self, slug: str) -> bool:
        """A topic in force, or ``all``."""
        return slug == ALL_TOPIC or slug in self.topics

    async def load(self) -> None:
        """First load at start-up: an invalid file raises (the service refuses to start)."""
        self._mtime = self._stat()
        topics = load_topics(self.path, self.limits)
        await self._apply(topics)

    async def reload(self) -> bool:
        """Re-read the file; on error keep the current topics. Returns True when applied."""
        async with self._lock:
            self._mtime = self._stat()
            try:
                topics = load_topics(self.path, self.limits)
            except TopicConfigError as exc:
                self.error = "\n".join(exc.problems)
                log.error("topics.reload_failed", file=str(self.path), error=self.error)
                self.metrics.on_reload(False)
                return False
            await self._apply(topics)
            self.metrics.on_reload(True)
            return True

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        """Reload on edits of the file and on SIGHUP while the context is open."""
        watcher = asyncio.create_task(self.watch(), name="topics-watch")
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGHUP, lambda: asyncio.ensure_future(self.reload()))
        try:
            yield
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(signal.SIGHUP)
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

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
        log.info("topics.loaded", file=str(self.path), topics=len(new), changed=len(changed),
                 removed=len(gone))
        await self.changes.publish(changed | gone)

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
