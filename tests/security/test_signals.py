"""SIGTERM or SIGINT during a long start-up ends ``feedsvc serve`` within 10 s, status 0.

Found: SIGTERM during a long start-up was ignored until a second SIGTERM, about 9
minutes later. Two long start-ups are tried: the backfill of a new topic over tens of
thousands of stored articles, and opening a PostgreSQL store whose server accepts
the connection and never answers.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from feedsvc.store.codec import decode_article, encode_article, to_micros
from tests.conftest import SHIPPED_TOPICS
from tests.web.conftest import Polled

pytestmark = pytest.mark.slow
STOP_WITHIN = 10.0  # what a container runtime waits between SIGTERM and SIGKILL
COPIES = 800  # of each polled article: about 30,000 articles to backfill
LAVROV = '''
[[topics]]
slug = "lavrov"
title = "لافروف"
description = "كل ما يقوله وزير الخارجية الروسي"
query = "لافروف"
'''


def write_config(folder: Path, port: int, storage: str, topics: Path) -> Path:
    config = folder / "feedsvc.toml"
    config.write_text(f"""topics_file = "{topics}"
[server]
port = {port}
[storage]
url = "{storage}"
[[sources]]
name = "rt-arabic"
base_url = "http://127.0.0.1:9"
interval = "1h"
""", encoding="utf-8")
    return config


def grow(db: Path, copies: int) -> int:
    """Store ``copies`` older copies of every article, straight into the file; returns
    the articles stored. Their topics are left to the backfill."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT body FROM articles WHERE live = 1").fetchall()
        originals = [decode_article(row[0]) for row in rows]
        new_rows = []
        for n in range(1, copies + 1):
            for article in originals:
                copy = replace(article, id=f"{article.id}-{n}", url=f"{article.url}?copy={n}")
                new_rows.append((copy.id, copy.source, to_micros(copy.published),
                                 to_micros(copy.updated), copy.content_hash, encode_article(copy)))
        conn.executemany("INSERT INTO articles (id, source, published, updated, content_hash, "
                         "live, body) VALUES (?, ?, ?, ?, ?, 1, ?)", new_rows)
        conn.execute("UPDATE topic_counts SET count = count + ? WHERE topic = ''", (len(new_rows),))
    return len(originals) * (copies + 1)


async def serve(config: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "feedsvc", "serve", "--config", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)


async def lines_until(process: asyncio.subprocess.Process, event: str) -> list[str]:
    """The process's log lines up to the first with ``event``."""
    assert process.stdout is not None
    seen: list[str] = []
    while True:
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        if not line:
            raise AssertionError(f"the process ended before {event}: {''.join(seen)[-2000:]}")
        seen.append(line)
        if event in line:
            return seen


async def stopped(process: asyncio.subprocess.Process, signum: int) -> str:
    process.send_signal(signum)
    output, _ = await asyncio.wait_for(process.communicate(), STOP_WITHIN)
    return output.decode()


async def test_sigterm_during_the_backfill_of_a_new_topic_stops_within_10_s(
        polled: Polled, tmp_path: Path, unused_tcp_port: int) -> None:
    polled.copy_to(tmp_path)
    stored = grow(tmp_path / "feedsvc.db", COPIES)
    topics = tmp_path / "topics.toml"
    topics.write_text(SHIPPED_TOPICS.read_text(encoding="utf-8") + LAVROV, encoding="utf-8")
    config = write_config(tmp_path, unused_tcp_port, f"sqlite:///{tmp_path / 'feedsvc.db'}", topics)
    process = await serve(config)
    before = await lines_until(process, "topics.backfilling")
    assert f"articles={stored}" in before[-1]
    output = await stopped(process, signal.SIGTERM)
    assert process.returncode == 0, output[-2000:]
    assert "topics.loaded" not in output, "the signal came after the backfill: grow the store"
    assert "Traceback" not in output
    with sqlite3.connect(tmp_path / "feedsvc.db") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT COUNT(*) FROM topic_rules WHERE topic = 'lavrov'").fetchone() == (0,)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_signal_while_the_store_does_not_answer_stops_within_10_s(
        tmp_path: Path, unused_tcp_port_factory: object, signum: int) -> None:
    """A PostgreSQL server that accepts and never answers: opening it would take its
    10 s timeout and fail (status 1); the signal ends it at once, status 0."""
    accepted = asyncio.Event()
    held: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        accepted.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    db_port = server.sockets[0].getsockname()[1]
    port = unused_tcp_port_factory()  # type: ignore[operator]
    config = write_config(tmp_path, port, f"postgresql://feedsvc@127.0.0.1:{db_port}/feedsvc",
                          SHIPPED_TOPICS)
    try:
        process = await serve(config)
        await asyncio.wait_for(accepted.wait(), 60)  # the store is being opened
        output = await stopped(process, signum)
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
    assert process.returncode == 0, output[-2000:]
    assert "Traceback" not in output and "cannot start" not in output
