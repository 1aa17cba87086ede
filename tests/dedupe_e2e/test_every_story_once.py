"""Every story once, against the replica: URL variants, copies, edits, retractions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from feedsvc.config import DedupeSettings, Settings
from feedsvc.replica import ReplicaSite, serve_replica
from tests.conftest import settings_for

SHORT_FLASHES = (1978306, 1979850)  # both titled «عاجل», one sentence each


def all_feeds(replica: ReplicaSite) -> tuple[str, ...]:
    return ("/rss/", *(f"/rss/{section}/" for section in replica.sections))


async def feed_items(http: Any, base: str, slug: str = "all") -> list[dict[str, Any]]:
    async with http.get(f"{base}/feeds/{slug}.json?limit=200") as response:
        assert response.status == 200
        items: list[dict[str, Any]] = orjson.loads(await response.read())["items"]
        return items


def native(item: dict[str, Any]) -> int:
    return int(item["_feedsvc"]["article_id"].split(":")[1])


@pytest.fixture
async def everything(replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> Any:
    """Every replica article published, every feed polled."""
    for article_id in replica.unpublished():
        replica.publish(article_id)
    settings = settings_for(replica.base_url, tmp_path, feeds=all_feeds(replica),
                            max_pages_per_poll=200)
    service, http, base = await serve_feedsvc(settings)
    report = await service.poller.poll(settings.sources[0])
    assert report.page_errors == 0 and report.deferred == 0 and not report.failed
    return service, http, base, settings, report


async def test_every_variant_yields_one_entry_and_different_stories_stay_apart(
        replica: ReplicaSite, everything: Any) -> None:
    service, http, base, settings, report = everything
    items = await feed_items(http, base)
    ids = [native(item) for item in items]
    assert len(ids) == len(set(ids)), "no story twice"
    known = replica.known_ids()
    copies = {i for i in known if (a := replica.article(i)) and a.republish_of}
    similar = {i for i in known if (a := replica.article(i)) and a.similar_to}
    false_merges = (set(known) - copies) - set(ids)
    partners = {replica.article(i).similar_to for i in similar}  # type: ignore[union-attr]
    assert similar | partners <= set(ids), "stories that share wording stay apart"
    assert set(SHORT_FLASHES) <= set(ids), "tiny bodies with the same title are never merged"
    with_urls = {native(item): item["url"] for item in items}
    for copy in copies:
        original = replica.article(copy).republish_of  # type: ignore[union-attr]
        assert original in with_urls
        assert copy not in with_urls
    print(f"\nmerge counts: stories={len(ids)} copies_merged={report.duplicates} "
          f"expected_copies={len(copies)} similar_pairs_apart={len(similar)} "
          f"false_merges={len(false_merges)}")
    assert not false_merges, "a different story was merged away"
    assert set(ids) == set(known) - copies, "every story once; each copy folded into its original"
    assert report.duplicates == len(copies)


async def test_copy_urls_and_ids_stay_aliases_of_the_original(replica: ReplicaSite,
                                                              everything: Any) -> None:
    service, http, base, settings, report = everything
    store = service.store
    for copy in (i for i in replica.known_ids() if replica.article(i).republish_of):  # type: ignore[union-attr]
        original = replica.article(copy).republish_of  # type: ignore[union-attr]
        truth = replica.ground_truth(copy)
        assert await store.resolve_alias(f"id:rt-arabic:{copy}") == f"rt-arabic:{original}"
        assert await store.resolve_alias(truth["url"]) == f"rt-arabic:{original}"
    second = await service.poller.poll(settings.sources[0])
    assert (second.new, second.duplicates) == (0, 0), "a merged copy stays merged"


async def test_an_edit_updates_in_place_with_a_stable_id(replica: ReplicaSite, everything: Any) -> None:
    service, http, base, settings, _ = everything
    target = next(native(i) for i in await feed_items(http, base))
    before = {native(i): i for i in await feed_items(http, base)}[target]
    async with http.get(f"{base}/feeds/all.atom") as response:
        etag = response.headers["ETag"]
    replica.edit(target, title="عنوان معدل بعد التحديث")
    report = await service.poller.poll(settings.sources[0])
    assert (report.new, report.updated) == (0, 1)
    after = {native(i): i for i in await feed_items(http, base)}[target]
    assert after["id"] == before["id"] and after["title"] == "عنوان معدل بعد التحديث"
    assert after["date_published"] == before["date_published"]
    assert after["date_modified"] > before["date_modified"]
    async with http.get(f"{base}/feeds/all.atom", headers={"If-None-Match": etag}) as response:
        assert response.status == 200, "an edit changes the feed's ETag"


async def test_a_refetch_without_change_writes_nothing_and_keeps_the_etag(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> None:
    settings = settings_for(replica.base_url, tmp_path)
    source = replace(settings.sources[0], refresh_window=settings.sources[0].interval * 10_000)
    settings = replace(settings, sources=(source,))
    service, http, base = await serve_feedsvc(settings)
    await service.poller.poll(source)
    async with http.get(f"{base}/feeds/all.atom") as response:
        body, etag = await response.read(), response.headers["ETag"]
    replica.requests.clear()
    report = await service.poller.poll(source)
    assert (report.new, report.updated) == (0, 0)
    assert sum(1 for r in replica.requests if r.status == 304) > 1, "pages re-checked conditionally"
    async with http.get(f"{base}/feeds/all.atom") as response:
        assert await response.read() == body and response.headers["ETag"] == etag

    # A new headline changes every page's "read more" box: the pages answer 200 again,
    # but the articles in them did not change, so nothing is written for them.
    published = replica.publish_next()
    assert published is not None
    report = await service.poller.poll(source)
    assert (report.new, report.updated) == (1, 0) and report.unchanged > 1


async def retraction_case(replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path,
                          retractions: str) -> tuple[int, set[int], Any]:
    settings: Settings = settings_for(replica.base_url, tmp_path)
    settings = replace(settings, dedupe=DedupeSettings(retractions=retractions))
    service, http, base = await serve_feedsvc(settings)
    await service.poller.poll(settings.sources[0])
    listed = [native(i) for i in await feed_items(http, base)]
    victim = listed[len(listed) // 2]  # from the middle of the feed, not its tail
    replica.retract(victim)
    report = await service.poller.poll(settings.sources[0])
    assert report.rechecked >= 1
    return victim, {native(i) for i in await feed_items(http, base)}, (service, settings, report,
                                                                      http, base)


async def test_a_retracted_article_leaves_every_feed_and_comes_back_once_restored(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> None:
    victim, remaining, (service, settings, report, http, base) = await retraction_case(
        replica, serve_feedsvc, tmp_path, "remove")
    assert report.retracted == 1 and victim not in remaining
    assert await service.store.is_tombstoned(f"rt-arabic:{victim}")
    replica.reset()  # the site brings the page back, under its id and its URL variants
    again = await service.poller.poll(settings.sources[0])
    assert (again.new, again.restored, again.duplicates) == (0, 1, 0)
    assert not await service.store.is_tombstoned(f"rt-arabic:{victim}")
    items = await feed_items(http, base)
    assert [native(i) for i in items].count(victim) == 1, "back once, under its own id"


async def test_retractions_keep_leaves_the_article_in_its_feeds(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> None:
    victim, remaining, _ = await retraction_case(replica, serve_feedsvc, tmp_path, "keep")
    assert victim in remaining


async def test_the_same_story_from_two_sources_appears_once_credited_to_the_first(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Any) -> None:
    # A second site carrying the same wire copy under its own host and ids: only the
    # content rungs (fingerprint, near-duplicate) can tell the stories are the same.
    async with serve_replica(ReplicaSite(clock=clock)) as other_url:
        settings = settings_for(replica.base_url, tmp_path)
        other = replace(settings.sources[0], name="other-site", base_url=other_url, mirror_hosts=())
        settings = replace(settings, sources=(settings.sources[0], other))
        service, http, base = await serve_feedsvc(settings)
        first = await service.poller.poll(settings.sources[0])
        second = await service.poller.poll(other)
        items = await feed_items(http, base)
    by_source: dict[str, set[int]] = {}
    for item in items:
        by_source.setdefault(item["_feedsvc"]["source"], set()).add(native(item))
    # Tiny bodies are never merged on content (by design), so only those appear twice.
    assert by_source.get("other-site", set()) <= set(SHORT_FLASHES)
    assert second.new == len(by_source.get("other-site", ()))
    assert second.new + second.duplicates == first.new + first.duplicates == second.items
    print(f"\ncross-source: first={first.new} merged_from_second={second.duplicates} "
          f"kept_apart_short_items={second.new}")
