"""The index page, the OPML list and /api/topics describe the same topics and feeds."""

from __future__ import annotations

from typing import Any

from lxml import etree, html

from tests.web.support import PUBLIC, get, local, topics


async def test_index_opml_and_api_agree(served: Any) -> None:
    service, http, base = await served()
    listed = await topics(http, base)
    for topic in listed:
        assert set(topic) == {"slug", "title", "description", "count", "updated", "feeds", "page"}
        assert topic["feeds"] == {"atom": f"{PUBLIC}/feeds/{topic['slug']}.atom",
                                  "json": f"{PUBLIC}/feeds/{topic['slug']}.json"}
        assert topic["count"] == 0 or topic["updated"].endswith("Z")

    response, body = await get(http, f"{base}/")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = html.fromstring(body)
    assert (page.get("lang"), page.get("dir")) == ("ar", "rtl")
    alternates = {(link.get("type"), link.get("href"))
                  for link in page.xpath("//head/link[@rel='alternate']")}
    expected = {(kind, t["feeds"][fmt]) for t in listed
                for fmt, kind in (("atom", "application/atom+xml"), ("json", "application/feed+json"))}
    assert alternates == expected
    subscribe = {a.get("href") for a in page.xpath("//p[@class='subscribe']/a")}
    assert subscribe == {href for _, href in expected}
    assert page.xpath("//footer/a/@href") == [f"{PUBLIC}/topics.opml"]

    response, body = await get(http, f"{base}/topics.opml")
    assert response.headers["Content-Type"] == "text/x-opml; charset=utf-8"
    opml = etree.fromstring(body)
    assert opml.get("version") == "2.0"
    outlines = opml.findall("body/outline")
    assert [o.get("xmlUrl") for o in outlines] == [t["feeds"]["atom"] for t in listed]
    assert [o.get("title") for o in outlines] == [t["title"] for t in listed]
    for outline in outlines:
        feed_response, _ = await get(http, local(base, outline.get("xmlUrl")))
        assert feed_response.status == 200


async def test_head_works_on_every_route(served: Any) -> None:
    service, http, base = await served()
    for path in ("/", "/topics.opml", "/api/topics", "/feeds/all.atom", "/healthz", "/readyz"):
        async with http.head(base + path) as response:
            assert response.status == 200, path
            assert await response.read() == b""
