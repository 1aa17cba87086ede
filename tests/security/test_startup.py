"""The commands as processes: a bad file stops them with its lines, and a database
password never leaves the settings (not in errors, /healthz, pages or logs). A reload
is held to the same limits as the start."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
import pytest

from feedsvc.config import TopicsSettings
from feedsvc.replica import ReplicaSite
from tests.conftest import SHIPPED_TOPICS, settings_for
from tests.store.support import create_database, drop_database, server_url

pytestmark = [pytest.mark.slow, pytest.mark.dates]
SECRET = "s3cret-in-the-url"


async def run(*args: str, timeout: float = 60) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "feedsvc", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return process.returncode, output.decode()


def write_config(tmp_path: Path, topics: Path, *, storage: str | None = None, port: int = 8080,
                 base_url: str = "http://127.0.0.1:9", level: str = "INFO") -> Path:
    config = tmp_path / "feedsvc.toml"
    config.write_text(f"""topics_file = "{topics}"
[server]
port = {port}
[storage]
url = "{storage or 'sqlite:///' + str(tmp_path / 'feedsvc.db')}"
[[sources]]
name = "rt-arabic"
base_url = "{base_url}"
[fetch]
min_host_delay = 0
respect_robots = false
[logging]
level = "{level}"
""", encoding="utf-8")
    return config


@pytest.mark.parametrize("command", [("serve",), ("poll",), ("topics", "test", "gaza")])
async def test_a_topics_file_over_a_limit_stops_every_command_in_one_line(
        tmp_path: Path, command: tuple[str, ...]) -> None:
    topics = tmp_path / "topics.toml"
    topics.write_text('[[topics]]\nslug = "gaza"\ntitle = "غزة"\ndescription = "d"\n'
                      f'query = "غزة"\nsections = {"[" * 20_000}\n', encoding="utf-8")
    code, output = await run(*command, "--config", str(write_config(tmp_path, topics)))
    assert (code, output) == (1, "feedsvc: cannot start: " f"{topics}:6:28: arrays and tables "
                                 "nested 17 deep: deeper than the limit of 16\n")


@pytest.mark.parametrize("command", ["serve", "poll", "check-config"])
async def test_a_settings_file_that_is_not_text_stops_every_command(tmp_path: Path, command: str) -> None:
    config = tmp_path / "feedsvc.toml"
    config.write_bytes(b"[server]\nport = 8080\n\x89PNG\r\n\x1a\n\x00\x00")
    code, output = await run(command, "--config", str(config))
    assert (code, output) == (
        1, f"{config}:3:1: not UTF-8 text: byte 0x89 (invalid start byte); save the file as UTF-8\n")


async def test_a_deeply_nested_topics_file_is_one_line(tmp_path: Path) -> None:
    topics = tmp_path / "topics.toml"
    topics.write_text("[[topics]]\nsections = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    code, output = await run("check-config", "--config", str(write_config(tmp_path, topics)))
    assert (code, output) == (
        1, f"{topics}:2:28: arrays and tables nested 17 deep: deeper than the limit of 16\n")


def with_password(url: str) -> tuple[str, str]:
    """``url`` with a password in it (the test server trusts any; a configured one is kept)."""
    parts = urlsplit(url)
    if parts.password:
        return url, parts.password
    netloc = f"{parts.username or 'postgres'}:{SECRET}@{parts.hostname}:{parts.port or 5432}"
    return parts._replace(netloc=netloc).geturl(), SECRET


@pytest.fixture
async def database_with_password() -> AsyncIterator[tuple[str, str]]:
    url = await create_database(server_url())
    yield with_password(url)
    await drop_database(url)


@pytest.mark.postgres
async def test_the_storage_password_is_never_shown(
        replica: ReplicaSite, tmp_path: Path, unused_tcp_port: int,
        database_with_password: tuple[str, str]) -> None:
    url, password = database_with_password
    config = write_config(tmp_path, SHIPPED_TOPICS, storage=url, port=unused_tcp_port,
                          base_url=replica.base_url, level="DEBUG")
    code, output = await run("check-config", "--config", str(config))
    assert code == 0 and password not in output, output

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "feedsvc", "serve", "--config", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    base = f"http://127.0.0.1:{unused_tcp_port}"
    bodies: list[str] = []
    try:
        async with aiohttp.ClientSession() as http:
            health = await _poll_until_polled(http, base)
            bodies.append(health)
            for path in ("/readyz", "/metrics", "/", "/feeds/gaza.atom", "/api/topics", "/no-such-page"):
                async with http.get(base + path) as response:
                    bodies.append(await response.text())
    finally:
        process.send_signal(signal.SIGTERM)
        logs, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, logs.decode()
    assert "poll.done" in logs.decode()  # the logs are there, at DEBUG
    for text in (*bodies, logs.decode()):
        assert password not in text


async def _poll_until_polled(http: aiohttp.ClientSession, base: str) -> str:
    """The /healthz body once the first poll has finished (the process runs on its own clock)."""
    for _ in range(600):
        try:
            async with http.get(base + "/healthz") as response:
                body = await response.text()
                if response.status == 200 and '"last_success_at":null' not in body:
                    return body
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("the service never finished a poll")


async def test_a_reload_over_the_limits_keeps_the_last_good_topics(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> None:
    topics_file = tmp_path / "topics.toml"
    topics_file.write_bytes(SHIPPED_TOPICS.read_bytes())
    limit = topics_file.stat().st_size + 100
    settings = replace(settings_for(replica.base_url, tmp_path, topics_file=topics_file),
                       topics=TopicsSettings(max_file_bytes=limit))
    service, http, base = await serve_feedsvc(settings)
    shipped = set(service.topics.topics)
    topics_file.write_bytes(SHIPPED_TOPICS.read_bytes() + b"#" * 200 + b"\n")

    assert await service.topics.reload() is False
    size = topics_file.stat().st_size
    problem = f"{topics_file}: {size} bytes: larger than the limit of {limit} (topics.max_file_bytes)"
    async with http.get(f"{base}/healthz") as response:
        health = orjson.loads(await response.read())
    assert (health["status"], health["config"]["error"]) == ("degraded", problem)
    assert set(service.topics.topics) == shipped
