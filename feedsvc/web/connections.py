"""Client connections within limits: how many, how long idle, how slow.

aiohttp closes a connection that stays idle past its ``keepalive_timeout`` (also one
whose next request head is not complete by then), but it has no cap on how many are
open, no deadline for the first request head of a new connection, and no limit on a
client that stops reading a response. :class:`ConnectionGuard` adds those around
aiohttp's own protocol, as the protocol factory the listening socket is served with:

- at most ``max_connections`` are open. At the cap a new connection closes the one
  that has been idle longest (idle: no request being handled and no response stuck
  on a client that stopped reading; a request head still arriving is idle) and takes
  its place; when none is idle it gets a fixed ``503`` and is closed, unparsed;
- a new connection that has not sent a complete request head within
  ``head_timeout`` is closed (after a response, ``keepalive_timeout`` applies);
- a response whose client has stopped reading (the socket's buffers are full) for
  ``send_timeout`` is dropped.

Connections that wait for a request head cost a file descriptor and a few KB each,
nothing more; closing the idle ones first means a flood of them cannot keep real
requests out: each new connection pushes the oldest idler out. Every drop is counted
in ``feedsvc_http_connections_dropped_total{reason}``.

``max_connections`` is lowered at start when the open-files limit cannot hold it and
a reserve for everything else (:func:`fit_to_open_files`), so the listening socket
never fails to accept for want of descriptors.
"""

from __future__ import annotations

import asyncio
import resource
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from feedsvc.config import ServerSettings
from feedsvc.logsetup import get_log
from feedsvc.metrics import Metrics

log = get_log("feedsvc.http")

# Descriptors kept for everything but client connections: the store (and its pool),
# upstream connections (aiohttp's connector opens up to 100), log files, the loop.
FD_RESERVE = 256
_BUSY_TEXT = b"too many connections: retry in a moment\n"
BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
        b"Retry-After: 1\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
        % (len(_BUSY_TEXT), _BUSY_TEXT))


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """The ``[server]`` limits the guard enforces (``max_connections`` as fitted)."""

    max_connections: int
    head_timeout: float
    send_timeout: float

    @classmethod
    def of(cls, server: ServerSettings, *, max_connections: int) -> ConnectionLimits:
        return cls(max_connections, server.head_timeout, server.send_timeout)


