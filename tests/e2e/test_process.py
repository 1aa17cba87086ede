"""The service as a process: SIGKILL mid-poll loses nothing, SIGTERM exits cleanly."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

import aiohttp
import feedparser
import pytest

from feedsvc.replica import ReplicaSite
from feedsvc.store.codec import decode_article
from tests.conftest import SHIPPED_TOPICS, republished_copies

pytestmark = [pytest.mark.slow, pytest.mark.dates]
ARTICLE_PAGES = "/*/*-*"


def write_config(tmp_path: Path, replica_url: str, port: int, *, server: str = "",
                 storage: str = "", scheduler: str = "") -> Path:
    """A settings file polling the replica; ``server``, ``storage`` and ``scheduler`` are
    more lines of those tables."""
    config = tmp_path / "feedsvc.toml"
    config.write_text(f"""
topics_file = "{SHIPPED_TOPICS}"
[server]
port = {port}
public_url = "http://127.0.0.1:{port}"
{server}
[storage]
url = "sqlite:///{tmp_path / 'feedsvc.db'}"
{storage}
[[sources]]
name = "rt-arabic"
base_url = "{replica_url}"
feeds = ["/rss/"]
interval = "1h"
[fetch]
min_host_delay = 0
respect_robots = false
[scheduler]
tick = "1s"
{scheduler}
""", encoding="utf-8")
    return config


async def start(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "feedsvc", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)


def stored_rows(db: Path) -> dict[str, tuple[str, bytes]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return {row[0]: (row[1], row[2]) for row in
                conn.execute("SELECT id, content_hash, body FROM articles")}


async def wait_for_rows(db: Path, at_least: int, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        if db.exists():
            try:
                if len(stored_rows(db)) >= at_least:
                    return
            except sqlite3.OperationalError:
                pass  # schema not created yet
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {at_least} articles stored after {timeout}s")


async def test_sigkill_during_a_poll_loses_no_committed_article(
        replica: ReplicaSite, tmp_path: Path, unused_tcp_port: int) -> None:
    config = write_config(tmp_path, replica.base_url, unused_tcp_port)
    db = tmp_path / "feedsvc.db"
    replica.inject("slow", ARTICLE_PAGES, delay=0.15)
    process = await start("poll", "--config", str(config))
    await wait_for_rows(db, at_least=5)
    process.send_signal(signal.SIGKILL)
    await process.wait()
    committed = stored_rows(db)
    entries = feedparser.parse(await _rss(replica)).entries
    stories = len(entries) - len(republished_copies(replica, (e.link for e in entries)))
    assert 5 <= len(committed) < stories, "the kill should land mid-poll"

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    for article_id, (_, body) in committed.items():
        assert decode_article(body).id == article_id  # every row whole, none half-written

    replica.clear_faults()
    process = await start("poll", "--config", str(config))
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()
    after = stored_rows(db)
    assert len(after) == stories
    for article_id, (content_hash, _) in committed.items():
        assert after[article_id][0] == content_hash


async def _rss(replica: ReplicaSite) -> bytes:
    async with aiohttp.ClientSession() as http, http.get(f"{replica.base_url}/rss/") as response:
        return await response.read()


async def test_sigterm_stops_the_service_cleanly_mid_poll(
        replica: ReplicaSite, tmp_path: Path, unused_tcp_port: int) -> None:
    config = write_config(tmp_path, replica.base_url, unused_tcp_port)
    replica.inject("slow", ARTICLE_PAGES, delay=0.1)
    process = await start("serve", "--config", str(config))
    base = f"http://127.0.0.1:{unused_tcp_port}"
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(f"{base}/readyz") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the service never became ready")
    await wait_for_rows(tmp_path / "feedsvc.db", at_least=2)
    process.send_signal(signal.SIGTERM)
    output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, output.decode()
    with sqlite3.connect(tmp_path / "feedsvc.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA wal_checkpoint").fetchone()[0] == 0


async def test_check_config_reports_file_line_and_reason(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[server]\nport = "eighty"\n[[sources]]\ninterval = "soon"\n', encoding="utf-8")
    process = await start("check-config", "--config", str(config))
    output, _ = await process.communicate()
    assert process.returncode == 1
    assert output.decode().splitlines() == [
        f"{config}:2: server.port: 'eighty': expected a whole number",
        f"{config}:4: sources[0].interval: 'soon': 'soon' is not a duration; use e.g. '90s', '5m', '1h', '7d'",
    ]


async def test_serve_refuses_an_invalid_config(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[server]\nprot = 1\n", encoding="utf-8")
    process = await start("serve", "--config", str(config))
    output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 1
    assert f"{config}:2: server.prot: unknown key" in output.decode()


async def test_demo_fills_topic_feeds_without_network(tmp_path: Path, unused_tcp_port_factory: Any) -> None:
    port, replica_port = unused_tcp_port_factory(), unused_tcp_port_factory()
    process = await start("demo", "--port", str(port), "--replica-port", str(replica_port),
                          "--data", str(tmp_path / "demo"))
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(600):  # the replica asks for a 1 s crawl delay, like the site
                try:
                    async with http.get(f"http://127.0.0.1:{port}/api/topics") as response:
                        topics = {t["slug"]: t["count"] for t in (await response.json())["topics"]}
                    if topics["all"] >= 10 and any(topics[s] for s in topics if s != "all"):
                        break
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the demo's feeds did not fill")
            async with http.get(f"http://127.0.0.1:{port}/feeds/all.atom") as response:
                assert not feedparser.parse(await response.read()).bozo
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 0, output.decode()[-2000:]
