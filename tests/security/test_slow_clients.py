"""Slow and idle clients are closed on time, and a flood of them cannot keep anyone out.

Found: sockets that sent half a request head and then nothing stayed open for good
(1,000 of them for more than 100 s), and about 20,000 of them made /healthz and the
feeds time out for everyone. Each test here fails with a hung socket (after the hang
guard) or a refused request when a limit is missing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from feedsvc.service import Service
from feedsvc.web.connections import BUSY
from tests.security.support import (
    closed_by_server,
    dropped,
    eventually,
    polled_settings,
    raw_connection,
)
from tests.web.conftest import Polled

HALF_A_HEAD = b"GET /feeds/all.atom HTTP/1.1\r\nHost: feeds.test\r\nX-Slow: "
STALLERS = 200  # client and server ends: 400 descriptors, far inside the default 1024
# A client that asks for a lot and reads none of it (its receive buffer is tiny): the
# server's socket buffers fill and the rest waits in the process.
UNREAD = b"GET /feeds/all.json?limit=200 HTTP/1.1\r\nHost: feeds.test\r\n\r\n" * 100


def gauge(service: Service, state: str) -> float:
    """``feedsvc_http_connections{state}`` as /metrics would show it, without a connection
    of its own (which would take one of the places being counted)."""
    for family in text_string_to_metric_families(service.metrics.render().decode()):
        for sample in family.samples:
            if sample.name == "feedsvc_http_connections" and sample.labels == {"state": state}:
                return float(sample.value)
    raise AssertionError("no feedsvc_http_connections series")


async def test_half_sent_request_heads_are_closed_after_the_head_timeout(
        polled: Polled, serve_guarded: Any, tmp_path: Path) -> None:
    service, http, base = await serve_guarded(polled_settings(polled, tmp_path, head_timeout=0.5))
    stalled = [await raw_connection(base, HALF_A_HEAD) for _ in range(STALLERS // 2)]
    silent = [await raw_connection(base) for _ in range(STALLERS // 2)]  # not even a byte
    for reader, writer in stalled + silent:
        assert await closed_by_server(reader) == b""
        writer.close()
    assert await dropped(http, base, "head_timeout") == STALLERS
    async with http.get(f"{base}/feeds/all.atom") as response:
        assert response.status == 200


async def test_an_idle_connection_is_closed_after_the_keepalive_timeout(
        polled: Polled, serve_guarded: Any, tmp_path: Path) -> None:
    service, http, base = await serve_guarded(
        polled_settings(polled, tmp_path, keepalive_timeout=0.5, head_timeout=60))
    request = b"GET /readyz HTTP/1.1\r\nHost: feeds.test\r\n\r\n"
    reader, writer = await raw_connection(base, request)
    answer = await closed_by_server(reader)
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.count(b"HTTP/1.1") == 1
    writer.close()
    # a second request started after the first answer must be complete within it too
    reader, writer = await raw_connection(base, request + HALF_A_HEAD)
    answer = await closed_by_server(reader)
    assert answer.startswith(b"HTTP/1.1 200 OK") and answer.count(b"HTTP/1.1") == 1
    writer.close()


async def test_a_flood_of_stalled_connections_cannot_keep_healthz_or_feeds_out(
        polled: Polled, serve_guarded: Any, tmp_path: Path) -> None:
    service, http, base = await serve_guarded(
        polled_settings(polled, tmp_path, max_connections=50, head_timeout=60))
    stalled = [await raw_connection(base, HALF_A_HEAD) for _ in range(STALLERS)]
    for path in ("/healthz", "/feeds/all.atom", "/feeds/gaza.json", "/topics/sport"):
        async with http.get(base + path) as response:
            assert response.status == 200, path
    # each connection past the 50th closed the one idle longest: the oldest stallers
    assert gauge(service, "idle") + gauge(service, "busy") <= 50
    evicted = await dropped(http, base, "evicted")
    assert evicted >= STALLERS - 50
    for reader, writer in stalled[: STALLERS - 50]:
        assert await closed_by_server(reader) == b""
        writer.close()
    for _, writer in stalled[STALLERS - 50:]:
        writer.close()
    assert await dropped(http, base, "refused") == 0


async def test_a_client_that_stops_reading_is_dropped_after_the_send_timeout(
        polled: Polled, serve_guarded: Any, tmp_path: Path) -> None:
    service, http, base = await serve_guarded(polled_settings(polled, tmp_path, send_timeout=0.5))
    reader, writer = await raw_connection(base, UNREAD, receive_buffer=4096)

    async def gone() -> bool:
        return await dropped(http, base, "send_timeout") == 1

    await eventually(gone)
    writer.close()
    assert gauge(service, "busy") <= 1  # at most the scrape of the moment


async def test_over_the_cap_with_no_idle_connection_a_new_one_gets_a_plain_503(
        polled: Polled, serve_guarded: Any, tmp_path: Path) -> None:
    service, http, base = await serve_guarded(
        polled_settings(polled, tmp_path, max_connections=2, send_timeout=60))
    readers = [await raw_connection(base, UNREAD, receive_buffer=4096) for _ in range(2)]

    async def both_busy() -> bool:
        return gauge(service, "busy") == 2

    await eventually(both_busy)  # both wait for their client to read: neither is idle
    reader, writer = await raw_connection(base, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert await closed_by_server(reader) == BUSY
    writer.close()
    for _, unread in readers:
        unread.close()
    await eventually(lambda: _none_busy(service))
    assert await dropped(http, base, "refused") == 1
    assert await dropped(http, base, "evicted") == 0


async def _none_busy(service: Service) -> bool:
    await asyncio.sleep(0)
    return gauge(service, "busy") == 0
