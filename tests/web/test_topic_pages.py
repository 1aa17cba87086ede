"""Topic pages over HTTP: served and cached like the feeds, paged with the feeds' cursors,
404 and 410 like them; and rendered by a real browser, right to left, every link working.

Chromium is installed by tests/peers/install.sh (run by `make test`); a missing browser
fails the browser test, it never skips it.
"""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import brotli
import html5lib
import orjson
import pytest
from aiohttp import web
from lxml import etree, html

from feedsvc.replica import ReplicaSite
from feedsvc.service import open_service
from feedsvc.web.app import create_app
from tests.conftest import SHIPPED_TOPICS, Clock
from tests.factories import T0, make_article
from tests.ops.test_metrics import scrape, value
from tests.render.test_hostile import HOSTILE
from tests.render.test_topic_page import AA_TEXT, contrast
from tests.web.conftest import web_settings
from tests.web.support import ATOM_NS, PUBLIC, get, get_json, local, topics, walk
from tests.web.test_hostile import hostile
from tests.web.test_readers import chromium_argv, run

HTML = "text/html; charset=utf-8"


def parse(body: bytes) -> Any:
    """A strict WHATWG HTML5 parse: any parse error fails the test."""
    return html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(body)


def story_links(page: Any) -> list[str]:
    return [a.get("href") for a in page.iterfind("body/main/article/div/h2/a")]


def older_link(page: Any) -> str | None:
    found = page.find("body/nav/a[@rel='next']")
    return None if found is None else str(found.get("href"))


async def test_topic_pages_show_the_feeds_articles(served: Any) -> None:
    service, http, base = await served()
    for topic in await topics(http, base):
        slug = topic["slug"]
        response, body = await get(http, f"{base}/topics/{slug}")
        assert response.status == 200, slug
        assert response.headers["Content-Type"] == HTML
        page = parse(body)
        assert (page.get("lang"), page.get("dir")) == ("ar", "rtl")
        assert page.findtext("body/header/h1/bdi") == topic["title"]
        feed = await get_json(http, f"{base}/feeds/{slug}.json")
        assert story_links(page) == [item["url"] for item in feed["items"]], slug
        assert [a.findtext("bdi") for a in page.iterfind("body/main/article/div/h2/a")] == [
            item["title"] for item in feed["items"]]
        images = [img.get("src") for img in page.iterfind("body/main/article/img")]
        assert images == [item["image"] for item in feed["items"] if "image" in item]
        discovery = {link.get("type"): link.get("href")
                     for link in page.iterfind("head/link[@rel='alternate']")}
        assert discovery == {"application/atom+xml": topic["feeds"]["atom"],
                             "application/feed+json": topic["feeds"]["json"]}


async def test_cached_validated_and_compressed_like_the_feeds(served: Any) -> None:
    service, http, base = await served()
    url = f"{base}/topics/gaza"
    first, body = await get(http, url)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and first.headers["Cache-Control"] == "public, max-age=300"
    assert first.headers["Vary"] == "Accept-Encoding"
    before = await scrape(http, base)
    for method in ("GET", "HEAD"):
        async with http.request(method, url, headers={"If-None-Match": etag}) as response:
            assert response.status == 304 and await response.read() == b""
            assert response.headers["ETag"] == etag
    async with http.request("GET", url, headers={"If-Modified-Since": first.headers["Last-Modified"]}
                            ) as response:
        assert response.status == 304
    async with aiohttp.ClientSession(auto_decompress=False) as raw:
        for coding, decode in (("br", brotli.decompress), ("gzip", gzip.decompress)):
            response, compressed = await get(raw, url, headers={"Accept-Encoding": coding})
            assert response.headers["Content-Encoding"] == coding
            assert decode(compressed) == body
    renders = ("feedsvc_render_cache_total", "render")
    after = await scrape(http, base)
    assert value(after, renders[0], result=renders[1]) == value(before, renders[0], result=renders[1]), \
        "every answer came from the cache"
    _, metrics = await get(http, f"{base}/metrics")
    assert b'feedsvc_feed_requests_total{format="html",status="304",topic="gaza"} 3.0' in metrics


