"""The whole pipeline on PostgreSQL: one poll of the offline replica, then its feeds."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import feedparser
import orjson
import pytest

from feedsvc.config import StorageSettings
from feedsvc.replica import ReplicaSite
from feedsvc.store.postgres import PostgresStore
from tests.conftest import settings_for
from tests.store.support import query

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


async def test_a_poll_stored_in_postgres_is_served_as_feeds(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, postgres_url: str) -> None:
    settings = settings_for(replica.base_url, tmp_path)
    settings = replace(settings, storage=StorageSettings(url=postgres_url))
    service, http, base = await serve_feedsvc(settings)
    assert isinstance(service.store, PostgresStore)

    report = await service.poller.poll(settings.sources[0])
    assert report.new > 0 and (report.page_errors, report.failed) == (0, False)

    async with http.get(f"{base}/feeds/all.json?limit=200") as response:
        assert response.status == 200
        items = orjson.loads(await response.read())["items"]
    assert len(items) == report.new
    [[live]] = await query(postgres_url, "SELECT COUNT(*) FROM articles WHERE live")
    assert live == report.new, "the feed lists what PostgreSQL holds"

    async with http.get(f"{base}/feeds/syria-diplomacy.atom") as response:
        assert response.status == 200
        atom = feedparser.parse(await response.read())
    assert not atom.bozo and atom.entries
    assert not (tmp_path / "feedsvc.db").exists(), "nothing went to the SQLite default"
