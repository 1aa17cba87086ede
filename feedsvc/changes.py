"""The change channel: which topics' feeds changed, from whoever changed them to
whoever serves them.

::

    publishers                              subscribers
    pipeline (stored, merged, retracted) ─┐  ┌─ render cache (forget, render again)
                                          ├──┤
    topic reloads (rules changed)        ─┘  └─ WebSub (tell the hub)

A message is the set of topic slugs whose feeds changed (``all`` included when
articles changed). :class:`Changes` is the whole interface; :class:`LocalChanges`
delivers within the process, in subscription order, awaiting each subscriber, so
the render cache has the new feed before the hub is told to fetch it. A
subscriber that fails is logged and does not fail the publisher: a stored
article stays stored whatever a cache does with the news.

The interface is shaped for a cross-process implementation (PostgreSQL
``LISTEN/NOTIFY``): ``publish`` may also send the message elsewhere, and
subscribers may be called for changes made by another process.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Protocol

from feedsvc.logsetup import get_log

log = get_log("feedsvc.changes")

Listener = Callable[[frozenset[str]], Awaitable[None]]


class Changes(Protocol):
    async def publish(self, topics: Collection[str]) -> None:
        """Tell every subscriber that these topics' feeds changed; returns once they know."""

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` with every later message."""


class LocalChanges:
    """:class:`Changes` within one process."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def publish(self, topics: Collection[str]) -> None:
        changed = frozenset(topics)
        if not changed:
            return
        for listener in tuple(self._listeners):
            try:
                await listener(changed)
            except Exception as exc:  # a subscriber's failure is its own, never the publisher's
                log.error("changes.subscriber_failed", subscriber=_name(listener),
                          topics=len(changed), error=repr(exc), exc_info=exc)


def _name(listener: Listener) -> str:
    return getattr(listener, "__qualname__", type(listener).__name__)
