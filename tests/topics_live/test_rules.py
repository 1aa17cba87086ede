"""A topic is backfilled only when its rules change: not on a restart, not for a new
title, and not twice when the store already holds members for those rules."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from feedsvc.config import Settings
from feedsvc.replica import ReplicaSite
from feedsvc.service import open_service
from tests.conftest import SHIPPED_TOPICS, Clock, settings_for


def loaded(caplog: pytest.LogCaptureFixture, event: str = "topics.loaded") -> dict[str, object]:
    """The fields of the last ``topics.loaded`` (or ``event``) event."""
    records = [r for r in caplog.records if getattr(r, "feedsvc_event", None) == event]
    assert records, f"no {event} event"
    fields: dict[str, object] = records[-1].feedsvc_fields  # type: ignore[attr-defined]
    return fields


def shipped_topics(replica: ReplicaSite, tmp_path: Path) -> tuple[Path, str, Settings]:
    """A topics file holding the shipped topics, its text, and settings reading it."""
    topics_file = tmp_path / "topics.toml"
    shipped = SHIPPED_TOPICS.read_text(encoding="utf-8")
    topics_file.write_text(shipped, encoding="utf-8")
    return topics_file, shipped, settings_for(replica.base_url, tmp_path, topics_file=topics_file)


async def test_backfill_follows_the_rules_not_the_restarts(
        replica: ReplicaSite, tmp_path: Path, clock: Clock,
        caplog: pytest.LogCaptureFixture) -> None:
    topics_file, shipped, settings = shipped_topics(replica, tmp_path)
    caplog.set_level(logging.INFO, logger="feedsvc.topics")
    async with open_service(settings, clock=clock, serving=False, scheduling=False) as service:
        await service.poller.poll(settings.sources[0])
        topics = len(service.topics.topics)
        members = (await service.store.topic_stats(["gaza"]))["gaza"].count
    assert loaded(caplog)["backfilled"] == topics  # the first start: every topic is new
    assert members > 0

    assert loaded(caplog, "topics.compiled")["snapshot"] is False
    async with open_service(settings, clock=clock, serving=False, scheduling=False) as service:
        assert (await service.store.topic_stats(["gaza"]))["gaza"].count == members
    assert loaded(caplog)["backfilled"] == 0, "a restart with the same rules backfills nothing"
    assert loaded(caplog, "topics.compiled")["snapshot"] is True, "nor parses the same file"

    topics_file.write_text(shipped.replace('title = "غزة"', 'title = "قطاع غزة"', 1),
                           encoding="utf-8")
    async with open_service(settings, clock=clock, serving=False, scheduling=False) as service:
        assert service.topics.topics["gaza"].title == "قطاع غزة"
        assert (await service.store.topic_stats(["gaza"]))["gaza"].count == members
    assert loaded(caplog)["backfilled"] == 0, "a new title does not change the members"
    assert loaded(caplog, "topics.compiled")["snapshot"] is False, "an edited file is read"

    topics_file.write_text(shipped.replace('slug = "gaza"', 'slug = "gaza-strip"', 1),
                           encoding="utf-8")
    async with open_service(settings, clock=clock, serving=False, scheduling=False) as service:
        stats = await service.store.topic_stats(["gaza", "gaza-strip"])
        assert (stats["gaza"].count, stats["gaza-strip"].count) == (0, members)
        assert "gaza" in service.topics.removed
    fields = loaded(caplog)
    assert (fields["backfilled"], fields["removed"]) == (1, 1), "renamed: one new, one gone"


async def test_many_new_topics_are_backfilled_with_the_index_in_force(
        replica: ReplicaSite, tmp_path: Path, clock: Clock,
        caplog: pytest.LogCaptureFixture) -> None:
    """Half the topics new or more: the backfill matches with the whole index just
    compiled (not a second one), and stores members for the new topics only."""
    topics_file, shipped, settings = shipped_topics(replica, tmp_path)
    caplog.set_level(logging.INFO, logger="feedsvc.topics")
    async with open_service(settings, clock=clock, serving=False, scheduling=False) as service:
        await service.poller.poll(settings.sources[0])
        slugs = sorted(service.topics.topics)
        before = await service.store.topic_stats(slugs)
        versions = await service.store.topic_versions()
    copies = shipped.replace('slug = "', 'slug = "copy-')
    topics_file.write_text(shipped + "\n" + copies[copies.index("[[topics]]"):], encoding="utf-8")
    async with open_service(settings, clock=clock, serving=False, scheduling=False) as service:
        assert len(service.topics.topics) == 2 * len(slugs)
        after = await service.store.topic_stats([f"copy-{slug}" for slug in slugs] + slugs)
        unchanged = {slug: v for slug, v in (await service.store.topic_versions()).items()
                     if slug in slugs}
    assert loaded(caplog)["backfilled"] == len(slugs)
    assert {slug: after[f"copy-{slug}"].count for slug in slugs} == {
        slug: before[slug].count for slug in slugs}, "each copy holds what its original holds"
    assert sum(before[slug].count for slug in slugs) > 0
    assert unchanged == {slug: versions[slug] for slug in slugs}, "the originals were not written"
