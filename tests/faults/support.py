"""What the fault tests share: short timeouts, polling when due, and the recovery checks."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from feedsvc.config import Settings
from feedsvc.pipeline import PollReport
from feedsvc.replica import ReplicaSite
from feedsvc.service import Service
from tests.conftest import Clock, republished_copies, settings_for

SOURCE = "rt-arabic"
FEEDS = "/rss*"
ARTICLE_PAGES = "/*/*-*"
MIB = 1024 * 1024
ARTICLE_PATH = re.compile(r"^/[a-z_]+/\d+-")
ITEM_ID = re.compile(rf"{SOURCE}:\d+$")


def fault_settings(base_url: str, tmp_path: Path, *, respect_robots: bool = False,
                   **source: Any) -> Settings:
    """Settings with short timeouts and a 1 MiB body limit, so each fault costs ~1 s at most.
    No recheck schedule: these tests jump hours ahead, and count every page read."""
    settings = settings_for(base_url, tmp_path, **{"recheck_after": (), **source})
    return replace(settings, fetch=replace(settings.fetch, read_timeout=0.5, total_timeout=1.0,
                                           max_body_size=MIB, respect_robots=respect_robots))


def expected_ids(site: ReplicaSite) -> set[str]:
    """The articles the site feed lists now, without the republished copies dedupe folds away."""
    entries = site.site_feed()
    copies = republished_copies(site, (url for _, url in entries))
    return {f"{SOURCE}:{article.id}" for article, _ in entries if article.id not in copies}


async def get_json(http: Any, url: str) -> Any:
    async with http.get(url) as response:
        assert response.status == 200, await response.text()
        return orjson.loads(await response.read())


async def health(http: Any, base: str) -> Any:
    return await get_json(http, f"{base}/healthz")


async def served_ids(http: Any, base: str) -> list[str]:
    feed = await get_json(http, f"{base}/feeds/all.json?limit=200")
    return [found.group(0) for item in feed["items"] if (found := ITEM_ID.search(item["id"]))]


async def served_atom(http: Any, base: str) -> bytes:
    async with http.get(f"{base}/feeds/all.atom") as response:
        assert response.status == 200
        return await response.read()


def page_fetches(site: ReplicaSite, status: int = 200, skip: range = range(0)) -> Counter[str]:
    """Article pages the site answered with ``status``, by path (query dropped)."""
    return Counter(r.path.split("?")[0] for index, r in enumerate(site.requests)
                   if ARTICLE_PATH.match(r.path) and r.status == status and index not in skip)


async def poll_when_due(service: Service, clock: Clock, *, at_least: float = 0.0
                        ) -> PollReport:
    """Jump the clock to the source's stored next poll (and ``at_least`` seconds on), tick,
    and wait for the poll the tick started."""
    state = await service.store.get_poll_state(SOURCE)
    assert state.next_poll_at is not None
    clock.advance(seconds=max(at_least, (state.next_poll_at - clock()).total_seconds()) + 1)
    poller = service.poller
    await poller.tick()
    task = poller.running.get(SOURCE)
    assert task is not None, "the tick should start the due poll"
    return await task


async def assert_degraded(http: Any, base: str, *words: str) -> dict[str, Any]:
    body: dict[str, Any] = await health(http, base)
    assert body["status"] == "degraded", body
    [reason] = body["reasons"]
    assert reason.startswith(f"source {SOURCE}: ")
    for word in words:
        assert word in reason, reason
    return body


async def assert_recovered(service: Service, http: Any, base: str, site: ReplicaSite,
                           earlier: set[str] | None = None, spoiled: range = range(0)) -> None:
    """Healthy again, every article listed now (or ``earlier``) served exactly once, no page
    read twice (answers in ``spoiled``, the request log's indices while a fault spoiled
    200 answers, do not count as reads)."""
    body = await health(http, base)
    assert (body["status"], body["reasons"]) == ("ok", []), body
    [source] = body["sources"]
    assert (source["consecutive_failures"], source["last_error"]) == (0, None)
    ids = await served_ids(http, base)
    assert len(ids) == len(set(ids)), "an article is served twice"
    assert set(ids) == expected_ids(site) | (earlier or set()), "an article is missing or one too many"
    assert await service.store.count_articles(SOURCE) == len(ids)
    twice = [path for path, count in page_fetches(site, skip=spoiled).items() if count > 1]
    assert not twice, f"article pages read twice: {twice}"


async def stored_contents(service: Service, ids: set[str]) -> dict[str, tuple[str, ...]]:
    store = service.store
    contents = {}
    for article_id in sorted(ids):
        article = await store.get_article(article_id)
        assert article is not None, article_id
        contents[article_id] = (article.url, article.title, article.summary, article.content_text)
    return contents


async def assert_same_as_a_clean_poll(service: Service, serve_feedsvc: Any, site: ReplicaSite,
                                      tmp_path: Path) -> None:
    """What was stored through the faults equals what a fresh service stores without them."""
    site.clear_faults()
    clean_settings = settings_for(site.base_url, tmp_path / "clean")
    (tmp_path / "clean").mkdir()
    clean, _, _ = await serve_feedsvc(clean_settings)
    report = await clean.poller.poll(clean_settings.sources[0])
    assert (report.failed, report.page_errors) == (False, 0)
    ids = expected_ids(site)
    assert await stored_contents(service, ids) == await stored_contents(clean, ids)
