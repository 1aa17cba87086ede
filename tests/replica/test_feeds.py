"""The RSS feeds, sitemaps, listing and robots.txt, read by the parsers a client would use."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import aiohttp
import feedparser
import pytest
from lxml import etree

from feedsvc.replica import ReplicaSite, serve_replica
from tests.replica.conftest import fetch

SITEMAP_NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
ID_IN_PATH = re.compile(r"/[a-z_]+/(\d+)-")


def _ids(feed: feedparser.FeedParserDict) -> list[int]:
    return [int(ID_IN_PATH.search(entry.link)[1]) for entry in feed.entries]


async def _feed(http: aiohttp.ClientSession, url: str) -> feedparser.FeedParserDict:
    status, body = await fetch(http, url)
    assert status == 200
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


async def test_site_feed_parses_and_every_link_answers(base_url, http, site: ReplicaSite):
    feed = await _feed(http, base_url + "/rss/")
    assert feed.version == "rss20" and feed.feed.language == "ar"
    assert 0 < len(feed.entries) <= 40
    for entry in feed.entries:
        assert "utm_source=rss" in entry.link and "utm" not in entry.id
        assert entry.published_parsed and entry.enclosures and entry.tags
        assert '<img src="' in entry.summary
        status, _ = await fetch(http, entry.link)
        assert status == 200, entry.link


async def test_feed_without_slash_is_the_same_feed(base_url, http):
    assert (await fetch(http, base_url + "/rss"))[1] == (await fetch(http, base_url + "/rss/"))[1]


async def test_rss_is_newest_first_with_pubdate_in_utc(base_url, http):
    status, body = await fetch(http, base_url + "/rss/")
    dates = re.findall(rb"<pubDate>([^<]+)</pubDate>", body)
    assert dates and all(date.endswith(b"+0000") for date in dates)
    feed = feedparser.parse(body)
    stamps = [entry.published_parsed for entry in feed.entries]
    assert stamps == sorted(stamps, reverse=True)
    assert b"<ttl>" in body


async def test_each_article_is_in_its_section_feed_too(base_url, http, site: ReplicaSite):
    site_ids = set(_ids(await _feed(http, base_url + "/rss/")))
    seen_in_sections: set[int] = set()
    for section in site.sections:
        feed = await _feed(http, f"{base_url}/rss/{section}/")
        assert all(f"/{section}/" in entry.link for entry in feed.entries)
        seen_in_sections |= set(_ids(feed))
    assert site_ids <= seen_in_sections


async def test_section_feeds_name_articles_by_url_variants(base_url, http, site: ReplicaSite):
    links = []
    for section in site.sections:
        links += [entry.id for entry in (await _feed(http, f"{base_url}/rss/{section}/")).entries]
    hosts = {urlsplit(link).netloc for link in links}
    assert len(hosts) == 2, "some links go through the mirror host"
    assert any(not link.endswith("/") for link in links)
    assert any("%" not in link and unquote(link) == link for link in links)
    for link in links:
        status, _ = await fetch(http, link)
        assert status == 200, link


async def test_unknown_section_feed_is_404(base_url, http):
    assert (await fetch(http, base_url + "/rss/nowhere/"))[0] == 404


async def test_conditional_get_answers_304(base_url, http):
    async with http.get(base_url + "/rss/") as first:
        etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
        assert first.headers["Cache-Control"] == "max-age=60"
    assert (await fetch(http, base_url + "/rss/", headers={"If-None-Match": etag}))[0] == 304
    since = {"If-Modified-Since": last_modified}
    assert (await fetch(http, base_url + "/rss/", headers=since))[0] == 304
    assert (await fetch(http, base_url + "/rss/", headers={"If-None-Match": '"other"'}))[0] == 200


async def test_sitemap_index_and_children_parse(base_url, http, site: ReplicaSite):
    status, body = await fetch(http, base_url + "/sitemap.xml")
    index = etree.fromstring(body)
    children = index.xpath("//sm:sitemap/sm:loc/text()", namespaces=SITEMAP_NS)
    assert status == 200 and children
    locs: list[str] = []
    for child in children:
        status, body = await fetch(http, child)
        urlset = etree.fromstring(body)
        lastmods = urlset.xpath("//sm:lastmod/text()", namespaces=SITEMAP_NS)
        assert status == 200 and all(lastmod.endswith("+03:00") for lastmod in lastmods)
        locs += urlset.xpath("//sm:loc/text()", namespaces=SITEMAP_NS)
    assert len(locs) == len(site.newest())


async def test_listing_pages_hold_ten_relative_links(base_url, http, site: ReplicaSite):
    key = "5f1ad0e185fdb5" + "a" * 10
    status, body = await fetch(http, f"{base_url}/listing/trend.{key}/noprepare/trend/10/0")
    hrefs = re.findall(rb'<a class="heading" href="(/[^"]+)"', body)
    assert status == 200 and len(hrefs) == min(10, len(site.newest()))
    status, _ = await fetch(http, base_url + hrefs[0].decode())
    assert status == 200


async def test_robots_allows_all_with_a_delay_until_switched(base_url, http, site: ReplicaSite):
    body = (await fetch(http, base_url + "/robots.txt"))[1].decode()
    assert "Allow: /" in body and "Crawl-delay: 1" in body
    site.set_robots(allowed=False)
    assert "Disallow: /" in (await fetch(http, base_url + "/robots.txt"))[1].decode()


async def test_feed_size_sets_how_many_of_the_newest_the_site_feed_lists(http, clock):
    default_site = ReplicaSite(clock=clock)
    async with serve_replica(default_site) as url:
        default_ids = _ids(await _feed(http, url + "/rss/"))
    assert len(default_ids) == 40
    for size, expected in ((5, default_ids[:5]), (1_000, [a.id for a in default_site.newest()])):
        async with serve_replica(ReplicaSite(clock=clock, feed_size=size)) as url:
            assert _ids(await _feed(http, url + "/rss/")) == expected
    assert len(expected) > 40, "a feed larger than the data lists every published article"


def test_feed_size_below_one_is_refused():
    with pytest.raises(ValueError, match="at least one article"):
        ReplicaSite(feed_size=0)
