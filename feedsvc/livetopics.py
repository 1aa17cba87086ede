"""The topics in force, reloaded while the service runs.

An edit of the topics file or a SIGHUP reloads it. A valid file replaces the topics
at once and backfills every new or changed topic over the stored articles, so its
feed is full immediately. An invalid file is rejected with
``file:line:column: reason``, logged, reported in ``/healthz``, and the last good
topics keep serving. Removed topics answer 410 Gone until the process restarts.

The watch looks at the file every half second and goes by its content (a hash), not
its modification time, so a link swapped with ``touch -r`` is seen and a ``touch``
alone reloads nothing. A file is applied only once it is whole: when it was replaced
by a rename or a new link (a new inode), at once; when it was written in place, once
its content has stayed the same across two looks, and again after loading. SIGHUP
applies the file as it is, at once. Nothing a reload raises ends the watch: any
failure becomes the topics' error (``/healthz``) and one log line; a rejected file
waits for the next edit, a store that failed is tried again at each look.

Whatever changed (new, edited and removed topics) is published on the change
channel once the backfill is stored; reload outcomes are counted in the metrics.

Replicas sharing a store backfill once between them. The store records the rules
fingerprint each topic's members were matched with, in the backfill's transaction; the
backfill runs under the lease ``topics:backfill`` (a replica that finds it taken
waits), and whoever gets the lease reads the fingerprints again and skips every topic
already backfilled with the same rules. So replicas reloading together find the work
done by the first and serve the stored result; a replica killed mid-backfill left
nothing half-written, and the next holder does it all.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from feedsvc.background import background
from feedsvc.changes import Changes
from feedsvc.errors import StoreError, TopicConfigError
from feedsvc.logsetup import get_log
from feedsvc.metrics import Metrics
from feedsvc.models import Article
from feedsvc.store import ALL_TOPIC, Store
from feedsvc.store.leasing import BACKFILL_LEASE, Leases
from feedsvc.topics import (
    Topic,
    TopicIndex,
    compile_topics,
    parse_topics,
    rules_fingerprint,
    snapshot,
)
from feedsvc.topics.bulk import collector_paused, freeze_start_up
from feedsvc.topics.load import read_topics_text
from feedsvc.topics.model import DEFAULT_LIMITS, TopicLimits

log = get_log("feedsvc.topics")
WATCH_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class FileLook:
    """What one look at the topics file saw: its content's hash and which file it was."""

    digest: str | None  # None: the file could not be read
    inode: tuple[int, int] | None = None  # (device, inode): a rename or new link changes it


def look_at(path: Path, max_bytes: int) -> FileLook:
    """Hash the file's content (its first ``max_bytes`` + 1 bytes and its size: a larger
    file is refused by the loader anyway, so no look reads more than that)."""
    try:
        with path.open("rb") as file:
            stat = os.fstat(file.fileno())
            content = file.read(max_bytes + 1)
    except OSError:
        return FileLook(None)
    digest = hashlib.blake2b(content, digest_size=16)
    digest.update(stat.st_size.to_bytes(8, "little"))
    return FileLook(digest.hexdigest(), (stat.st_dev, stat.st_ino))