async def test_a_change_renders_the_page_again(served: Any) -> None:
    service, http, base = await served()
    before, _ = await get(http, f"{base}/topics/gaza")
    newest = (await service.store.topic_page("gaza", limit=1))[0]
    published = newest.published + timedelta(minutes=1)
    arrived = make_article(1, title="خبر جديد عن غزة", published=published, updated=published)
    await service.store.save_article(arrived, {"gaza"}, now=T0)
    await service.feeds.invalidate({"gaza"})
    after, body = await get(http, f"{base}/topics/gaza", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status == 200 and after.headers["ETag"] != before.headers["ETag"]
    assert parse(body).findtext("body/main/article/div/h2/a/bdi") == "خبر جديد عن غزة"


async def test_pages_walk_the_same_cursors_as_the_feeds(served: Any) -> None:
    service, http, base = await served()
    feed_pages = await walk(http, base, f"{base}/feeds/all.json?limit=7", "json")
    feed_links = [item["url"] for page in feed_pages for item in orjson.loads(page)["items"]]
    feed_cursors = [orjson.loads(page).get("next_url") for page in feed_pages]
    url: str | None = f"{base}/topics/all?limit=7"
    walked, cursors = [], []
    while url is not None:
        response, body = await get(http, url)
        assert response.status == 200, body[:300]
        page = parse(body)
        walked += story_links(page)
        later = page.find("body/nav/a[@rel='first']")
        assert (later is not None) == bool(cursors), "a later page links back to the newest"
        if later is not None:
            assert later.get("href") == f"{PUBLIC}/topics/all?limit=7"
        cursors.append(older_link(page))
        url = local(base, cursors[-1]) if cursors[-1] else None
    assert walked == feed_links and len(walked) == len(set(walked))
    assert [urlsplit(c).query if c else None for c in cursors] == [
        urlsplit(c).query if c else None for c in feed_cursors]
    assert len(cursors) > 3


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "cursor=garbage!!", "page=2",
                                   "limit=5&limit=6"])
async def test_bad_parameters_are_400(served: Any, query: str) -> None:
    service, http, base = await served()
    response, body = await get(http, f"{base}/topics/gaza?{query}")
    assert response.status == 400 and response.content_type == "text/plain", body


async def test_unknown_topic_404_removed_topic_410(served: Any, tmp_path: Path) -> None:
    service, http, base = await served()
    for path in ("/topics/no-such-topic", "/topics/sport/", "/topics/", "/feeds/sport.html"):
        response, _ = await get(http, base + path)
        assert response.status == (400 if path.endswith(".html") else 404), path
    response, _ = await get(http, f"{base}/topics/sport")
    assert response.status == 200
    edited = tmp_path / "topics.toml"
    text = SHIPPED_TOPICS.read_text(encoding="utf-8")
    start = text.index('[[topics]]\nslug = "sport"')
    end = text.find("[[topics]]", start + 1)
    edited.write_text(text[:start] + (text[end:] if end != -1 else ""), encoding="utf-8")
    service.topics.path = edited
    assert await service.topics.reload()
    for path in ("/topics/sport", "/topics/sport?limit=3"):
        response, body = await get(http, base + path)
        assert response.status == 410 and b"removed" in body, path
    response, _ = await get(http, f"{base}/topics/gaza")
    assert response.status == 200


async def test_index_links_each_topic_to_its_page_and_feeds_point_at_it(served: Any) -> None:
    service, http, base = await served()
    _, body = await get(http, f"{base}/")
    index = parse(body)
    listed = await topics(http, base)
    pages = [a.get("href") for a in index.iterfind("body/main/section/h2/a")]
    # the index leads with "all", then the topics in the order of the file (as the API)
    slugs = ["all"] + [topic["slug"] for topic in listed if topic["slug"] != "all"]
    assert pages == [f"{PUBLIC}/topics/{slug}" for slug in slugs]
    for page in pages:
        response, _ = await get(http, local(base, page))
        assert response.status == 200
    # a reader's "visit website" leads to the topic page, not to XML
    _, atom = await get(http, f"{base}/feeds/gaza.atom")
    alternate = etree.fromstring(atom).find("a:link[@rel='alternate'][@type='text/html']", ATOM_NS)
    assert alternate.get("href") == f"{PUBLIC}/topics/gaza"
    assert (await get_json(http, f"{base}/feeds/gaza.json"))["home_page_url"] == f"{PUBLIC}/topics/gaza"


async def test_hostile_articles_stay_text_on_the_page(served: Any) -> None:
    service, http, base = await served()
    for n, text in enumerate(HOSTILE):
        await service.store.save_article(hostile(n, text), {"gaza"}, now=T0)
    await service.feeds.invalidate({"gaza"})
    response, body = await get(http, f"{base}/topics/gaza?limit=200")
    assert response.status == 200
    page = parse(body)
    assert page.findall(".//script") == [] and page.findall(".//b") == []
    assert b"\x00" not in body
    assert len(page.findall("body/main/article")) >= len(HOSTILE)


# --- a real browser ----------------------------------------------------------------

# Chromium resolves no name but loopback: article images sit on the site's image host,
# and no test may reach beyond loopback (the images show their alt text instead).
LOOPBACK_ONLY = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"


@pytest.fixture
async def live(replica: ReplicaSite, clock: Clock, tmp_path: Path, unused_tcp_port: int
               ) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    """feedsvc on its own loopback address, polled from a replica that stays up, so the
    article links on the pages (to the replica) answer too."""
    base = f"http://127.0.0.1:{unused_tcp_port}"
    settings = web_settings(replica.base_url, tmp_path, public_url=base)
    async with open_service(settings, clock=clock, scheduling=False) as service:
        app = create_app(service)
        app.router.add_get("/_probe", _probe_page)  # test-only, same origin as the pages
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
        try:
            report = await service.poller.poll(settings.sources[0])
            assert not report.failed and report.new > 20, report
            async with aiohttp.ClientSession() as http:
                yield http, base
        finally:
            await runner.cleanup()


