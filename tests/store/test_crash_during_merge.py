"""A process killed in the middle of merges leaves each merge wholly done or not done."""

from __future__ import annotations

import asyncio
import random
import signal
import sqlite3
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from feedsvc.store import ALL_TOPIC, SQLiteStore
from tests.factories import T0, make_article

pytestmark = pytest.mark.slow
PAIRS = 400
WORKER = Path(__file__).with_name("crash_worker.py")


async def build(path: Path) -> None:
    store = SQLiteStore(path)
    await store.open()
    for n in range(PAIRS):
        copy = replace(make_article(n), id=f"rt-arabic:{1_000_000 + n}",
                       url=f"https://arabic.rt.com/news/{1_000_000 + n}-copy/")
        survivor = replace(make_article(n), id=f"rt-arabic:{2_000_000 + n}",
                           url=f"https://arabic.rt.com/news/{2_000_000 + n}-original/")
        await store.save_article(copy, {"syria"}, aliases=[f"https://mirror.example/{n}/"], now=T0)
        await store.save_article(survivor, {"syria"}, now=T0)
    await store.close()


def merged_count(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM articles WHERE live = 0").fetchone()[0])


def merged_state(conn: sqlite3.Connection, n: int) -> bool:
    """True when pair n is merged, False when untouched; fails on anything in between."""
    copy, survivor = f"rt-arabic:{1_000_000 + n}", f"rt-arabic:{2_000_000 + n}"
    live = conn.execute("SELECT live FROM articles WHERE id = ?", (copy,)).fetchone()[0]
    in_topic = conn.execute("SELECT COUNT(*) FROM topic_articles WHERE article_id = ?",
                            (copy,)).fetchone()[0]
    aliases = dict(conn.execute(
        "SELECT key, article_id FROM aliases WHERE key IN (?, ?, ?)",
        (f"id:{copy}", f"https://mirror.example/{n}/",
         f"https://arabic.rt.com/news/{1_000_000 + n}-copy/")).fetchall())
    after = (live, in_topic, aliases) == (0, 0, {
        f"id:{copy}": survivor, f"https://mirror.example/{n}/": survivor,
        f"https://arabic.rt.com/news/{1_000_000 + n}-copy/": survivor})
    before = (live, in_topic, aliases) == (1, 1, {f"https://mirror.example/{n}/": copy})
    assert before or after, f"pair {n} is half-merged: live={live} topic={in_topic} {aliases}"
    return after


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_sigkill_mid_merge_leaves_no_half_merged_article(tmp_path: Path, seed: int) -> None:
    db = tmp_path / "merge.db"
    await build(db)
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(WORKER), str(db), str(PAIRS), stdout=asyncio.subprocess.PIPE)
    assert process.stdout is not None
    assert await process.stdout.readline() == b"ready\n"
    while not merged_count(db):  # kill only once merging is under way …
        await asyncio.sleep(0.002)
    await asyncio.sleep(random.Random(seed).uniform(0, 0.02))  # … at an arbitrary moment
    process.send_signal(signal.SIGKILL)
    await process.wait()

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        merged = [merged_state(conn, n) for n in range(PAIRS)]
    done = sum(merged)
    assert merged == [True] * done + [False] * (PAIRS - done), "merges ran in order"
    assert 0 < done < PAIRS, f"the kill should land mid-run ({done} of {PAIRS} merged)"

    store = SQLiteStore(db)  # reopened, the counts agree with the rows
    await store.open()
    stats = await store.topic_stats(["syria", ALL_TOPIC])
    assert stats["syria"].count == 2 * PAIRS - done
    assert stats[ALL_TOPIC].count == 2 * PAIRS - done
    await store.close()
