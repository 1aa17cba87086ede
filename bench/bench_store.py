"""SQLite store: one topic's newest page, a deep page and topic stats at 1k, 100k and 1M articles.

Run: ``.venv/bin/python bench/bench_store.py`` (``--sizes 1000 100000`` for a short run).

For each size a fresh SQLite file is made under a temporary directory: a
``SQLiteStore`` is opened once so its migrations create the schema, then the rows
are bulk-loaded with ``sqlite3.executemany`` in one transaction (``synchronous=OFF``
only while building). Articles are small realistic bodies (Arabic title, lead and
two paragraphs cut from the replica's articles, ~2 KB encoded as the store
encodes them; Arabic is two bytes a letter), one every ~5 minutes, each in 1 to 3 of 20 topics picked with
Zipf-like weights, so the largest topic holds about a fifth of all articles.

Then, through the real ``SQLiteStore`` (aiosqlite, as the web layer calls it):

    page      topic_page(topic, limit=50): the newest page of the largest topic
    deep      topic_page(topic, limit=50, before=cursor) with the cursor 90 % deep
              (at most 51 from the end, so a full page remains)
    all       topic_page("all", limit=50)
    stats     topic_stats([every topic, "all"]): what /api/topics and the index ask
    scan      the COUNT/MAX join topic_stats ran before migration 3, for every topic
              (fewer rounds: it is slow), as the baseline of the same run

Each is repeated (``--rounds``) and reported as median and p95 in milliseconds,
with the ratio of each size's median to the smallest size's in the same run.
``EXPLAIN QUERY PLAN`` of the page queries (captured from the store's own SQL with
a trace callback) shows which index answers them. The files are deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feedsvc.models import Article  # noqa: E402
from feedsvc.normalize.article import content_hash  # noqa: E402
from feedsvc.store import ALL_TOPIC, Cursor  # noqa: E402
from feedsvc.store.codec import encode_article, from_micros, to_micros  # noqa: E402
from feedsvc.store.sqlite import SQLiteStore  # noqa: E402

DATA = ROOT / "feedsvc" / "replica" / "data" / "articles.json"
TOPICS = [f"topic-{n:02d}" for n in range(20)]
START = datetime(2015, 12, 15, tzinfo=UTC)
STEP = timedelta(minutes=5)
BATCH = 20_000
OLD_STATS_SQL = ("SELECT COUNT(*), MAX(a.updated) FROM topic_articles t "
                 "JOIN articles a ON a.id = t.article_id WHERE t.topic = ?")


# -- building ------------------------------------------------------------------------


def texts() -> list[tuple[str, str, list[str]]]:
    """(title, lead, paragraphs) of the replica's articles, cut to a small news item."""
    raw = json.loads(DATA.read_text(encoding="utf-8"))["articles"]
    return [(a["title"], a.get("lead", "")[:160], [p[:160] for p in a.get("paragraphs", [])[:2]])
            for a in raw]


def article_rows(count: int, seed: int) -> Iterator[tuple[tuple[object, ...], list[str]]]:
    rng = random.Random(seed)
    corpus = texts()
    weights = [1 / (rank + 1) for rank in range(len(TOPICS))]
    for n in range(count):
        title, lead, paragraphs = corpus[n % len(corpus)]
        published = START + n * STEP
        updated = published + timedelta(minutes=rng.choice((0, 0, 0, 20, 90)))
        html = "".join(f"<p>{p}</p>" for p in paragraphs)
        article = Article(
            id=f"rt-arabic:{1_000_000 + n}", source="rt-arabic",
            url=f"https://arabic.rt.com/news/{1_000_000 + n}-x/", title=title, summary=lead,
            content_html=f'<div dir="rtl" lang="ar">{html}</div>',
            content_text="\n\n".join(paragraphs), published=published, updated=updated,
            fetched_at=published, content_hash="", section="news", tags=("سوريا",),
        )
        digest = content_hash(title, lead, html, None, article.tags, None, None, "news")
        row = (article.id, article.source, to_micros(published), to_micros(updated), digest,
               encode_article(article), digest[:16])
        topics = sorted(set(rng.choices(TOPICS, weights, k=rng.randint(1, 3))))
        yield row, topics


def build(path: Path, count: int, seed: int) -> float:
    asyncio.run(_create_schema(path))
    started = time.perf_counter()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA synchronous=OFF")
    topic_sql = ("INSERT INTO topic_articles (topic, article_id, published, updated) "
                 "VALUES (?, ?, ?, ?)")
    db.execute("BEGIN")
    articles: list[tuple[object, ...]] = []
    memberships: list[tuple[object, ...]] = []
    for row, topics in article_rows(count, seed):
        articles.append(row)
        memberships += [(topic, row[0], row[2], row[3]) for topic in topics]
        if len(articles) >= BATCH:
            _flush(db, articles, memberships, topic_sql)
    _flush(db, articles, memberships, topic_sql)
    # what the store's writes keep up one by one (migration 3), counted once here
    db.execute("DELETE FROM topic_counts")
    db.execute("INSERT INTO topic_counts (topic, count) "
               "SELECT topic, COUNT(*) FROM topic_articles GROUP BY topic")
    db.execute("INSERT INTO topic_counts (topic, count) "
               "SELECT '', COUNT(*) FROM articles WHERE live = 1")
    db.execute("COMMIT")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("ANALYZE")
    db.close()
    return time.perf_counter() - started


def _flush(db: sqlite3.Connection, articles: list[tuple[object, ...]],
           memberships: list[tuple[object, ...]], topic_sql: str) -> None:
    db.executemany(
        "INSERT INTO articles (id, source, published, updated, content_hash, live, body, "
        "fingerprint) VALUES (?, ?, ?, ?, ?, 1, ?, ?)", articles)
    db.executemany(topic_sql, memberships)
    articles.clear()
    memberships.clear()


