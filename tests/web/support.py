"""Shared code of the web tests: fetching served feeds and checking them with real parsers."""

from __future__ import annotations

from typing import Any

import aiohttp
import feedparser
import orjson
from lxml import etree

from tests.render.checks import assert_clean_atom, assert_clean_json_feed

ATOM_NS = {"a": "http://www.w3.org/2005/Atom"}
PUBLIC = "http://feeds.test"  # server.public_url of settings_for()


async def get(http: aiohttp.ClientSession, url: str, **kwargs: Any
              ) -> tuple[aiohttp.ClientResponse, bytes]:
    async with http.get(url, **kwargs) as response:
        return response, await response.read()


async def get_json(http: aiohttp.ClientSession, url: str, **kwargs: Any) -> Any:
    response, body = await get(http, url, **kwargs)
    assert response.status == 200, body[:300]
    return orjson.loads(body)


async def topics(http: aiohttp.ClientSession, base: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = (await get_json(http, f"{base}/api/topics"))["topics"]
    return listed


def local(base: str, public_url: str) -> str:
    """The address of a public URL on the test server (public_url is not resolvable)."""
    assert public_url.startswith(PUBLIC + "/"), public_url
    return base + public_url.removeprefix(PUBLIC)


def check_feed(fmt: str, body: bytes) -> feedparser.FeedParserDict:
    """The structural validator or the schema, then feedparser: no errors, no bozo."""
    if fmt == "atom":
        assert_clean_atom(body)
    else:
        assert_clean_json_feed(body)
    if fmt == "atom":
        parsed = feedparser.parse(body)
        assert not parsed.bozo, parsed.get("bozo_exception")
        return parsed
    return feedparser.FeedParserDict(entries=orjson.loads(body)["items"])


def next_page(fmt: str, body: bytes) -> str | None:
    """The next page's public URL: JSON ``next_url`` or the Atom ``rel="next"`` link."""
    if fmt == "json":
        found: str | None = orjson.loads(body).get("next_url")
        return found
    links = etree.fromstring(body).findall("a:link[@rel='next']", ATOM_NS)
    return links[0].get("href") if links else None


def entry_ids(fmt: str, body: bytes) -> list[str]:
    if fmt == "json":
        return [item["id"] for item in orjson.loads(body)["items"]]
    return [e.text for e in etree.fromstring(body).findall("a:entry/a:id", ATOM_NS)]


def entry_titles(fmt: str, body: bytes) -> list[str]:
    if fmt == "json":
        return [item["title"] for item in orjson.loads(body)["items"]]
    return [e.text for e in etree.fromstring(body).findall("a:entry/a:title", ATOM_NS)]


async def walk(http: aiohttp.ClientSession, base: str, first_url: str, fmt: str,
               between: Any = None) -> list[bytes]:
    """Every page of a feed, following next links; ``between`` is awaited between pages."""
    pages, url, seen = [], first_url, set()
    while url is not None:
        assert url not in seen, f"paging loops back to {url}"
        seen.add(url)
        response, body = await get(http, url)
        assert response.status == 200, body[:300]
        pages.append(body)
        url = next_page(fmt, body)
        if url is not None:
            url = local(base, url)
            if between is not None:
                await between()
    return pages
