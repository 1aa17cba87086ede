"""Errors of connections are one short line each, within a budget; never a traceback.

Found: each malformed request (a NUL in the path, a bad header name) wrote a ten-line
traceback from ``aiohttp.server``, and a flood of connections that exhausted the
process's descriptors wrote 28 MB of accept tracebacks in 25 s while /healthz timed
out.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import signal
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from feedsvc.web.connections import FD_RESERVE
from feedsvc.web.errorlog import LINES_PER_WINDOW, LineBudget
from feedsvc.web.server import http_server, listen
from tests.conftest import SHIPPED_TOPICS
from tests.security.support import (
    closed_by_server,
    metric,
    polled_settings,
    raw_connection,
)
from tests.web.conftest import Polled

MALFORMED = [
    b"GET /feeds/all.atom\x00 HTTP/1.1\r\nHost: x\r\n\r\n",          # NUL in the path
    b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n",                       # space in a header name
    b"GET / HTTP/1.1\r\nHost: x\r\nX-Ctl: a\x01b\r\n\r\n",             # control byte in a value
    b"GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",  # two lengths
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(32),      # TLS on the plain port
    b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n",                      # request line too long
]


def lines_of(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(("feedsvc.http", "aiohttp", "asyncio"))]


async def test_malformed_requests_get_400_and_one_line_each_within_the_budget(
        polled: Polled, serve_guarded: Any, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    service, http, base = await serve_guarded(polled_settings(polled, tmp_path))
    rounds = 20
    with caplog.at_level(logging.INFO):
        for _ in range(rounds):
            for request in MALFORMED:
                reader, writer = await raw_connection(base, request)
                answer = await closed_by_server(reader)
                assert answer.startswith(b"HTTP/1.0 400") or answer.startswith(b"HTTP/1.1 400"), answer[:80]
                writer.close()
    records = lines_of(caplog)
    assert records, "the first malformed requests are logged"
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in records)
    assert all(r.getMessage().startswith("http.bad_request ") for r in records), \
        [r.getMessage() for r in records]
    assert len(records) <= LINES_PER_WINDOW  # one window: 120 requests, 5 lines
    assert all(len(r.getMessage()) < 300 for r in records)  # the reason, not a dump of the bytes
    # TLS junk is logged at DEBUG by aiohttp's choice; every one is counted
    counted = await metric(http, base, "feedsvc_http_errors_total", kind="bad_request")
    assert counted == rounds * len(MALFORMED)


async def test_accept_failures_are_one_line_each_within_the_budget(
        polled: Polled, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from feedsvc.service import open_service

    settings = polled_settings(polled, tmp_path)
    sock = listen("127.0.0.1", 0)
    loop = asyncio.get_running_loop()
    failure = OSError(errno.EMFILE, "Too many open files")
    with sock, caplog.at_level(logging.INFO):
        async with open_service(settings, scheduling=False) as service, http_server(service, sock):
            for _ in range(1000):  # what asyncio reports when accept() fails
                loop.call_exception_handler({"message": "socket.accept() out of system resource",
                                             "exception": failure, "socket": sock})
            text = service.metrics.render().decode()
        loop.call_exception_handler({"message": "after the server: not ours any more"})
    records = lines_of(caplog)
    ours = [r for r in records if r.name == "feedsvc.http"]
    assert len(ours) == LINES_PER_WINDOW
    assert all(r.exc_info is None and r.getMessage().startswith("http.accept_failed ") for r in ours)
    assert "Too many open files" in ours[0].getMessage()
    assert 'feedsvc_http_errors_total{kind="accept_failed"} 1000.0' in text
    assert [r.getMessage() for r in records if r.name == "asyncio"] == [
        "after the server: not ours any more"]


def test_the_line_budget_reports_what_it_left_out() -> None:
    budget = LineBudget(lines=2, window=60.0)
    assert [budget.admit("e", t) for t in (0.0, 1.0, 2.0, 3.0)] == [0, 0, None, None]
    assert budget.admit("other", 3.0) == 0  # each event has its own budget
    assert budget.admit("e", 61.0) == 2  # the first line of the next window says so
    assert budget.admit("e", 62.0) == 0


def _low_open_files() -> None:
    """In the child: an open-files limit a few hundred stalled sockets exhaust."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (FD_RESERVE + 100, FD_RESERVE + 100))


@pytest.mark.slow
async def test_stalled_sockets_beyond_the_open_files_limit_keep_serve_healthy_and_quiet(
        polled: Polled, tmp_path: Path, unused_tcp_port: int) -> None:
    """``feedsvc serve`` under an open-files limit of 356: 500 stalled sockets once made
    accept() fail (a traceback a second) and /healthz hang; now the connections are
    capped below the limit and the idlest make room."""
    polled.copy_to(tmp_path)
    config = tmp_path / "feedsvc.toml"
    config.write_text(f"""topics_file = "{SHIPPED_TOPICS}"
[server]
port = {unused_tcp_port}
[storage]
url = "sqlite:///{tmp_path / 'feedsvc.db'}"
[[sources]]
name = "rt-arabic"
base_url = "http://127.0.0.1:9"
interval = "1h"
""", encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "feedsvc", "serve", "--config", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        preexec_fn=_low_open_files)
    base = f"http://127.0.0.1:{unused_tcp_port}"
    timeout = aiohttp.ClientTimeout(total=10)
    stalled = []
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            await _ready(http, base)
            for _ in range(500):
                stalled.append(await raw_connection(base, b"GET / HTTP/1.1\r\nHost: x\r\nX-"))
            for path in ("/healthz", "/feeds/all.atom"):
                async with http.get(base + path) as response:
                    assert response.status == 200, path
            for reader, _ in stalled[:300]:  # the oldest were closed to make room
                assert await closed_by_server(reader) == b""
    finally:
        for _, writer in stalled:
            writer.close()
        process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    log = output.decode()
    assert process.returncode == 0, log[-2000:]
    assert "Traceback" not in log and "server.connections_lowered" in log
    assert len(log.splitlines()) < 20, log[-2000:]


async def _ready(http: aiohttp.ClientSession, base: str) -> None:
    for _ in range(600):
        try:
            async with http.get(base + "/readyz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("feedsvc serve never became ready")
