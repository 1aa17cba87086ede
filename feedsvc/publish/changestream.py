"""The change stream (``/api/changes``): a feed's changes after a position, exactly once.

The store's change log (``Store.read_changes``) keeps the newest change of each article
in each feed, numbered in commit order. A consumer keeps the ``next`` token of each
answer and sends it back as ``since``: it then gets every change committed after the
answer it read, none twice, and applying them in order leaves its copy equal to the
feed. Without ``since`` the answer is empty and ``next`` is the head of the log: read
the feeds once for what is already there, then follow the stream.

A position before the log's horizon (changes older than ``changes.retention`` were
dropped since) or beyond anything the log ever handed out (a store restored from a
backup, until it has handed out as many again: operators replace the key after a
restore, see docs/operations.md) cannot be continued: :class:`~feedsvc.errors.Expired`, a 410 that tells the
client to read the feeds again. Tokens are signed with the deployment's cursor key, so
one that was tampered with or comes from another install is a 400 before anything is
read.

An answer is rendered from the store's rows only, in a worker thread, and sent with an
ETag of its bytes and a Last-Modified of its newest change: the same on every replica,
and a client that sends either back gets a 304 while nothing new was committed.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from feedsvc.config import ChangesSettings
from feedsvc.errors import Expired
from feedsvc.models import FeedChange
from feedsvc.publish.cursors import Cursors
from feedsvc.publish.feedpages import FeedPages
from feedsvc.publish.representation import Representation, package
from feedsvc.render import FeedMeta, render_changes
from feedsvc.store import Store

CONTENT_TYPE = "application/json"
RESYNC = ("since: this position is older than the change stream keeps ({days} days) or "
          "from before the store was restored; read the feeds again, then follow the "
          "stream from the next token of a request without since")


class ChangeStream:
    """Answers change stream requests; holds nothing between them."""

    def __init__(self, store: Store, pages: FeedPages, cursors: Cursors,
                 settings: ChangesSettings, empty_updated: datetime) -> None:
        self.store = store
        self.pages = pages  # the item of a change is the item of the feeds
        self.cursors = cursors
        self.settings = settings
        self.empty_updated = empty_updated

    async def read(self, topic: str, since: str | None, limit: int) -> Representation:
        """The changes to ``topic``'s feed (``all``: every article) after ``since``."""
        position = self.cursors.decode_position(since) if since is not None else None
        page = await self.store.read_changes(topic, position or 0,
                                             limit if position is not None else 0)
        if position is None:
            return await self._answer((), page.head)
        if position < page.horizon or position > page.high_water:
            raise Expired(RESYNC.format(days=self.settings.retention.days))
        last = page.changes[-1].seq if page.changes else position
        return await self._answer(page.changes, last)

    async def _answer(self, changes: tuple[FeedChange, ...], next_position: int
                      ) -> Representation:
        meta = self.pages.item_meta()
        token = self.cursors.encode_position(next_position)
        last_modified = changes[-1].at if changes else self.empty_updated
        return await asyncio.to_thread(self._render, changes, meta, token, last_modified)

    def _render(self, changes: tuple[FeedChange, ...], meta: FeedMeta, token: str,
                last_modified: datetime) -> Representation:
        headers = {
            # a stream is read again and again: revalidate every time (304s are cheap)
            "Cache-Control": "no-cache",
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Expose-Headers": "ETag, Last-Modified",
        }
        return package(render_changes(changes, meta, token), CONTENT_TYPE, last_modified,
                       headers)

