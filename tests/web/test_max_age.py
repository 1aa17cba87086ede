"""A topic's max_age is honoured on time, not only when the topic next changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from feedsvc.replica import ReplicaSite
from feedsvc.web.keys import POLLER
from tests.conftest import settings_for

TOPICS = '''
[[topics]]
slug = "recent-sport"
title = "رياضة حديثة"
description = "أخبار الرياضة في آخر يومين"
query = "section:sport"
max_age = "2d"
'''


async def test_articles_leave_a_topic_feed_when_they_pass_its_max_age(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Any) -> None:
    topics = tmp_path / "topics.toml"
    topics.write_text(TOPICS, encoding="utf-8")
    settings = settings_for(replica.base_url, tmp_path, topics_file=topics)
    app, http, base = await serve_feedsvc(settings)
    await app[POLLER].poll(settings.sources[0])

    async def items() -> list[dict[str, Any]]:
        async with http.get(f"{base}/feeds/recent-sport.json") as response:
            result: list[dict[str, Any]] = orjson.loads(await response.read())["items"]
            return result

    before = await items()
    assert before, "the replica has sport news from the last two days"
    clock.advance(days=30)  # nothing changes upstream, no poll runs
    assert await items() == []
