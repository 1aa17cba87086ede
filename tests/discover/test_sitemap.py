"""Sitemap backfill parser: the replica's real sitemaps over loopback, odd and hostile input."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta, timezone

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsvc.discover.sitemap import (
    MAX_SITEMAP_BYTES,
    SitemapDocument,
    SitemapEntry,
    backfill_candidates,
    parse_lastmod,
    parse_sitemap,
)
from feedsvc.errors import ParseError
from feedsvc.replica import ReplicaSite
from feedsvc.replica.articles import canonical_url
from tests.conftest import REPLICA_NOW

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
MOSCOW = timezone(timedelta(hours=3))


def urlset(*entries: str, ns: str = NS) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset {ns}>{"".join(entries)}</urlset>'.encode()


def url(loc: str, lastmod: str | None = None) -> str:
    return f"<url><loc>{loc}</loc>" + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "") + "</url>"


async def fetch(path: str, site: ReplicaSite) -> bytes:
    async with aiohttp.ClientSession() as http, http.get(site.base_url + path) as response:
        assert response.status == 200
        return await response.read()


# -- the replica's sitemaps ----------------------------------------------------------


async def test_replica_index_lists_every_month_with_its_newest_change(replica: ReplicaSite) -> None:
    index = parse_sitemap(await fetch("/sitemap.xml", replica))
    assert (index.kind, index.skipped, index.salvaged) == ("index", 0, False)
    assert [(e.url, e.lastmod) for e in index.entries] == [
        (f"{replica.base_url}/sitemap/{month}.xml", lastmod.astimezone(UTC))
        for month, lastmod in replica.sitemap_months()]
    assert all(e.lastmod is not None and e.lastmod.tzinfo is UTC for e in index.entries)


async def test_replica_month_lists_its_articles_with_utc_lastmod(replica: ReplicaSite) -> None:
    month, _ = replica.sitemap_months()[0]
    document = parse_sitemap(await fetch(f"/sitemap/{month}.xml", replica))
    assert (document.kind, document.skipped) == ("urlset", 0)
    assert [(e.url, e.lastmod) for e in document.entries] == [
        (canonical_url(replica.frame, a), a.modified.astimezone(UTC))
        for a in replica.sitemap_month(month)]


async def test_backfill_walks_recent_children_then_recent_urls(replica: ReplicaSite) -> None:
    """The call sequence the pipeline uses: index → recent children → recent article URLs."""
    now, max_age = REPLICA_NOW, timedelta(days=3)
    index = parse_sitemap(await fetch("/sitemap.xml", replica))
    plan = backfill_candidates(index, now=now, max_age=max_age)
    assert plan.articles == () and plan.undated == 0
    assert len(plan.sitemaps) + plan.too_old == len(index.entries)
    assert [e.url for e in plan.sitemaps] == [
        f"{replica.base_url}/sitemap/{m}.xml" for m, lastmod in replica.sitemap_months()
        if lastmod >= now - max_age]
    candidates: list[SitemapEntry] = []
    for child in plan.sitemaps:
        path = child.url.removeprefix(replica.base_url)
        urls = parse_sitemap(await fetch(path, replica))
        candidates += backfill_candidates(urls, now=now, max_age=max_age).articles
    expected = sorted((a for a in replica.newest() if a.modified >= now - max_age),
                      key=lambda a: (a.modified, canonical_url(replica.frame, a)), reverse=True)
    assert [c.url for c in candidates] == [canonical_url(replica.frame, a) for a in expected]
    assert candidates, "the replica's newest days should give candidates"


# -- reading odd documents -------------------------------------------------------------


@pytest.mark.parametrize("ns", [NS, "", 'xmlns="http://www.google.com/schemas/sitemap/0.84"'])
def test_namespaces_do_not_matter(ns: str) -> None:
    document = parse_sitemap(urlset(url("https://arabic.rt.com/news/1-a/", "2015-12-15"), ns=ns))
    assert document.entries == (
        SitemapEntry("https://arabic.rt.com/news/1-a/", datetime(2015, 12, 14, 21, 0, tzinfo=UTC)),)


def test_prefixed_namespace_and_extensions() -> None:
    body = (b'<sm:urlset xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9" '
            b'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">'
            b"<sm:url><sm:loc> https://arabic.rt.com/news/1-a/ </sm:loc>"
            b"<image:image><image:loc>https://img/x.jpg</image:loc></image:image>"
            b"<sm:lastmod>2015-12-15T21:34:00+03:00</sm:lastmod></sm:url></sm:urlset>")
    [entry] = parse_sitemap(body).entries
    assert entry == SitemapEntry("https://arabic.rt.com/news/1-a/",
                                 datetime(2015, 12, 15, 18, 34, tzinfo=UTC))


def test_malformed_entries_are_skipped_and_counted() -> None:
    body = urlset(
        url("https://arabic.rt.com/news/1-a/", "2015-12-15T21:34:00+03:00"),
        url("", "2015-12-15"),  # no loc
        "<url><lastmod>2015-12-15</lastmod></url>",  # no loc element
        url("/news/2-relative/", "2015-12-15"),  # not absolute
        url("javascript:alert(1)"),
        url("https://arabic.rt.com/news/3-c/", "yesterday"),  # unreadable lastmod
        url("https://arabic.rt.com/news/4-d/", "2015-13-40"),  # no such date
        url("https://arabic.rt.com/news/5-e/"),  # no lastmod: allowed, undated
    )
    document = parse_sitemap(body)
    assert document.skipped == 6
    assert [(e.url, e.lastmod is None) for e in document.entries] == [
        ("https://arabic.rt.com/news/1-a/", False), ("https://arabic.rt.com/news/5-e/", True)]


def test_an_url_listed_twice_keeps_its_newest_lastmod() -> None:
    loc = "https://arabic.rt.com/news/1-a/"
    document = parse_sitemap(urlset(url(loc, "2015-12-15"), url(loc, "2015-12-17"), url(loc)))
    assert document.entries == (SitemapEntry(loc, datetime(2015, 12, 16, 21, 0, tzinfo=UTC)),)


def test_broken_xml_is_salvaged() -> None:
    body = urlset(url("https://arabic.rt.com/news/1-a/", "2015-12-15"))[:-12]  # cut mid-tag
    document = parse_sitemap(body + b"<url><loc>https://arabic.rt.com/news/2-b/</loc")
    assert document.salvaged
    assert document.entries[0].url == "https://arabic.rt.com/news/1-a/"


def test_gzip_body_is_unpacked() -> None:
    document = parse_sitemap(gzip.compress(urlset(url("https://arabic.rt.com/news/1-a/"))))
    assert [e.url for e in document.entries] == ["https://arabic.rt.com/news/1-a/"]


def test_an_empty_urlset_is_readable_and_empty() -> None:
    assert parse_sitemap(urlset()) == SitemapDocument("urlset", (), 0, False)


@pytest.mark.parametrize("body", [
    b"", b"   ", b"not xml at all", b"\x00\x01\x02", b"<html><body>502</body></html>",
    b'<rss version="2.0"><channel/></rss>', urlset(url("nope"), url("", "2015")),
    b"\x1f\x8bnot really gzip", gzip.compress(b"<html/>"),
])
def test_nothing_readable_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_sitemap(body)


def test_oversized_document_is_refused() -> None:
    with pytest.raises(ParseError, match="larger"):
        parse_sitemap(gzip.compress(b" " * (MAX_SITEMAP_BYTES + 10) + urlset()))


# -- hostile documents ---------------------------------------------------------------


def test_external_entities_are_not_resolved() -> None:
    body = (b'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY secret SYSTEM "file:///etc/hostname">'
            b'<!ENTITY remote SYSTEM "http://127.0.0.1:9/x">]>'
            b"<urlset><url><loc>https://arabic.rt.com/news/1-&secret;/</loc></url>"
            b"<url><loc>&remote;</loc></url>"
            b"<url><loc>https://arabic.rt.com/news/2-b/</loc></url></urlset>")
    document = parse_sitemap(body)
    assert [e.url for e in document.entries] == ["https://arabic.rt.com/news/2-b/"]
    assert document.skipped == 2  # the values behind the entities are unknown


def test_entity_expansion_bomb_stays_small() -> None:
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    body = (f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY l0 "lol">{lol}]>'
            "<urlset><url><loc>https://arabic.rt.com/news/1-&l9;/</loc></url>"
            "<url><loc>https://arabic.rt.com/news/2-b/</loc></url></urlset>").encode()
    try:
        document = parse_sitemap(body)
    except ParseError:
        return
    # libxml2 stops the amplification; what recovery salvages holds no expansion
    assert all("lol" not in e.url and len(e.url) < 100 for e in document.entries)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_give_a_document_or_a_parse_error(body: bytes) -> None:
    _parse_or_parse_error(body)


_XMLISH = st.lists(st.sampled_from([
    "<urlset>", "</urlset>", "<sitemapindex>", "</sitemapindex>", "<url>", "</url>",
    "<sitemap>", "</sitemap>", "<loc>", "</loc>", "<lastmod>", "</lastmod>",
    "https://arabic.rt.com/news/1-a/", "http://x/", "2015-12-15T21:34:00+03:00", "0001-01-01T00:00+01:00",
    "9999-12-31T23:59:59-01:00", "2015-02-30", "&amp;", "&x;", "<![CDATA[", "]]>", "<!--", "-->",
    "\x00", "\ud800", "é", " ", "<?xml version='1.0'?>", '<!DOCTYPE x [<!ENTITY x "y">]>',
]), max_size=40).map("".join)


@settings(max_examples=300, deadline=None)
@given(_XMLISH, st.sampled_from(["utf-8", "utf-16", "latin-1"]))
def test_sitemap_like_text_gives_a_document_or_a_parse_error(text: str, encoding: str) -> None:
    _parse_or_parse_error(text.encode(encoding, "surrogatepass" if encoding != "latin-1" else "replace"))


def _parse_or_parse_error(body: bytes) -> None:
    try:
        document = parse_sitemap(body)
    except ParseError:
        return
    assert document.kind in ("index", "urlset")
    for entry in document.entries:
        assert entry.url.startswith(("http://", "https://"))
        assert entry.lastmod is None or entry.lastmod.utcoffset() == timedelta(0)
    backfill_candidates(document, now=REPLICA_NOW, max_age=timedelta(days=1))


# -- lastmod ---------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "expected"), [
    ("2015-12-15T21:34:00+03:00", datetime(2015, 12, 15, 18, 34, tzinfo=UTC)),
    ("2015-12-15T18:34:00Z", datetime(2015, 12, 15, 18, 34, tzinfo=UTC)),
    ("2015-12-15T21:34+03:00", datetime(2015, 12, 15, 18, 34, tzinfo=UTC)),
    ("2015-12-15T21:34:00.5+0300", datetime(2015, 12, 15, 18, 34, 0, 500000, tzinfo=UTC)),
    ("2015-12-15T21:34:00", datetime(2015, 12, 15, 18, 34, tzinfo=UTC)),  # site time
    ("2015-12-15", datetime(2015, 12, 14, 21, 0, tzinfo=UTC)),
    ("2015-12", datetime(2015, 11, 30, 21, 0, tzinfo=UTC)),
    (" 2015 ", datetime(2014, 12, 31, 21, 0, tzinfo=UTC)),
    ("2015-12-15T25:00:00Z", None), ("2015-12-15T21:34:00+25:00", None),
    ("0001-01-01T00:00:00+03:00", None), ("15.12.2015", None), ("", None),
])
def test_lastmod_formats(written: str, expected: datetime | None) -> None:
    assert parse_lastmod(written, MOSCOW) == expected


# -- deciding ------------------------------------------------------------------------


def test_backfill_keeps_recent_entries_newest_first() -> None:
    now = datetime(2015, 12, 20, tzinfo=UTC)
    body = urlset(url("https://a.test/1-old/", "2015-12-01T00:00:00Z"),
                  url("https://a.test/2-edge/", "2015-12-13T00:00:00Z"),
                  url("https://a.test/3-new/", "2015-12-19T00:00:00Z"),
                  url("https://a.test/4-future/", "2015-12-21T00:00:00Z"),
                  url("https://a.test/5-undated/"))
    plan = backfill_candidates(parse_sitemap(body), now=now, max_age=timedelta(days=7))
    assert [e.url for e in plan.articles] == [
        "https://a.test/4-future/", "https://a.test/3-new/", "https://a.test/2-edge/"]
    assert (plan.sitemaps, plan.too_old, plan.undated) == ((), 1, 1)


def test_backfill_of_an_index_chooses_children() -> None:
    body = (f"<sitemapindex {NS}><sitemap><loc>https://a.test/sitemap/2015-12.xml</loc>"
            "<lastmod>2015-12-19T00:00:00+03:00</lastmod></sitemap>"
            "<sitemap><loc>https://a.test/sitemap/2015-11.xml</loc>"
            "<lastmod>2015-11-30T00:00:00+03:00</lastmod></sitemap></sitemapindex>").encode()
    plan = backfill_candidates(parse_sitemap(body), now=datetime(2015, 12, 20, tzinfo=UTC),
                               max_age=timedelta(days=7))
    assert [e.url for e in plan.sitemaps] == ["https://a.test/sitemap/2015-12.xml"]
    assert (plan.articles, plan.too_old) == ((), 1)


def test_backfill_refuses_caller_mistakes() -> None:
    document = SitemapDocument("urlset", (), 0, False)
    with pytest.raises(ValueError, match="aware"):
        backfill_candidates(document, now=datetime(2015, 12, 20), max_age=timedelta(days=1))
    with pytest.raises(ValueError, match="positive"):
        backfill_candidates(document, now=REPLICA_NOW, max_age=timedelta(0))
