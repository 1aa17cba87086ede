"""Publishing, editing and retracting change what the feeds and pages say; so does the control API."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp
import feedparser
import pytest

from feedsvc.extract import extract_article
from feedsvc.replica import ReplicaSite, UnknownArticle
from tests.replica.conftest import LAVROV_ID, StoppedClock, fetch


async def _titles(http: aiohttp.ClientSession, url: str) -> list[str]:
    return [entry.title for entry in feedparser.parse((await fetch(http, url))[1]).entries]


def _held(site: ReplicaSite) -> int:
    held = site.unpublished()
    if not held:
        pytest.skip("the data holds no held article")
    return held[0]


async def test_held_articles_wait_for_publish(base_url, http, site: ReplicaSite):
    held_id = _held(site)
    url = site.ground_truth(held_id)["url"]
    assert (await fetch(http, url))[0] == 404
    assert site.publish_next().id == held_id
    assert site.ground_truth(held_id)["title"] in await _titles(http, base_url + "/rss/")
    assert (await fetch(http, url))[0] == 200


async def test_publish_changes_the_feed_validators(base_url, http, site: ReplicaSite):
    async with http.get(base_url + "/rss/") as first:
        etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    site.publish(_held(site))
    assert (await fetch(http, base_url + "/rss/", headers={"If-None-Match": etag}))[0] == 200
    since = {"If-Modified-Since": last_modified}
    assert (await fetch(http, base_url + "/rss/", headers=since))[0] == 200


async def test_edit_changes_feed_page_and_truth(base_url, http, site: ReplicaSite,
                                                clock: StoppedClock):
    url = site.ground_truth(LAVROV_ID)["url"]
    async with http.get(url) as first:
        etag = first.headers["ETag"]
    clock.advance(3600)
    site.edit(LAVROV_ID, title="عنوان معدل", paragraphs=["فقرة جديدة"])
    truth = site.ground_truth(LAVROV_ID)
    assert truth["title"] == "عنوان معدل" and truth["body_text"] == ["فقرة جديدة"]
    assert truth["modified"] == clock.now.isoformat()
    status, body = await fetch(http, url, headers={"If-None-Match": etag})
    assert status == 200 and "عنوان معدل" in body.decode()


async def test_retract_removes_everywhere(base_url, http, site: ReplicaSite):
    newest = site.newest()[0]
    url = site.ground_truth(newest.id)["url"]
    site.retract(newest.id, status=410)
    assert (await fetch(http, url))[0] == 410
    assert newest.title not in await _titles(http, base_url + "/rss/")
    assert newest.title not in await _titles(http, f"{base_url}/rss/{newest.section}/")
    assert url not in (await fetch(http, base_url + "/sitemap.xml"))[1].decode() + "".join(
        [(await fetch(http, f"{base_url}/sitemap/{m}.xml"))[1].decode()
         for m, _ in site.sitemap_months()])


async def test_unknown_ids_and_statuses_are_refused(site: ReplicaSite):
    with pytest.raises(UnknownArticle):
        site.publish(1)
    with pytest.raises(ValueError):
        site.retract(LAVROV_ID, status=500)


async def test_request_log_counts_upstream_requests(base_url, http, site: ReplicaSite):
    await fetch(http, base_url + "/rss/?a=1", headers={"If-None-Match": '"x"'})
    await fetch(http, base_url + "/_replica/requests")
    [logged] = site.requests
    assert (logged.method, logged.path, logged.status) == ("GET", "/rss/?a=1", 200)
    assert logged.headers["If-None-Match"] == '"x"'


async def test_control_api_drives_the_same_switches(base_url, http, site: ReplicaSite):
    control = base_url + "/_replica/"
    async with http.post(control + "retract", json={"id": LAVROV_ID}) as answer:
        assert answer.status == 200
    assert site.article(LAVROV_ID) is None
    async with http.post(control + "reset") as answer:
        assert answer.status == 200
    assert site.article(LAVROV_ID) is not None
    edit = {"id": LAVROV_ID, "lead": "ملخص", "modified": "2026-11-29T15:00:00+03:00"}
    async with http.post(control + "edit", json=edit) as answer:
        assert (await answer.json())["modified"] == "2026-11-29T15:00:00+03:00"
    async with http.get(control + f"truth/{LAVROV_ID}") as answer:
        assert (await answer.json())["summary"] == "ملخص"
    async with http.post(control + "inject", json={"fault": "status", "times": 1}) as answer:
        assert (await answer.json())["kind"] == "status"
    assert (await fetch(http, base_url + "/rss/"))[0] == 500
    async with http.get(control + "requests") as answer:
        assert [r["status"] for r in await answer.json()] == [500]
    async with http.post(control + "publish", json={"id": 1}) as answer:
        assert answer.status == 404
    async with http.post(control + "markup", json={"jsonld": False, "opengraph": False}) as answer:
        assert answer.status == 200 and site.ground_truth(LAVROV_ID)["modified"] is None
    async with http.post(control + "inject", json={"fault": "nonsense"}) as answer:
        assert answer.status == 400


def test_edit_without_modified_uses_the_clock(site: ReplicaSite, clock: StoppedClock):
    edited = site.edit(LAVROV_ID, lead="x")
    assert edited.modified == clock.now and edited.modified.tzinfo is UTC
    assert site.edit(LAVROV_ID, modified=datetime(2020, 1, 1, tzinfo=UTC)).lead == "x"


async def test_an_edit_can_come_from_a_template_that_declares_no_modified_time(
        base_url, http, site: ReplicaSite, clock: StoppedClock):
    url = site.ground_truth(LAVROV_ID)["url"]
    clock.advance(3600)
    site.edit(LAVROV_ID, title="عنوان بلا تاريخ تعديل", declare_modified=False)
    status, body = await fetch(http, url)
    page = body.decode()
    assert status == 200 and "عنوان بلا تاريخ تعديل" in page
    assert "dateModified" not in page and "article:modified_time" not in page
    assert "datePublished" in page and "article:published_time" in page
    assert site.ground_truth(LAVROV_ID)["modified"] is None
    raw = extract_article(body, url, now=clock.now, site_tz=site.timezone)
    assert raw.modified is None and raw.published is not None

    control = base_url + "/_replica/"
    async with http.post(control + "edit", json={"id": LAVROV_ID, "lead": "ملخص",
                                                 "declare_modified": True}) as answer:
        assert answer.status == 200
    assert site.ground_truth(LAVROV_ID)["modified"] == clock.now.isoformat()
    async with http.post(control + "edit", json={"id": LAVROV_ID,
                                                 "declare_modified": False}) as answer:
        assert answer.status == 200 and site.ground_truth(LAVROV_ID)["modified"] is None
    async with http.post(control + "edit", json={"id": LAVROV_ID,
                                                 "declare_modified": "no"}) as answer:
        assert answer.status == 400
    site.reset()
    assert site.ground_truth(LAVROV_ID)["modified"] is not None
