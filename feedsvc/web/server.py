"""Serving the app on a socket bound before anything else starts.

``listen`` binds first, so a port in use fails at once, before the store is opened
or a topic compiled; connections that arrive while the service starts wait in the
kernel's backlog. ``http_server`` serves a built service on that socket until its
context ends, then stops accepting, lets requests in flight finish (up to
``shutdown_timeout``) and closes.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from feedsvc.service import Service
from feedsvc.web.app import create_app

SHUTDOWN_SECONDS = 2.0


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket; raises ``OSError`` (address in use, no such address)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1024)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


@asynccontextmanager
async def http_server(service: Service, sock: socket.socket, *,
                      shutdown_timeout: float = SHUTDOWN_SECONDS) -> AsyncIterator[web.AppRunner]:
    runner = web.AppRunner(create_app(service), access_log=None,
                           shutdown_timeout=shutdown_timeout)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        yield runner
    finally:
        await runner.cleanup()
