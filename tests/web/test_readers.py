"""Real readers read what feedsvc serves: newsboat through the OPML list, chromium the index.

Both peers are installed by tests/peers/install.sh (run by `make test`); a missing
peer fails these tests, it never skips them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import feedparser
import orjson
import pytest
from aiohttp import web
from lxml import etree, html

from feedsvc.service import open_service
from feedsvc.web.app import create_app
from tests.conftest import Clock
from tests.render.checks import assert_clean_atom, assert_clean_json_feed
from tests.web.conftest import Polled, web_settings
from tests.web.support import get, topics

pytestmark = pytest.mark.slow
PEER_TIMEOUT = 60.0


def peer(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is not installed: run tests/peers/install.sh (make test does)"
    return found


async def run(*argv: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> bytes:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=cwd)
    try:
        out, err = await asyncio.wait_for(process.communicate(), PEER_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"{argv[0]} did not finish within {PEER_TIMEOUT}s") from None
    assert process.returncode == 0, f"{argv} exited {process.returncode}: {err.decode()[-2000:]}"
    return out


@pytest.fixture
async def public(polled: Polled, tmp_path: Path, unused_tcp_port: int
                 ) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    """feedsvc on the polled data whose public URL is its own loopback address,
    so the links in what it serves work for a reader on this machine."""
    base = f"http://127.0.0.1:{unused_tcp_port}"
    data = tmp_path / "data"
    data.mkdir()
    polled.copy_to(data)
    settings = web_settings("http://127.0.0.1:9", data, public_url=base)
    async with open_service(settings, clock=Clock(), scheduling=False) as service:
        app = create_app(service)
        app.router.add_get("/_probe", _probe_page)  # test-only, same origin as the index
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", unused_tcp_port).start()
        try:
            async with aiohttp.ClientSession() as http:
                yield http, base
        finally:
            await runner.cleanup()


async def test_newsboat_imports_the_opml_and_reads_every_entry_of_every_topic(
        public: tuple[aiohttp.ClientSession, str], tmp_path: Path) -> None:
    newsboat = peer("newsboat")
    http, base = public
    home = tmp_path / "home"
    home.mkdir()
    _, opml = await get(http, f"{base}/topics.opml")
    (home / "topics.opml").write_bytes(opml)
    (home / "config").write_text("reload-threads 4\nmax-items 0\n", encoding="utf-8")
    env = {"HOME": str(home), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "LANG": "C.UTF-8", "XDG_CONFIG_HOME": str(home), "XDG_DATA_HOME": str(home)}
    files = ["-u", str(home / "urls"), "-c", str(home / "cache.db"), "-C", str(home / "config")]
    await run(newsboat, *files, "-i", str(home / "topics.opml"), env=env, cwd=home)
    listed = await topics(http, base)
    urls = (home / "urls").read_text(encoding="utf-8").split()
    assert sorted(u for u in urls if u.startswith("http")) == sorted(t["feeds"]["atom"] for t in listed)
    await run(newsboat, *files, "-x", "reload", env=env, cwd=home)

    with sqlite3.connect(home / "cache.db") as cache:
        # newsboat keys items by guid across feeds: an article in two topics is one row
        read = dict(cache.execute("SELECT guid, title FROM rss_item").fetchall())
        feed_titles = dict(cache.execute("SELECT rssurl, title FROM rss_feed").fetchall())
    served: dict[str, str] = {}
    for topic in listed:
        url = topic["feeds"]["atom"]
        _, body = await get(http, url)
        entries = feedparser.parse(body).entries
        assert len(entries) == min(topic["count"], 50)
        served.update((entry.id, entry.title) for entry in entries)
        assert feed_titles[url] == topic["title"], topic["slug"]
    assert read == served


async def _probe_page(request: web.Request) -> web.Response:
    """Loads the index in a same-origin frame and writes what the browser computed."""
    page = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<iframe id="index" src="/" style="width:1200px;height:900px"
 onload="var d=this.contentDocument, h=d.querySelector('h1'), r=h.getBoundingClientRect(),
   a=d.querySelector('.subscribe a').getBoundingClientRect();
   document.getElementById('out').textContent=JSON.stringify({
     direction: getComputedStyle(d.documentElement).direction,
     h1_direction: getComputedStyle(h).direction, h1_left: r.left, h1_right: r.right,
     link_left: a.left, link_right: a.right, width: d.documentElement.clientWidth,
     lang: d.documentElement.lang, sections: d.querySelectorAll('section.topic').length});">
</iframe><pre id="out"></pre></body></html>"""
    return web.Response(text=page, content_type="text/html")


def chromium_argv(profile: Path, *extra: str) -> list[str]:
    return [peer("chromium"), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
            "--window-size=1200,900", *extra]


async def test_chromium_renders_the_index_right_to_left_with_working_subscribe_links(
        public: tuple[aiohttp.ClientSession, str], tmp_path: Path) -> None:
    http, base = public
    listed = await topics(http, base)
    shot = tmp_path / "index.png"
    await run(*chromium_argv(tmp_path / "profile-shot", f"--screenshot={shot}", f"{base}/"),
              cwd=tmp_path)
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000

    probe = await run(*chromium_argv(tmp_path / "profile-probe", "--virtual-time-budget=5000",
                                     "--dump-dom", f"{base}/_probe"), cwd=tmp_path)
    computed = orjson.loads(html.fromstring(probe).get_element_by_id("out").text_content())
    assert computed["direction"] == computed["h1_direction"] == "rtl"
    assert computed["lang"] == "ar" and computed["sections"] == len(listed)
    # right to left: the heading and the first subscribe link start at the right edge
    assert computed["width"] - computed["h1_right"] < computed["h1_left"]
    assert computed["width"] - computed["link_right"] < computed["link_left"]

    dom = await run(*chromium_argv(tmp_path / "profile-dom", "--dump-dom", f"{base}/"),
                    cwd=tmp_path)
    document = html.fromstring(dom)
    assert document.get("dir") == "rtl" and document.get("lang") == "ar"
    hrefs = {element.get("href") for element in document.xpath("//a[@href] | //link[@href]")}
    # its page, Atom and JSON per topic, and the OPML list
    assert len(hrefs) == 3 * len(listed) + 1
    for href in sorted(hrefs):
        assert href.startswith(base + "/"), href
        response, body = await get(http, href)
        assert response.status == 200, href
        if href.endswith(".atom"):
            assert_clean_atom(body)
            assert not feedparser.parse(body).bozo
        elif href.endswith(".json"):
            assert_clean_json_feed(body)
        elif "/topics/" in href:
            assert response.content_type == "text/html"
        else:
            assert etree.fromstring(body).tag == "opml"
