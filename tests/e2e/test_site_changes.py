"""Every change on the site reaches every feed: edits (declared or not, shown by the feed
or only by the page), retractions (also before a page was ever read), restores, and
more new articles than one poll's page budget.

The replica edits, retracts and publishes while feedsvc polls it over loopback HTTP;
the feeds are read as readers read them (feedparser for Atom, the JSON Feed as JSON).
Time moves only by the test's clock: the recheck schedule and the grace period are
walked through with ``clock.advance``, never waited for.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import orjson
from prometheus_client.parser import text_string_to_metric_families

from feedsvc.config import Settings
from feedsvc.pipeline import PollReport
from feedsvc.replica import ReplicaSite
from feedsvc.service import Service
from tests.conftest import Clock, republished_copies, settings_for
from tests.faults.support import poll_when_due

SOURCE = "rt-arabic"
ITEM_ID = re.compile(rf"{SOURCE}:(\d+)$")


# -- reading the feeds as a reader does ---------------------------------------------


async def json_items(http: Any, base: str, slug: str = "all") -> dict[int, dict[str, Any]]:
    """The JSON Feed's items by the site's article id; fails on an id served twice."""
    async with http.get(f"{base}/feeds/{slug}.json?limit=200") as response:
        assert response.status == 200
        items = orjson.loads(await response.read())["items"]
    ids = [int(ITEM_ID.search(item["id"]).group(1)) for item in items]  # type: ignore[union-attr]
    assert len(ids) == len(set(ids)), "an article is served twice"
    return dict(zip(ids, items, strict=True))


async def atom_entries(http: Any, base: str) -> dict[int, Any]:
    async with http.get(f"{base}/feeds/all.atom?limit=200") as response:
        parsed = feedparser.parse(await response.read())
    assert not parsed.bozo, parsed.get("bozo_exception")
    return {int(ITEM_ID.search(e.id).group(1)): e for e in parsed.entries}  # type: ignore[union-attr]


def modified(item: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(item["date_modified"])


def complete(site: ReplicaSite, article_id: int, item: dict[str, Any]) -> bool:
    """The item carries the page's body, not the feed's teaser."""
    body = site.ground_truth(article_id)["body_text"]
    return all(paragraph in item["content_text"] for paragraph in body)


def listed(site: ReplicaSite) -> set[int]:
    """The stories the site feed lists now (republished copies fold into their originals)."""
    entries = site.site_feed()
    copies = republished_copies(site, (url for _, url in entries))
    return {article.id for article, _ in entries} - copies


async def start(serve_feedsvc: Any, replica: ReplicaSite, tmp_path: Path, **source: Any
                ) -> tuple[Service, Any, str, Settings]:
    settings = settings_for(replica.base_url, tmp_path, **source)
    service, http, base = await serve_feedsvc(settings)
    return service, http, base, settings


async def first_poll(service: Service, settings: Settings) -> PollReport:
    report: PollReport = await service.poller.poll(settings.sources[0])
    assert not report.failed and report.page_errors == 0, report
    return report


# -- edits ----------------------------------------------------------------------------


async def test_an_edit_the_page_declares_shows_with_its_time_after_the_next_poll(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    service, http, base, settings = await start(serve_feedsvc, replica, tmp_path)
    await first_poll(service, settings)
    target = replica.newest()[1].id
    before = (await json_items(http, base))[target]
    clock.advance(minutes=7)
    edited_at = clock().replace(microsecond=0)
    replica.edit(target, title="عنوان معدل بتاريخ معلن", modified=edited_at)

    report = await poll_when_due(service, clock)
    assert (report.new, report.updated) == (0, 1)
    after = (await json_items(http, base))[target]
    entry = (await atom_entries(http, base))[target]
    assert after["id"] == before["id"] == entry.id
    assert after["title"] == entry.title == "عنوان معدل بتاريخ معلن"
    assert modified(after) == edited_at, "the site's own modified time"
    assert datetime.fromisoformat(entry.updated) == edited_at
    assert after["date_published"] == before["date_published"]


async def test_an_edit_the_page_does_not_date_shows_with_the_time_it_was_seen(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    service, http, base, settings = await start(serve_feedsvc, replica, tmp_path)
    await first_poll(service, settings)
    target = replica.newest()[2].id
    before = (await json_items(http, base))[target]
    replica.edit(target, title="عنوان معدل بلا تاريخ", lead="ملخص جديد", declare_modified=False)
    assert replica.ground_truth(target)["modified"] is None, "the page says nothing of it"

    report = await poll_when_due(service, clock)
    seen_after = clock()
    assert (report.new, report.updated) == (0, 1)
    after = (await json_items(http, base))[target]
    entry = (await atom_entries(http, base))[target]
    assert after["id"] == before["id"] and after["title"] == entry.title == "عنوان معدل بلا تاريخ"
    assert modified(before) < modified(after), "readers keyed on updated see the edit"
    assert report.started_at.replace(microsecond=0) <= modified(after) <= seen_after
    assert datetime.fromisoformat(entry.updated) == modified(after)


async def silent_edit_case(replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path,
                           clock: Clock, *, declare: bool) -> None:
    service, http, base, settings = await start(serve_feedsvc, replica, tmp_path)
    await first_poll(service, settings)
    target = replica.newest()[0].id
    before = (await json_items(http, base))[target]
    new_body = ["فقرة جديدة أضافها المحرر بعد النشر دون أن يتغير شيء في خلاصة الموقع."]
    clock.advance(minutes=3)
    replica.edit(target, paragraphs=new_body, declare_modified=declare)

    report = await poll_when_due(service, clock)
    assert report.updated == 0, "the feed item did not change: nothing shows it yet"
    assert (await json_items(http, base))[target]["content_text"] == before["content_text"]

    # a restart in between: the schedule lives in the store
    service, http, base = await serve_feedsvc(settings)
    page = (await service.store.get_page_states([f"{SOURCE}:{target}"]))[f"{SOURCE}:{target}"]
    assert page.next_check_at is not None and page.published is not None
    assert page.next_check_at - page.published in settings.sources[0].recheck_after
    clock.advance(seconds=(page.next_check_at - clock()).total_seconds())
    report = await poll_when_due(service, clock)
    assert report.updated == 1 and report.rechecks.get("changed") == 1
    after = (await json_items(http, base))[target]
    assert new_body[0] in after["content_text"] and after["id"] == before["id"]
    assert modified(before) < modified(after) <= clock()
    async with http.get(f"{base}/metrics") as response:
        metrics = await response.text()
    rechecks = {s.labels["outcome"]: s.value for family in text_string_to_metric_families(metrics)
                for s in family.samples if s.name == "feedsvc_page_rechecks_total"}
    assert rechecks["changed"] == 1 and rechecks["failed"] == rechecks["gone"] == 0


async def test_a_silent_edit_the_page_dates_is_seen_on_the_recheck_schedule(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    await silent_edit_case(replica, serve_feedsvc, tmp_path, clock, declare=True)


async def test_a_silent_edit_the_page_does_not_date_is_seen_on_the_recheck_schedule(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    await silent_edit_case(replica, serve_feedsvc, tmp_path, clock, declare=False)


async def test_unchanged_pages_rechecked_cost_a_304_and_move_nothing(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    service, http, base, settings = await start(serve_feedsvc, replica, tmp_path)
    await first_poll(service, settings)
    before = await json_items(http, base)
    clock.advance(hours=30)  # past the 24 h point of the newest articles
    replica.requests.clear()
    report = await poll_when_due(service, clock)
    assert report.rechecks and set(report.rechecks) == {"not_modified"}
    conditional = [r for r in replica.requests if re.match(r"^/[a-z_]+/\d+-", r.path)]
    assert conditional and all(r.status == 304 and "If-None-Match" in r.headers
                               for r in conditional)
    assert await json_items(http, base) == before


# -- more than one poll's budget ---------------------------------------------------


async def test_a_first_sync_over_the_budget_serves_the_newest_complete_then_the_rest(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    service, http, base, settings = await start(serve_feedsvc, replica, tmp_path,
                                            max_pages_per_poll=20)
    report = await first_poll(service, settings)
    assert report.pages_fetched == 20 and report.deferred == len(replica.site_feed()) - 20
    served = await json_items(http, base)
    newest = [a.id for a in replica.newest(limit=20)]
    assert set(served) <= set(newest), "the budget went to the newest"
    assert len(served) >= 18 and all(complete(replica, i, item) for i, item in served.items())

    await poll_when_due(service, clock)
    served = await json_items(http, base)
    assert set(served) == listed(replica), "everything within two polls, each once"
    assert all(complete(replica, i, item) for i, item in served.items()), "no stub, ever"


async def test_waiting_articles_pushed_out_of_the_feed_are_not_lost(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    service, http, base, settings = await start(serve_feedsvc, replica, tmp_path,
                                            max_pages_per_poll=20)
    await first_poll(service, settings)
    everything = listed(replica)
    fresh = [replica.publish_next() for _ in replica.unpublished()]
    everything |= {a.id for a in fresh if a is not None}
    assert not everything <= listed(replica), "some waiting articles left the feed"
    for _ in range(3):
        await poll_when_due(service, clock)
    served = await json_items(http, base)
    assert set(served) == everything
    assert all(complete(replica, i, item) for i, item in served.items())


# -- retractions and restores -----------------------------------------------------------


async def test_an_article_retracted_before_its_page_was_read_never_shows(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    service, http, base, settings = await start(serve_feedsvc, replica, tmp_path,
                                            max_pages_per_poll=25)
    await first_poll(service, settings)
    waiting = sorted(listed(replica) - set(await json_items(http, base)))
    victim = waiting[len(waiting) // 2]
    replica.retract(victim)

    report = await poll_when_due(service, clock)
    served = await json_items(http, base)
    assert victim not in served and set(served) == listed(replica)
    assert report.retracted == 0 and await service.store.is_tombstoned(f"{SOURCE}:{victim}")
    page = (await service.store.get_page_states([f"{SOURCE}:{victim}"]))[f"{SOURCE}:{victim}"]
    assert page.gone and not page.fetched


async def feed_only_case(replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock
                         ) -> tuple[Service, Any, str, int, dict[str, Any]]:
    """A new article whose page fails past the grace period: served from its feed item."""
    service, http, base, settings = await start(serve_feedsvc, replica, tmp_path)
    await first_poll(service, settings)
    fresh = replica.publish_next()
    assert fresh is not None
    replica.inject("status", f"/{fresh.section}/{fresh.id}-*", statuses=[503])
    key, grace = f"{SOURCE}:{fresh.id}", settings.sources[0].feed_only_after
    for _ in range(12):
        report = await poll_when_due(service, clock)
        page = (await service.store.get_page_states([key]))[key]
        assert page.first_seen_at is not None
        served = await json_items(http, base)
        if clock() < page.first_seen_at + grace:
            assert fresh.id not in served, "no stub within the grace period"
        assert report.page_errors <= 1 and report.new == (fresh.id in served)
        if fresh.id in served:
            break
    assert page.feed_only and page.failures >= 1 and not page.fetched
    stub = served[fresh.id]
    assert not complete(replica, fresh.id, stub), "the feed's teaser, not the page"
    assert stub["title"] == fresh.title
    return service, http, base, fresh.id, stub


async def test_a_page_failing_past_the_grace_period_is_served_from_the_feed_then_completed(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    service, http, base, article_id, stub = await feed_only_case(replica, serve_feedsvc, tmp_path,
                                                             clock)
    replica.clear_faults()
    for _ in range(12):  # the page's back-off after the grace: 40 min at most
        report = await poll_when_due(service, clock)
        if report.updated:
            break
    full = (await json_items(http, base))[article_id]
    assert complete(replica, article_id, full), "upgraded in place"
    assert full["id"] == stub["id"] and modified(stub) < modified(full) <= clock()
    assert listed(replica) <= set(await json_items(http, base)), "nothing lost, nothing twice"


async def test_a_feed_only_article_retracted_leaves_every_feed(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    service, http, base, article_id, _ = await feed_only_case(replica, serve_feedsvc, tmp_path, clock)
    replica.clear_faults()
    replica.retract(article_id)
    report = await poll_when_due(service, clock)
    assert report.retracted == 1
    served = await json_items(http, base)
    assert article_id not in served and set(served) == listed(replica)
    for slug in ("gaza", "syria-diplomacy", "sport"):
        assert article_id not in await json_items(http, base, slug)


async def test_a_retracted_then_restored_article_comes_back_under_its_id(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    service, http, base, settings = await start(serve_feedsvc, replica, tmp_path)
    await first_poll(service, settings)
    victim = replica.newest()[5].id
    before = (await json_items(http, base))[victim]
    replica.retract(victim, status=410)
    report = await poll_when_due(service, clock)
    assert report.retracted == 1 and victim not in await json_items(http, base)

    replica.publish(victim)  # the site puts it back
    report = await poll_when_due(service, clock)
    assert report.restored == 1 and report.new == 0
    after = (await json_items(http, base))[victim]
    assert after["id"] == before["id"] and after["title"] == before["title"]
    assert modified(before) <= modified(after) <= clock()
    # (an article the retraction pulled into the feed window stays, as any that ages out)
    assert listed(replica) <= set(await json_items(http, base))
    assert not await service.store.is_tombstoned(f"{SOURCE}:{victim}")


# -- bad input ------------------------------------------------------------------------------


async def test_a_flipping_page_and_a_future_modified_time_never_move_updated_wrongly(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    service, http, base, settings = await start(serve_feedsvc, replica, tmp_path)
    await first_poll(service, settings)
    target = replica.newest()[3].id
    first = (await json_items(http, base))[target]
    original = replica.ground_truth(target)["title"]
    seen = [modified(first)]
    for title in ("نسخة ثانية من العنوان", original, "نسخة ثانية من العنوان", original):
        replica.edit(target, title=title, declare_modified=False)
        await poll_when_due(service, clock)
        item = (await json_items(http, base))[target]
        assert item["id"] == first["id"] and item["title"] == title
        seen.append(modified(item))
        assert seen[-2] < seen[-1] <= clock(), "each flip is a change; never back, never ahead"

    replica.edit(target, title="عنوان بتاريخ تعديل في المستقبل",
                 modified=clock() + timedelta(days=2))
    report = await poll_when_due(service, clock)
    item = (await json_items(http, base))[target]
    assert seen[-1] < modified(item) <= clock() and report.started_at <= clock()
    again = await poll_when_due(service, clock)  # the future time is still declared: no move
    assert again.updated == 0 and (await json_items(http, base))[target] == item


# -- aliases ----------------------------------------------------------------------------------


async def test_served_aliases_name_the_copies_folded_into_an_article(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> None:
    for article_id in replica.unpublished():
        replica.publish(article_id)
    feeds = ("/rss/", *(f"/rss/{section}/" for section in replica.sections))
    service, http, base, settings = await start(serve_feedsvc, replica, tmp_path, feeds=feeds,
                                            max_pages_per_poll=200)
    await first_poll(service, settings)
    served = await json_items(http, base)
    copies = {i: a.republish_of for i in replica.known_ids()
              if (a := replica.article(i)) is not None and a.republish_of}
    assert copies
    for copy, original in copies.items():
        aliases = served[original]["_feedsvc"]["aliases"]
        assert replica.ground_truth(copy)["url"] in aliases, "a consumer can dedupe the copy"
        assert served[original]["url"] not in aliases
    assert all("id:" not in alias for item in served.values()
               for alias in item["_feedsvc"].get("aliases", ()))
