"""Shared code of the security tests: settings, raw sockets to play hostile clients
with, waiting for a condition, and reading /metrics."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import aiohttp

from feedsvc.config import Settings
from feedsvc.service import Service
from tests.ops.test_metrics import scrape, value
from tests.web.conftest import Polled, web_settings

Started = tuple[Service, aiohttp.ClientSession, str]
HANG_GUARD = 30.0  # seconds a wait-until may take before the test fails: never reached when all is well


def with_server(settings: Settings, **server: Any) -> Settings:
    return replace(settings, server=replace(settings.server, **server))


def polled_settings(polled: Polled, folder: Path, **server: Any) -> Settings:
    """Settings serving a copy of the module's polled database; ``server`` overrides."""
    polled.copy_to(folder)
    return web_settings("http://127.0.0.1:9", folder, **server)


async def raw_connection(base: str, sent: bytes = b"", *, receive_buffer: int | None = None
                         ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A client socket that sends ``sent`` and then whatever the test writes."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:  # before connecting, so the window is small from the start
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.setblocking(False)
    try:
        await asyncio.wait_for(asyncio.get_running_loop().sock_connect(sock, (host, int(port))),
                               HANG_GUARD)
    except BaseException:
        sock.close()
        raise
    reader, writer = await asyncio.open_connection(sock=sock)
    if sent:
        writer.write(sent)
        await writer.drain()
    return reader, writer


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (reset counts as closed)."""
    try:
        return await asyncio.wait_for(reader.read(), HANG_GUARD)
    except ConnectionResetError:
        return b""


async def eventually(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll ``check`` until it holds; fail after the hang guard."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HANG_GUARD
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"not true within {HANG_GUARD}s")
        await asyncio.sleep(0.05)


async def metric(http: aiohttp.ClientSession, base: str, name: str, **labels: str) -> float:
    return value(await scrape(http, base), name, **labels)


async def dropped(http: aiohttp.ClientSession, base: str, reason: str) -> float:
    return await metric(http, base, "feedsvc_http_connections_dropped_total", reason=reason)
