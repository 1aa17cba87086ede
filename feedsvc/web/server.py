"""Serving the app on a socket bound before anything else starts, within limits.

``listen`` binds first, so a port in use fails at once, before the store is opened
or a topic compiled; connections that arrive while the service starts wait in the
kernel's backlog. ``http_server`` serves a built service on that socket until its
context ends, then stops accepting, lets requests in flight finish (up to
``shutdown_timeout``) and closes.

What a client can hold or cause is bounded (``[server]`` settings; the figures are in
``docs/operations.md``, "Hardening"): the connections open, the time to send a request
head, to stay idle, and to read a response (``connections.py``); and the errors of
connections (malformed requests, failed accepts) are one budgeted line each, never a
traceback (``errorlog.py``).
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from feedsvc.publish.urls import HEALTH_ROUTE, METRICS_ROUTE, READY_ROUTE
from feedsvc.service import Service
from feedsvc.web.app import create_app
from feedsvc.web.connections import (
    ConnectionGuard,
    ConnectionLimits,
    GuardedConnection,
    Refusal,
    fit_to_open_files,
)
from feedsvc.web.errorlog import ErrorLines, HttpErrorLog

SHUTDOWN_SECONDS = 2.0
BACKLOG = 1024  # connections the kernel queues before they are accepted

ExceptionHandler = Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket; raises ``OSError`` (address in use, no such address)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


# A health probe or a metrics scrape is nobody reading: polls need not give way to it
PROBES = frozenset((HEALTH_ROUTE, READY_ROUTE, METRICS_ROUTE))


def _reader_seen(service: Service) -> Callable[[web.Request], None] | None:
    """What the connection guard calls with each request: tells the service that
    readers are being served (``feedsvc.readers``), unless it is a probe."""
    readers = service.readers
    if readers is None:
        return None

    def seen(request: web.Request) -> None:
        if request.path not in PROBES:
            readers.request_seen()

    return seen


@asynccontextmanager
async def http_server(service: Service, sock: socket.socket, *,
                      shutdown_timeout: float = SHUTDOWN_SECONDS) -> AsyncIterator[web.AppRunner]:
    settings = service.settings.server
    limits = ConnectionLimits.of(settings, max_connections=fit_to_open_files(settings.max_connections))
    lines = ErrorLines(service.metrics, protocols=(GuardedConnection, Refusal))
    guard = ConnectionGuard(limits, service.metrics, on_request=_reader_seen(service))
    app = create_app(service, guard)  # marks each request's connection busy
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout,
                           keepalive_timeout=settings.keepalive_timeout,
                           logger=HttpErrorLog(lines))
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    await runner.setup()
    try:
        assert runner.server is not None
        guard.serve(runner.server)
        lines.listeners.add(sock.fileno())
        loop.set_exception_handler(lines.loop_handler(previous or _default_handler))
        listener = await loop.create_server(guard, sock=sock, backlog=BACKLOG)
        try:
            yield runner
        finally:
            listener.close()  # stop accepting; the connections are shut down below
    finally:
        await runner.cleanup()
        guard.close()
        loop.set_exception_handler(previous)


def _default_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    loop.default_exception_handler(context)
