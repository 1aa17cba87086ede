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

Processes that share a store use ``feedsvc.store.channel.SharedChanges``: ``publish``
also tells the other processes (PostgreSQL ``NOTIFY``), and subscribers are called for
changes another process made too, unless they subscribed ``local_only``: a change is
announced to the WebSub hub once, by the process that made it, while every process's
render cache must hear of it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Protocol

from feedsvc.logsetup import get_log

log = get_log("feedsvc.changes")

Listener = Callable[[frozenset[str]], Awaitable[None]]


class Changes(Protocol):
    async def publish(self, topics: Collection[str]) -> None:
        """Tell every subscriber that these topics' feeds changed; returns once they know."""

    def subscribe(self, listener: Listener, *, local_only: bool = False) -> None:
        """Call ``listener`` with every later message (only this process's own, if
        ``local_only``)."""


class LocalChanges:
    """:class:`Changes` within one process."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener, *, local_only: bool = False) -> None:
        self._listeners.append(listener)

    async def publish(self, topics: Collection[str]) -> None:
        await deliver(frozenset(topics), self._listeners)


async def deliver(changed: frozenset[str], listeners: Sequence[Listener]) -> bool:
    """Call each listener in turn with ``changed``; False if any of them failed (logged).

    A subscriber's failure is its own, never the publisher's: the others still hear.
    """
    succeeded = True
    if not changed:
        return succeeded
    for listener in tuple(listeners):
        try:
            await listener(changed)
        except Exception as exc:
            succeeded = False
            log.error("changes.subscriber_failed", subscriber=_name(listener),
                      topics=len(changed), error=repr(exc), exc_info=exc)
    return succeeded


def _name(listener: Listener) -> str:
    return getattr(listener, "__qualname__", type(listener).__name__)