class LiveTopics:
    def __init__(self, path: Path, store: Store, clock: Callable[[], datetime], *,
                 changes: Changes, metrics: Metrics, leases: Leases,
                 limits: TopicLimits = DEFAULT_LIMITS) -> None:
        self.path = path
        self.limits = limits
        self.store = store
        self.clock = clock
        self.changes = changes
        self.metrics = metrics
        self.leases = leases
        self.topics: dict[str, Topic] = {}
        self.index: TopicIndex = compile_topics(())
        self.removed: set[str] = set()
        self.version = 0  # bumped by every applied load: what was rendered from older is stale
        self.loaded_at: datetime | None = None
        self.error: str | None = None
        self._seen = FileLook(None)  # the content last applied or rejected
        self._pending: FileLook | None = None  # a change seen once, to be seen again
        self._signalled: set[asyncio.Task[bool]] = set()
        self._lock = asyncio.Lock()

    def match(self, article: Article) -> frozenset[str]:
        return self.index.match(article)

    def known(self, slug: str) -> bool:
        """A topic in force, or ``all``."""
        return slug == ALL_TOPIC or slug in self.topics

    async def load(self, *, freeze: bool = False) -> None:
        """First load at start-up: an invalid file raises (the service refuses to start).
        With ``freeze``, what exists once the topics are compiled is frozen out of the
        cyclic collector (``topics.bulk.freeze_start_up``), before the backfill, and
        the collector stays paused until then: it never walks the build at all."""
        self._seen = await self._look()
        with collector_paused() if freeze else contextlib.nullcontext():
            compiled = await self._compiled(freeze=freeze)
        await self._apply(*compiled)

    async def reload(self) -> bool:
        """Apply the file as it is now; on any failure keep the current topics and report
        it (never raises). Returns True when applied.

        A store that fails the backfill (an outage) leaves the current topics in force,
        and the watch tries the same content again at each look until it succeeds; the
        error is logged once.
        """
        async with self._lock:
            return await self._reload(await self._look())

    async def _reload(self, seen: FileLook) -> bool:
        try:
            topics, index = await self._compiled()
            if (again := await self._look()) != seen:  # written meanwhile: wait for it
                self._pending = again
                return False
            before, self._seen, self._pending = self._seen, seen, None
            try:
                await self._apply(topics, index)
            except StoreError:
                self._seen = before  # the watch sees this content again, and retries
                raise
        except TopicConfigError as exc:
            self._rejected(seen, "\n".join(exc.problems))
            return False
        except StoreError as exc:
            if self.error != (error := f"store: {exc}"):
                log.error("topics.reload_failed", file=str(self.path), error=error)
                self.metrics.on_reload(False)
            self.error = error
            return False
        except Exception as exc:  # a bug: never the end of the watch
            self._rejected(seen, f"{self.path}: reload failed: {type(exc).__name__}: {exc}")
            return False
        self.metrics.on_reload(True)
        return True

    def _rejected(self, seen: FileLook, error: str) -> None:
        self._seen, self._pending = seen, None  # this content is done with until it changes
        self.error = error
        log.error("topics.reload_failed", file=str(self.path), error=error)
        self.metrics.on_reload(False)

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        """Reload on edits of the file and on SIGHUP while the context is open."""
        async with background(self.watch(), "topics-watch"):
            loop = asyncio.get_running_loop()
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signal.SIGHUP, self._on_sighup)
            try:
                yield
            finally:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(signal.SIGHUP)

    def _on_sighup(self) -> None:
        task = asyncio.ensure_future(self.reload())
        self._signalled.add(task)  # held until done: the loop keeps only a weak reference
        task.add_done_callback(self._signalled.discard)

    async def watch(self, interval: float = WATCH_SECONDS) -> None:
        """Apply each new content of the file once it is whole (until cancelled)."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self._check()
            except Exception as exc:  # nothing ends the watch
                error = f"{self.path}: watching failed: {type(exc).__name__}: {exc}"
                if error != self.error:
                    self.error = error
                    log.error("topics.watch_failed", file=str(self.path), error=error)

    async def _check(self) -> None:
        now = await self._look()
        if now.digest == self._seen.digest:  # the same content: a touch, or written back
            self._pending = None
            return
        replaced = now.inode is not None and now.inode != self._seen.inode
        if replaced or now == self._pending:  # a whole new file, or unchanged since the last look
            async with self._lock:
                await self._reload(now)
        else:
            self._pending = now  # perhaps still being written: look again
            log.debug("topics.change_pending", file=str(self.path))

    async def _look(self) -> FileLook:
        return await asyncio.to_thread(look_at, self.path, self.limits.max_file_bytes)

    async def _compiled(self, *, freeze: bool = False) -> tuple[tuple[Topic, ...], TopicIndex]:
        """The file's topics and their index: from the snapshot the store keeps of these
        very bytes, else read, checked and compiled, and the snapshot kept. Parsing and
        compiling thousands of queries takes seconds: it runs in a worker thread, and a
        restart of the same file skips it (``topics.snapshot``). ``freeze``: freeze the
        heap as soon as the index is built (see ``load``)."""
        text = await asyncio.to_thread(read_topics_text, self.path, self.limits)
        key = snapshot.digest(text.encode(), self.limits)
        try:
            kept = await self.store.topic_snapshot(key)
        except StoreError as exc:  # the store is away: read the file; applying will wait
            log.warning("topics.snapshot_unread", file=str(self.path), error=str(exc))
            kept = None
        if kept is not None:
            try:
                topics, index = await asyncio.to_thread(snapshot.loads, kept)
                if freeze:
                    freeze_start_up()
                log.info("topics.compiled", file=str(self.path), topics=len(topics), snapshot=True)
                return topics, index
            except snapshot.SnapshotError as exc:  # written by another version: read the file
                log.warning("topics.snapshot_unreadable", file=str(self.path), error=str(exc))
        topics = await asyncio.to_thread(parse_topics, text, str(self.path), self.limits)
        index = await asyncio.to_thread(compile_topics, topics)
        if freeze:  # frozen before the snapshot is made: the collector never walks the build
            freeze_start_up()
        log.info("topics.compiled", file=str(self.path), topics=len(topics), snapshot=False)
        try:
            await self.store.save_topic_snapshot(key, await asyncio.to_thread(snapshot.dumps, index))
        except StoreError as exc:  # only the next start is slower
            log.warning("topics.snapshot_unsaved", file=str(self.path), error=str(exc))
        return topics, index

    async def _apply(self, topics: tuple[Topic, ...], index: TopicIndex) -> None:
        new = {topic.slug: topic for topic in topics}
        # The store records the rules each topic's members were matched with: a topic
        # whose rules did not change since (a restart, another replica's reload, a new
        # title) needs no backfill, so start-up does not grow with the number of topics.
        recorded = await self.store.topic_rules()
        stale = [topic for slug, topic in sorted(new.items())
                 if recorded.get(slug) != rules_fingerprint(topic)]
        gone = (set(recorded) | set(self.topics)) - set(new)
        changed = {slug for slug, topic in new.items() if self.topics.get(slug) != topic}
        # New articles are matched with the new rules at once; readers see a new or
        # changed topic only once its backfill is stored, never half-filled.
        before, self.index = self.index, index
        try:
            await self._backfill(stale, index)
        except BaseException:
            self.index = before  # the topics in force stay whole
            raise
        self.topics = new
        self.version += 1
        self.removed = (self.removed | gone) - set(new)
        self.loaded_at, self.error = self.clock(), None
        for slug in sorted(gone):
            await self.store.drop_topic(slug, now=self.clock())
        log.info("topics.loaded", file=str(self.path), topics=len(new), changed=len(changed),
                 backfilled=len(stale), removed=len(gone))
        await self.changes.publish(changed | {t.slug for t in stale} | gone)

    async def _backfill(self, topics: list[Topic], index: TopicIndex) -> None:
        """Apply the rules of ``topics`` to every stored article, then store the members
        and the rules' fingerprints in one transaction, under the lease
        ``topics:backfill``: a replica that had to wait for it reads the fingerprints
        again and skips every topic another replica backfilled meanwhile."""
        if not topics:
            return
        async with self.leases.waiting(BACKFILL_LEASE):
            recorded = await self.store.topic_rules()
            todo = [topic for topic in topics if recorded.get(topic.slug) != rules_fingerprint(topic)]
            if len(todo) < len(topics):
                log.info("topics.backfill_found", topics=len(topics) - len(todo))
            if todo:
                await self._match_stored(todo, index)

    async def _match_stored(self, topics: list[Topic], index: TopicIndex) -> None:
        """The matching runs in a worker thread, a batch of articles at a time, so serving
        goes on meanwhile. ``index`` holds every topic in force: used as it is when most
        of them are to be backfilled (a first start), rather than compiled again."""
        # over every stored article: at start-up this is what takes the time
        log.info("topics.backfilling", file=str(self.path), topics=len(topics),
                 articles=await self.store.count_articles())
        if len(topics) * 2 < len(index):  # a few topics: a smaller index is quicker
            index = await asyncio.to_thread(compile_topics, tuple(topics))
        members: dict[str, set[str]] = {topic.slug: set() for topic in topics}
        batch: list[Article] = []
        async for article in self.store.iter_articles(batch_size=BACKFILL_BATCH):
            batch.append(article)
            if len(batch) == BACKFILL_BATCH:
                await asyncio.to_thread(_collect, index, batch, members)
                batch = []
        await asyncio.to_thread(_collect, index, batch, members)
        await self.store.set_topic_members(
            members, {topic.slug: rules_fingerprint(topic) for topic in topics},
            now=self.clock())


BACKFILL_BATCH = 500  # stored articles matched per worker-thread call


def _collect(index: TopicIndex, articles: list[Article], members: dict[str, set[str]]) -> None:
    for article in articles:
        for slug in index.match(article):
            if (held := members.get(slug)) is not None:  # the index may hold other topics
                held.add(article.id)
