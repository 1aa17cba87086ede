"""Faults feedsvc reads through: a malformed feed (feedparser salvages it) and a wrong
charset on the feed or the pages. Nothing is a failure, /healthz stays ok, and every
article reads as a clean poll reads it. (Malformed article pages carry bytes that are
not UTF-8; they are page faults, see test_page_faults.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from feedsvc.replica import ReplicaSite
from tests.faults.support import (
    ARTICLE_PAGES,
    FEEDS,
    assert_recovered,
    assert_same_as_a_clean_poll,
    fault_settings,
)

MISLABELLED = [
    pytest.param({"body": "utf-8", "declared": "windows-1256"}, id="utf8-labelled-1256"),
    pytest.param({"body": "windows-1256", "declared": "utf-8"}, id="1256-labelled-utf8"),
    pytest.param({"body": "windows-1256", "declared": "meta"}, id="1256-named-in-document"),
]
TOLERATED = [
    pytest.param("malformed", {}, FEEDS, id="malformed-feed"),
    *(pytest.param("charset", p.values[0], where, id=f"charset-{p.id}-{name}")
      for p in MISLABELLED for name, where in (("feed", FEEDS), ("pages", ARTICLE_PAGES))),
]


@pytest.mark.parametrize(("kind", "params", "where"), TOLERATED)
async def test_tolerated_fault_reads_every_article_right(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path,
        kind: str, params: dict[str, Any], where: str) -> None:
    settings = fault_settings(replica.base_url, tmp_path)
    service, http, base = await serve_feedsvc(settings)
    replica.inject(kind, where, **params)
    report = await service.poller.poll(settings.sources[0])
    assert (report.failed, report.page_errors) == (False, 0)
    await assert_recovered(service, http, base, replica)
    await assert_same_as_a_clean_poll(service, serve_feedsvc, replica, tmp_path)