def fit_to_open_files(wanted: int) -> int:
    """``wanted`` connections, or as many as the open-files limit holds beside the reserve.

    The soft limit is raised toward the hard one first, as far as needed (allowed
    without privileges); what is still missing lowers the number, with a warning.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + FD_RESERVE
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(hard, needed)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return wanted
    allowed = max(1, soft - FD_RESERVE)
    log.warning("server.connections_lowered", max_connections=wanted, allowed=allowed,
                open_files_limit=soft, reserve=FD_RESERVE)
    return allowed


class ConnectionGuard:
    """The protocol factory for the listening socket. Each connection it admits gets
    the protocol of the server given to :meth:`serve` (aiohttp's, which parses and
    answers requests) inside a :class:`GuardedConnection`."""

    def __init__(self, limits: ConnectionLimits, metrics: Metrics,
                 on_request: Callable[[web.Request], None] | None = None) -> None:
        self.limits = limits
        self.metrics = metrics
        self._on_request = on_request  # told of every request (polls give way to them)
        self.open = 0
        self._inner: Callable[[], asyncio.Protocol] | None = None
        self._idle: OrderedDict[GuardedConnection, None] = OrderedDict()  # longest idle first
        self._by_transport: dict[asyncio.BaseTransport, GuardedConnection] = {}
        # read when /metrics is scraped: nothing is counted per request
        metrics.http_connections.labels("idle").set_function(lambda: len(self._idle))
        metrics.http_connections.labels("busy").set_function(lambda: self.open - len(self._idle))

    def serve(self, inner: Callable[[], asyncio.Protocol]) -> None:
        """Admit connections to ``inner``'s protocol from now on."""
        self._inner = inner

    def close(self) -> None:
        """Cancel the timers of the connections left (the server has shut them down)."""
        for connection in list(self._by_transport.values()):
            connection.disarm()

    def __call__(self) -> asyncio.Protocol:
        if self._inner is None:
            raise RuntimeError("ConnectionGuard.serve() was not called")
        if self.open >= self.limits.max_connections and not self._evict_idlest():
            self._dropped("refused")
            return Refusal()
        self.open += 1
        return GuardedConnection(self, self._inner())

    def begin(self, request: web.Request) -> GuardedConnection | None:
        """A request starts: its connection is busy until :meth:`end` (called by the
        app's one frame around every handler, ``feedsvc.web.dispatch``)."""
        if self._on_request is not None:
            self._on_request(request)
        connection = self._by_transport.get(request.transport)  # type: ignore[arg-type]
        if connection is not None:
            self._busy(connection)
        return connection

    def end(self, connection: GuardedConnection) -> None:
        """The request :meth:`begin` returned ``connection`` for is answered."""
        self._done(connection)

    # -- the connections' events ----------------------------------------------------

    def opened(self, connection: GuardedConnection, transport: asyncio.BaseTransport) -> None:
        self._by_transport[transport] = connection
        self._idle[connection] = None
        connection.arm(self.limits.head_timeout, "head_timeout")

    def lost(self, connection: GuardedConnection) -> None:
        connection.disarm()
        self._idle.pop(connection, None)
        if connection.transport is not None:
            self._by_transport.pop(connection.transport, None)
        self._release(connection)

    def stalled(self, connection: GuardedConnection) -> None:
        """The client stopped reading: not idle (so never evicted) until it reads again."""
        connection.paused = True
        self._idle.pop(connection, None)
        connection.arm(self.limits.send_timeout, "send_timeout")

    def resumed(self, connection: GuardedConnection) -> None:
        connection.paused = False
        connection.disarm()
        self._idle_again(connection)

    def expired(self, connection: GuardedConnection, reason: str) -> None:
        self._drop(connection, reason)

    # -- bookkeeping ----------------------------------------------------------------

    def _busy(self, connection: GuardedConnection) -> None:
        connection.busy = True
        if connection.deadline == "head_timeout":
            connection.disarm()
        self._idle.pop(connection, None)

    def _done(self, connection: GuardedConnection) -> None:
        connection.busy = False
        self._idle_again(connection)

    def _idle_again(self, connection: GuardedConnection) -> None:
        if connection.counted and not connection.busy and not connection.paused:
            self._idle[connection] = None  # at the end: idle the shortest

    def _evict_idlest(self) -> bool:
        if not self._idle:
            return False
        connection = next(iter(self._idle))
        self._drop(connection, "evicted")
        return True

    def _drop(self, connection: GuardedConnection, reason: str) -> None:
        connection.disarm()
        self._idle.pop(connection, None)
        self._release(connection)
        self._dropped(reason)
        if connection.transport is not None:
            connection.transport.abort()  # close() would wait to send what a stalled reader left

    def _release(self, connection: GuardedConnection) -> None:
        if connection.counted:
            connection.counted = False
            self.open -= 1

    def _dropped(self, reason: str) -> None:
        self.metrics.http_dropped.labels(reason).inc()


class GuardedConnection(asyncio.Protocol):
    """One client connection: aiohttp's protocol inside, the guard told of its events."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self.guard = guard
        self.inner = inner
        self.transport: asyncio.Transport | None = None
        self.counted = True  # holds one of the guard's places
        self.busy = False  # a request of it is being handled
        self.paused = False  # its client stopped reading: the socket's buffers are full
        self.deadline: str | None = None  # the timer armed: head_timeout or send_timeout
        self._timer: asyncio.TimerHandle | None = None

    def arm(self, seconds: float, reason: str) -> None:
        self.disarm()
        self.deadline = reason
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(seconds, self.guard.expired, self, reason)

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.deadline = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.guard.opened(self, transport)
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.lost(self)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.guard.stalled(self)
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.guard.resumed(self)
        self.inner.resume_writing()


class Refusal(asyncio.Protocol):
    """A connection over the cap with no idle one to close: a fixed 503, then closed."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(BUSY)
        transport.close()