async def _create_schema(path: Path) -> None:
    store = SQLiteStore(path)
    await store.open()
    await store.close()


# -- measuring -----------------------------------------------------------------------


async def timed(call: Callable[[], Awaitable[object]], rounds: int) -> list[float]:
    await call()  # warm the page cache and the statement cache
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def deep_cursor(path: Path, topic: str) -> tuple[Cursor, int]:
    db = sqlite3.connect(path)
    [(size,)] = db.execute("SELECT COUNT(*) FROM topic_articles WHERE topic = ?", (topic,))
    depth = min(int(size * 0.9), size - 51)  # a full page must remain below it
    [(published, article_id)] = db.execute(
        "SELECT published, article_id FROM topic_articles WHERE topic = ? "
        "ORDER BY published DESC, article_id DESC LIMIT 1 OFFSET ?", (topic, depth))
    db.close()
    return Cursor(from_micros(published), article_id), size


async def measure(path: Path, rounds: int, plans: dict[str, list[str]]) -> dict[str, list[float]]:
    topic = TOPICS[0]  # the largest: the worst case for every query
    cursor, _ = deep_cursor(path, topic)
    store = SQLiteStore(path)
    await store.open()
    try:
        page = await store.topic_page(topic, limit=50)
        deep = await store.topic_page(topic, limit=50, before=cursor)
        assert len(page) == 50 and len(deep) == 50 and deep[0].published < cursor.published
        raw = list(await store.db.execute_fetchall(OLD_STATS_SQL, (topic,)))
        stats = await store.topic_stats([topic])
        newest = stats[topic].updated
        assert (stats[topic].count, newest and to_micros(newest)) == tuple(raw[0]), \
            "topic_stats and the scan disagree"
        if not plans:
            plans.update(await query_plans(store, topic, cursor))
        old_stats = [(t,) for t in TOPICS]
        return {
            "page": await timed(lambda: store.topic_page(topic, limit=50), rounds),
            "deep": await timed(lambda: store.topic_page(topic, limit=50, before=cursor), rounds),
            "all": await timed(lambda: store.topic_page(ALL_TOPIC, limit=50), rounds),
            "stats": await timed(lambda: store.topic_stats([*TOPICS, ALL_TOPIC]), rounds),
            "scan": await timed(lambda: _old_stats(store, old_stats), max(3, rounds // 10)),
        }
    finally:
        await store.close()


async def _old_stats(store: SQLiteStore, topics: list[tuple[str]]) -> None:
    for params in topics:
        await store.db.execute_fetchall(OLD_STATS_SQL, params)


async def query_plans(store: SQLiteStore, topic: str, cursor: Cursor) -> dict[str, list[str]]:
    """The store's own SQL, caught by a trace callback, run again under EXPLAIN QUERY PLAN."""
    statements: list[str] = []
    await store.db.set_trace_callback(statements.append)
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "topic page": lambda: store.topic_page(topic, limit=50),
        "deep page": lambda: store.topic_page(topic, limit=50, before=cursor),
        "all page": lambda: store.topic_page(ALL_TOPIC, limit=50),
        "topic stats": lambda: store.topic_stats([topic, ALL_TOPIC]),
    }
    plans = {}
    for name, call in calls.items():
        statements.clear()
        await call()
        for n, sql in enumerate(s for s in statements if s.lstrip().upper().startswith("SELECT")):
            rows = await store.db.execute_fetchall(f"EXPLAIN QUERY PLAN {sql}")
            plans[f"{name} #{n + 1}" if n else name] = [sql, *(str(r[3]) for r in rows)]
    await store.db.set_trace_callback(None)  # type: ignore[arg-type]  # sqlite3 takes None
    return plans


# -- reporting -----------------------------------------------------------------------


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 100_000, 1_000_000])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
          f"{args.rounds} rounds, topic '{TOPICS[0]}' (the largest) of {len(TOPICS)}")
    results: dict[int, dict[str, list[float]]] = {}
    plans: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        for size in args.sizes:
            path = Path(tmp) / f"store-{size}.db"
            seconds = build(path, size, args.seed)
            _, topic_size = deep_cursor(path, TOPICS[0])
            megabytes = sum(p.stat().st_size for p in Path(tmp).glob(f"store-{size}.db*")) / 1e6
            print(f"built {size:>9,} articles ({topic_size:,} in the topic, {megabytes:,.0f} MB) "
                  f"in {seconds:.1f} s", flush=True)
            results[size] = asyncio.run(measure(path, args.rounds, plans))
            for leftover in Path(tmp).glob(f"store-{size}.db*"):
                leftover.unlink()
    report(results)
    print("\nEXPLAIN QUERY PLAN (largest size)")
    for name, (sql, *steps) in plans.items():
        print(f"  {name}: {' '.join(sql.split())}")
        for step in steps:
            print(f"      {step}")


def report(results: dict[int, dict[str, list[float]]]) -> None:
    sizes = sorted(results)
    base = sizes[0]
    print(f"\n{'query':<6} {'articles':>10} {'median ms':>10} {'p95 ms':>8} {'x vs ' + format(base, ','):>10}")
    for query in results[base]:
        base_median = statistics.median(results[base][query])
        for size in sizes:
            samples = results[size][query]
            median = statistics.median(samples)
            print(f"{query:<6} {size:>10,} {median:>10.3f} {p95(samples):>8.3f} "
                  f"{median / base_median:>10.2f}")


if __name__ == "__main__":
    main()
