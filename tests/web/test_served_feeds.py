"""Every served feed, every page of it, through the validators and feedparser."""

from __future__ import annotations

from typing import Any

import orjson
from lxml import etree

from feedsvc.render import feed_id_for
from tests.web.conftest import Polled
from tests.web.support import ATOM_NS, PUBLIC, check_feed, entry_ids, get, local, topics, walk

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


async def test_every_served_feed_is_valid_and_holds_its_topic(served: Any, polled: Polled) -> None:
    service, http, base = await served()
    listed = await topics(http, base)
    assert {t["slug"] for t in listed} >= {"all", "gaza", "sport", "syria-diplomacy"}
    assert next(t for t in listed if t["slug"] == "all")["count"] == polled.articles
    assert sum(t["count"] for t in listed if t["slug"] != "all") > 0
    for topic in listed:
        for fmt in ("atom", "json"):
            response, body = await get(http, local(base, topic["feeds"][fmt]))
            assert response.status == 200
            parsed = check_feed(fmt, body)
            assert len(parsed.entries) == min(topic["count"], 50), (topic["slug"], fmt)


async def test_every_page_of_every_feed_is_valid_and_pages_cover_the_topic_once(
        served: Any) -> None:
    service, http, base = await served()
    for topic in await topics(http, base):
        for fmt in ("atom", "json"):
            pages = await walk(http, base, f"{base}/feeds/{topic['slug']}.{fmt}?limit=4", fmt)
            ids = [entry_id for page in pages for entry_id in entry_ids(fmt, page)]
            for page in pages:
                check_feed(fmt, page)
            assert len(ids) == len(set(ids)) == topic["count"], (topic["slug"], fmt)


async def test_atom_carries_identity_links_language_and_rtl_content(served: Any) -> None:
    service, http, base = await served()
    response, body = await get(http, f"{base}/feeds/all.atom?limit=7")
    feed = etree.fromstring(body)
    assert feed.get(XML_LANG) == "ar"
    assert feed.findtext("a:id", namespaces=ATOM_NS) == feed_id_for(PUBLIC, "all")
    links = {link.get("rel"): link.get("href") for link in feed.findall("a:link", ATOM_NS)}
    assert links["self"] == f"{PUBLIC}/feeds/all.atom?limit=7"
    assert links["first"] == f"{PUBLIC}/feeds/all.atom?limit=7"
    assert links["next"].startswith(f"{PUBLIC}/feeds/all.atom?limit=7&cursor=")
    entries = feed.findall("a:entry", ATOM_NS)
    assert len(entries) == 7
    for entry in entries:
        assert entry.findtext("a:id", namespaces=ATOM_NS).startswith("tag:feeds.test,2026:")
        for child in ("updated", "published", "author/a:name", "summary", "content"):
            assert (entry.findtext(f"a:{child}", namespaces=ATOM_NS) or "").strip(), child
        assert entry.findtext("a:content", namespaces=ATOM_NS).startswith('<div dir="rtl" lang="ar">')
        rels = {link.get("rel") for link in entry.findall("a:link", ATOM_NS)}
        assert "alternate" in rels
        assert entry.findall("a:category", ATOM_NS)
    assert any(link.get("rel") == "enclosure" for e in entries for link in e.findall("a:link", ATOM_NS))


async def test_entry_ids_and_bytes_survive_a_restart_and_match_across_formats(
        served: Any) -> None:
    service, http, base = await served()
    _, atom = await get(http, f"{base}/feeds/all.atom")
    _, json_feed = await get(http, f"{base}/feeds/all.json")
    assert entry_ids("atom", atom) == entry_ids("json", json_feed)
    document = orjson.loads(json_feed)
    assert document["feed_url"] == f"{PUBLIC}/feeds/all.json"
    assert document["language"] == "ar"
    app2, http2, base2 = await served()
    _, again = await get(http2, f"{base2}/feeds/all.atom")
    assert again == atom