async def _probe_page(request: web.Request) -> web.Response:
    """Loads a topic page in a same-origin frame and writes what the browser computed."""
    page = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<iframe id="page" src="/topics/all?limit=5" style="width:1200px;height:900px"
 onload="var d=this.contentDocument, w=d.defaultView, box=function(s){
     var r=d.querySelector(s).getBoundingClientRect(); return [r.left, r.right];},
   colour=function(s){return w.getComputedStyle(d.querySelector(s)).color;};
   document.getElementById('out').textContent=JSON.stringify({
     direction: w.getComputedStyle(d.documentElement).direction,
     width: d.documentElement.clientWidth, lang: d.documentElement.lang,
     h1: box('h1'), headline: box('.story h2'), image: box('.story img'),
     older: box('.paging a[rel=next]'),
     background: w.getComputedStyle(d.documentElement).backgroundColor,
     colours: ['h1', '.story h2 a', '.story .meta', '.story .lead', '.subscribe a',
               'header .meta a', '.paging a', 'footer a'].map(function(s){return [s, colour(s)];}),
     stories: d.querySelectorAll('article.story').length,
     lazy: d.querySelectorAll('article.story img[loading=lazy]').length,
     scripts: d.scripts.length});">
</iframe><pre id="out"></pre></body></html>"""
    return web.Response(text=page, content_type="text/html")


def _hex(css_colour: str) -> str:
    """``rgb(27, 27, 27)`` as ``#1b1b1b``."""
    channels = css_colour[css_colour.index("(") + 1:css_colour.index(")")].split(",")
    return "#" + "".join(f"{int(float(c)):02x}" for c in channels[:3])


@pytest.mark.slow
async def test_chromium_renders_a_topic_page_right_to_left_with_every_link_working(
        live: tuple[aiohttp.ClientSession, str], tmp_path: Path) -> None:
    http, base = live
    for name, size in (("topic-page.png", "1200,900"), ("topic-page-narrow.png", "420,900")):
        shot = tmp_path / name
        await run(*chromium_argv(tmp_path / f"profile-{shot.stem}", LOOPBACK_ONLY,
                                 f"--window-size={size}", f"--screenshot={shot}",
                                 f"{base}/topics/all"), cwd=tmp_path)
        assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000

    backgrounds = {}
    for scheme, preferred in (("light", 1), ("dark", 0)):
        probe = await run(*chromium_argv(tmp_path / f"profile-probe-{scheme}", LOOPBACK_ONLY,
                                         f"--blink-settings=preferredColorScheme={preferred}",
                                         "--virtual-time-budget=5000", "--dump-dom",
                                         f"{base}/_probe"), cwd=tmp_path)
        computed = orjson.loads(html.fromstring(probe).get_element_by_id("out").text_content())
        assert computed["direction"] == "rtl" and computed["lang"] == "ar"
        assert computed["stories"] == computed["lazy"] == 5 and computed["scripts"] == 0
        width = computed["width"]
        # right to left: the heading starts at the right edge, the image sits left of the
        # headline, and the link to older articles points on, to the left
        assert width - computed["h1"][1] < computed["h1"][0]
        assert computed["image"][1] <= computed["headline"][0]
        assert computed["older"][0] < width - computed["older"][1]
        backgrounds[scheme] = background = _hex(computed["background"])
        for selector, colour in computed["colours"]:
            ratio = contrast(_hex(colour), background)
            assert ratio >= AA_TEXT, f"{scheme}: {selector}: {colour} on {background}: {ratio:.2f}"
    # the browser did draw both schemes: a light page is far brighter than a dark one
    assert contrast(backgrounds["light"], backgrounds["dark"]) > 10

    dom = await run(*chromium_argv(tmp_path / "profile-dom", LOOPBACK_ONLY, "--dump-dom",
                                   f"{base}/topics/all"), cwd=tmp_path)
    document = html.fromstring(dom)
    assert (document.get("dir"), document.get("lang")) == ("rtl", "ar")
    hrefs = {e.get("href") for e in document.xpath("//a[@href] | //link[@href]")}
    articles = set(document.xpath("//article//h2/a/@href"))
    stored = {topic["slug"]: topic["count"] for topic in await topics(http, base)}["all"]
    assert len(articles) == min(stored, 50) > 20
    for href in sorted(hrefs):
        assert href.startswith("http://127.0.0.1:"), href
        response, body = await get(http, href)
        assert response.status == 200, href
    # images are not links: they live on the site's image host, out of this test's reach
    assert all(urlsplit(src).scheme == "https" for src in document.xpath("//img/@src"))
