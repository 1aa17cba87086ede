"""Ingest and serving throughput on PostgreSQL and on SQLite, in the same run.

    python bench/bench_backends.py [--articles 1000] [--requests 300] [--writers 4]
                                   [--connections 8] [--rounds 3]

SQLite is the baseline: every figure is also given as PostgreSQL / SQLite. For each
backend, on a fresh store (a temporary SQLite file; a new database on
``$FEEDSVC_TEST_POSTGRES_URL`` or ``postgresql://postgres@127.0.0.1:5432/postgres``,
dropped at the end), through the real code:

    ingest        Store.save_article of new articles (realistic Arabic bodies, 1 to 3
                  of the shipped topics each), one writer: articles/s
    ingest xW     the same with W concurrent writers (PostgreSQL takes several
                  writers at once; SQLite serializes them through its one writer)
    edit          save_article of changed versions of stored articles: articles/s
    page read     Store.topic_page("all", limit=50, before=cursor), a different cursor
                  each time, ``--connections`` at once: what a render reads, pages/s
    serve hit     GET /feeds/<topic>.json through the real app (open_service +
                  create_app on loopback), a cached document: requests/s
    serve render  GET /feeds/all.json?cursor=... with a different cursor each time,
                  so each request renders a page of 50 from the store: requests/s

The HTTP client runs in the same process with ``--connections`` requests in flight.
Rounds alternate the backends (SQLite, PostgreSQL, SQLite, ...) and the medians are
printed. Every step is bounded; the bench stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import asyncpg  # type: ignore[import-untyped]  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402

from feedsvc.config import (  # noqa: E402
    SchedulerSettings,
    ServerSettings,
    Settings,
    SourceSettings,
    StorageSettings,
)
from feedsvc.models import Article  # noqa: E402
from feedsvc.service import open_service  # noqa: E402
from feedsvc.store import ALL_TOPIC, Cursor, Store, store_for_url  # noqa: E402
from feedsvc.topics import load_topics  # noqa: E402
from feedsvc.web.app import create_app  # noqa: E402

DATA = ROOT / "feedsvc" / "replica" / "data" / "articles.json"
TOPICS_FILE = ROOT / "feedsvc" / "topics" / "shipped.toml"
START = datetime(2026, 1, 1, tzinfo=UTC)
SERVER = os.environ.get("FEEDSVC_TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def corpus() -> list[tuple[str, str, list[str]]]:
    raw = json.loads(DATA.read_text(encoding="utf-8"))["articles"]
    return [(a["title"], a.get("lead", "")[:200], [p[:300] for p in a.get("paragraphs", [])[:3]])
            for a in raw]


def make_articles(count: int, seed: int, offset: int = 0) -> list[tuple[Article, set[str]]]:
    rng = random.Random(seed)
    texts = corpus()
    slugs = [topic.slug for topic in load_topics(TOPICS_FILE)]
    made = []
    for n in range(offset, offset + count):
        title, lead, paragraphs = texts[n % len(texts)]
        published = START + timedelta(minutes=5 * n)
        html = "".join(f"<p>{p}</p>" for p in paragraphs)
        article = Article(
            id=f"rt-arabic:{3_000_000 + n}", source="rt-arabic",
            url=f"https://arabic.rt.com/news/{3_000_000 + n}-x/", title=title, summary=lead,
            content_html=f'<div dir="rtl" lang="ar">{html}</div>',
            content_text="\n\n".join(paragraphs), published=published, updated=published,
            fetched_at=published, content_hash=secrets.token_hex(8), section="news",
            tags=("سوريا",))
        made.append((article, set(rng.sample(slugs, rng.randint(1, 3)))))
    return made


# -- the stores ----------------------------------------------------------------------


async def new_database() -> str:
    name = f"feedsvc_bench_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(SERVER, timeout=10)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return urlsplit(SERVER)._replace(path="/" + name).geturl()


async def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    conn = await asyncpg.connect(SERVER, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


# -- ingest --------------------------------------------------------------------------


async def ingest(store: Store, batch: list[tuple[Article, set[str]]], writers: int) -> float:
    """Articles saved per second with ``writers`` concurrent writers."""
    queue = list(batch)

    async def writer() -> None:
        while queue:
            article, topics = queue.pop()
            await store.save_article(article, topics, aliases=[article.url], now=NOW)

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    return len(batch) / (time.perf_counter() - started)


# -- serving -------------------------------------------------------------------------


async def read_pages(store: Store, count: int, connections: int) -> float:
    """Pages of 50 read per second, each from a different cursor."""
    page = await store.topic_page(ALL_TOPIC, limit=count + 50)
    pending = [Cursor(a.published, a.id) for a in page[50:50 + count]]

    async def reader() -> None:
        while pending:
            assert len(await store.topic_page(ALL_TOPIC, limit=50, before=pending.pop())) == 50

    started = time.perf_counter()
    await asyncio.gather(*(reader() for _ in range(connections)))
    return count / (time.perf_counter() - started)


def settings_for(url: str, data: Path) -> Settings:
    return Settings(config_path=data / "feedsvc.toml", topics_file=TOPICS_FILE,
                    server=ServerSettings(public_url="http://feeds.test"),
                    storage=StorageSettings(url=url),
                    scheduler=SchedulerSettings(tick=timedelta(seconds=5)),
                    sources=(replace(SourceSettings(), base_url="http://127.0.0.1:9"),))


async def load(http: aiohttp.ClientSession, urls: Sequence[str], connections: int) -> float:
    """Requests per second for ``urls``, ``connections`` in flight; every answer must be 200."""
    pending = list(urls)

    async def client() -> None:
        while pending:
            async with http.get(pending.pop()) as response:
                await response.read()
                assert response.status == 200, response.status

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    return len(urls) / (time.perf_counter() - started)


async def serve(url: str, data: Path, requests: int, connections: int) -> dict[str, float]:
    settings = settings_for(url, data)
    async with open_service(settings, scheduling=False) as service:
        server = TestServer(create_app(service), host="127.0.0.1")
        await server.start_server()
        try:
            base = str(server.make_url("")).rstrip("/")
            slug = next(iter(service.topics.topics))
            page = await service.store.topic_page(ALL_TOPIC, limit=requests + 50)
            assert service.feeds is not None  # served: the deployment's cursors sign them
            cursors = [service.feeds.cursors.encode(ALL_TOPIC, Cursor(a.published, a.id))
                       for a in page[50:50 + requests]]
            connector = aiohttp.TCPConnector(limit=connections)
            async with aiohttp.ClientSession(connector=connector) as http:
                hit = await load(http, [f"{base}/feeds/{slug}.json"] * requests, connections)
                render = await load(http, [f"{base}/feeds/all.json?cursor={c}" for c in cursors],
                                    connections)
        finally:
            await server.close()
    return {"serve hit": hit, "serve render": render}


# -- one round -----------------------------------------------------------------------


async def round_on(url: str, data: Path, args: argparse.Namespace, seed: int) -> dict[str, float]:
    store = store_for_url(url)
    await store.open()
    try:
        articles = make_articles(args.articles, seed)
        more = make_articles(args.articles, seed + 1, offset=args.articles)
        figures = {"ingest": await ingest(store, articles, 1),
                   f"ingest x{args.writers}": await ingest(store, more, args.writers)}
        edited = [(replace(a, content_hash=secrets.token_hex(8), title=a.title + " (محدث)"), t)
                  for a, t in articles]
        figures["edit"] = await ingest(store, edited, 1)
        figures["page read"] = await read_pages(store, args.requests, args.connections)
    finally:
        await store.close()
    figures.update(await serve(url, data, args.requests, args.connections))
    return figures


async def run(args: argparse.Namespace) -> dict[str, dict[str, list[float]]]:
    results: dict[str, dict[str, list[float]]] = {"sqlite": {}, "postgresql": {}}
    for n in range(args.rounds):
        for backend in ("sqlite", "postgresql"):
            with tempfile.TemporaryDirectory(prefix="bench-backends-") as tmp:
                data = Path(tmp)
                url = (f"sqlite:///{data / 'feedsvc.db'}" if backend == "sqlite"
                       else await new_database())
                try:
                    figures = await bounded(round_on(url, data, args, seed=n), 600)
                finally:
                    if backend == "postgresql":
                        await drop_database(url)
            for name, value in figures.items():
                results[backend].setdefault(name, []).append(value)
            print(f"round {n + 1} {backend:<10} " + "  ".join(
                f"{name} {value:,.0f}/s" for name, value in figures.items()), flush=True)
    return results


async def bounded(work: Awaitable[dict[str, float]], seconds: float) -> dict[str, float]:
    return await asyncio.wait_for(work, timeout=seconds)


def report(results: dict[str, dict[str, list[float]]]) -> None:
    print(f"\n{'figure':<14} {'SQLite /s':>12} {'PostgreSQL /s':>14} {'PG / SQLite':>12}")
    for name, samples in results["sqlite"].items():
        base = statistics.median(samples)
        pg = statistics.median(results["postgresql"][name])
        print(f"{name:<14} {base:>12,.0f} {pg:>14,.0f} {pg / base:>12.2f}")


def main(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--articles", type=int, default=1000, help="articles per ingest figure")
    parser.add_argument("--requests", type=int, default=300, help="requests per serving figure")
    parser.add_argument("--writers", type=int, default=4, help="concurrent writers")
    parser.add_argument("--connections", type=int, default=8, help="requests in flight")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    import sqlite3
    out(f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
        f"PostgreSQL at {urlsplit(SERVER).hostname}:{urlsplit(SERVER).port or 5432}, "
        f"{args.articles} articles, {args.requests} requests, {args.rounds} rounds")
    report(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
