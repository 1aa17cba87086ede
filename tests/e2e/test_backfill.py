"""Backfill from the sitemap: articles that fell off the RSS window are fetched too."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import feedparser

from feedsvc.replica import ReplicaSite
from tests.conftest import settings_for


async def test_sitemap_backfill_adds_articles_beyond_the_feed_window_once(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Any) -> None:
    settings = settings_for(replica.base_url, tmp_path, backfill_max_age=timedelta(days=30),
                            max_pages_per_poll=200)
    service, http, base = await serve_feedsvc(settings)
    async with http.get(f"{replica.base_url}/rss/") as response:
        in_feed = len(feedparser.parse(await response.read()).entries)
    report = await service.poller.poll(settings.sources[0])
    assert report.backfilled > 0 and report.page_errors == 0
    stored = await service.store.count_articles()
    assert stored > in_feed - report.duplicates
    for article_id in [f"rt-arabic:{i}" for i in replica.known_ids()]:
        article = await service.store.get_article(article_id)
        assert article is None or article.title, "backfilled articles take their title from the page"

    again = await service.poller.poll(settings.sources[0])
    assert again.backfilled == 0, "the sitemap is read again only after backfill_interval"
    clock.advance(hours=7)
    later = await service.poller.poll(settings.sources[0])
    assert (later.new, later.backfilled) == (0, 0), "nothing is fetched twice"
    assert await service.store.count_articles() == stored
