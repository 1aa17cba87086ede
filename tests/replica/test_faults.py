"""Each fault does what it says, only where and as often as it was told."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from email.utils import parsedate_to_datetime

import aiohttp
import feedparser
import pytest
from lxml import etree

from feedsvc.replica import ReplicaSite
from tests.replica.conftest import LAVROV_ID, StoppedClock, fetch


async def test_status_burst_then_recovery(base_url, http, site: ReplicaSite):
    site.inject("status", "/rss*", times=3)
    statuses = [(await fetch(http, base_url + "/rss/"))[0] for _ in range(4)]
    assert statuses == [500, 502, 503, 200]
    assert [r.status for r in site.requests] == statuses


async def test_status_hits_only_the_glob(base_url, http, site: ReplicaSite):
    site.inject("status", "/rss/sport/", statuses=[503])
    assert (await fetch(http, base_url + "/rss/sport/"))[0] == 503
    assert (await fetch(http, base_url + "/rss/"))[0] == 200
    site.clear_faults()
    assert (await fetch(http, base_url + "/rss/sport/"))[0] == 200


async def test_rate_limit_in_seconds(base_url, http, site: ReplicaSite):
    site.inject("rate_limit", times=1, retry_after=30)
    async with http.get(base_url + "/rss/") as answer:
        assert (answer.status, answer.headers["Retry-After"]) == (429, "30")
    assert (await fetch(http, base_url + "/rss/"))[0] == 200


async def test_rate_limit_as_http_date(base_url, http, site: ReplicaSite, clock: StoppedClock):
    site.inject("rate_limit", status=503, retry_after=120, http_date=True)
    async with http.get(base_url + "/rss/") as answer:
        assert answer.status == 503
        when = parsedate_to_datetime(answer.headers["Retry-After"])
    assert when == clock.now + timedelta(seconds=120)


async def test_slow_holds_the_headers_back(base_url, http, site: ReplicaSite):
    site.inject("slow", "/rss/", times=1, delay=5)
    with pytest.raises(asyncio.TimeoutError):
        await fetch(http, base_url + "/rss/", timeout=aiohttp.ClientTimeout(sock_read=0.2))
    site.inject("slow", "/rss/", times=1, delay=0.05)
    assert (await fetch(http, base_url + "/rss/"))[0] == 200


async def test_drip_sends_the_whole_body_in_pieces(base_url, http, site: ReplicaSite):
    whole = (await fetch(http, base_url + "/rss/"))[1]
    site.inject("drip", "/rss/", times=1, chunk=2048, interval=0.02)
    pieces = []
    async with http.get(base_url + "/rss/") as answer:
        async for piece in answer.content.iter_any():
            pieces.append(piece)
    assert b"".join(pieces) == whole and len(pieces) > 1


async def test_truncate_declares_more_than_it_sends(base_url, http, site: ReplicaSite):
    site.inject("truncate", "/rss/", times=1, fraction=0.3)
    with pytest.raises(aiohttp.ClientPayloadError):
        await fetch(http, base_url + "/rss/")
    assert (await fetch(http, base_url + "/rss/"))[0] == 200


async def test_malformed_feed_and_page(base_url, http, site: ReplicaSite):
    site.inject("malformed")
    status, feed_body = await fetch(http, base_url + "/rss/")
    assert status == 200 and feedparser.parse(feed_body).bozo
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(feed_body)
    page = (await fetch(http, site.ground_truth(LAVROV_ID)["url"]))[1]
    assert b"]]>" in page and b"</div>" not in page
    with pytest.raises(UnicodeDecodeError):
        page.decode("utf-8")


async def test_oversize_with_and_without_a_length(base_url, http, site: ReplicaSite):
    site.inject("oversize", "/rss/", times=1, mib=2)
    async with http.get(base_url + "/rss/") as answer:
        assert answer.content_length == 2 * 1024 * 1024
        assert len(await answer.read()) == 2 * 1024 * 1024
    site.inject("oversize", "/rss/", times=1, mib=1, declare_length=False)
    async with http.get(base_url + "/rss/") as answer:
        assert answer.content_length is None
        assert len(await answer.read()) == 1024 * 1024


async def test_redirect_loop(base_url, http, site: ReplicaSite):
    site.inject("redirect_loop", "/rss/")
    async with http.get(base_url + "/rss/", allow_redirects=False) as answer:
        first = answer.headers["Location"]
    async with http.get(base_url + first, allow_redirects=False) as answer:
        assert answer.headers["Location"] == "/rss/"
    with pytest.raises(aiohttp.TooManyRedirects):
        await fetch(http, base_url + "/rss/", max_redirects=5)


async def test_redirect_to_the_mirror_host(base_url, http, site: ReplicaSite):
    site.inject("redirect", "/middle_east/*", times=1)
    url = site.ground_truth(LAVROV_ID)["url"]
    async with http.get(url) as answer:
        assert answer.status == 200 and answer.history[0].status == 301
        assert str(answer.url).startswith(site.mirror_bases[0])


async def test_charset_utf8_body_labelled_windows_1256(base_url, http, site: ReplicaSite):
    site.inject("charset", "/rss/", times=1)
    async with http.get(base_url + "/rss/") as answer:
        assert answer.charset == "windows-1256"
        (await answer.read()).decode("utf-8")


@pytest.mark.parametrize(("declared", "charset"), [("utf-8", "utf-8"), ("meta", None)])
async def test_charset_windows_1256_body(base_url, http, site: ReplicaSite, declared, charset):
    site.inject("charset", times=1, body="windows-1256", declared=declared)
    url = site.ground_truth(LAVROV_ID)["url"]
    async with http.get(url) as answer:
        assert answer.charset == charset
        body = await answer.read()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    text = body.decode("windows-1256")
    assert site.ground_truth(LAVROV_ID)["title"] in text
    assert ('charset="windows-1256"' in text) is (declared == "meta")


async def test_garbage_is_random_bytes_with_200(base_url, http, site: ReplicaSite):
    site.inject("garbage", "/rss/", times=1, size=1000)
    status, body = await fetch(http, base_url + "/rss/")
    assert status == 200 and len(body) == 1000 and not body.startswith(b"<?xml")


async def test_after_route_faults_wait_for_a_200(base_url, http, site: ReplicaSite):
    site.inject("garbage", times=1)
    assert (await fetch(http, base_url + "/news/1-none/"))[0] == 404
    assert not (await fetch(http, base_url + "/rss/"))[1].startswith(b"<?xml")
    assert (await fetch(http, base_url + "/rss/"))[1].startswith(b"<?xml")


def test_unknown_fault_and_bad_count_are_refused(site: ReplicaSite):
    with pytest.raises(ValueError):
        site.inject("earthquake")
    with pytest.raises(ValueError):
        site.inject("status", times=0)


async def test_hold_keeps_answers_back_until_the_faults_are_cleared(
        base_url, http, site: ReplicaSite):
    site.inject("hold", "/rss/", times=1)  # spent by the first answer, which still waits
    waiting = asyncio.create_task(fetch(http, base_url + "/rss/"))
    while site.faults.describe():  # until the request arrived and spent it
        await asyncio.sleep(0.01)
    assert (await fetch(http, base_url + "/rss/sport/"))[0] == 200  # other paths answer
    assert not waiting.done()
    site.clear_faults()
    assert (await waiting)[0] == 200


async def test_hold_gives_up_after_most_seconds(base_url, http, site: ReplicaSite):
    site.inject("hold", "/rss/", most=0.05)
    assert (await fetch(http, base_url + "/rss/"))[0] == 200
    assert site.faults.describe()[0]["hits"] == 1
