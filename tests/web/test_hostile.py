"""Hostile article text stored in the app still gives valid served feeds."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import feedparser
import orjson

from feedsvc.models import Image
from tests.conftest import REPLICA_NOW
from tests.factories import T0, make_article
from tests.web.support import check_feed, entry_titles, get

HOSTILE = (
    "خبر\x00\x01\x08\x0b\x0c\x1b\x1f عاجل \x7f\x80\x9f",
    "نص\ud800 و\udfff منفرد",
    "نهاية ]]> وسط ]]]]><![CDATA[> نص",
    '<script>alert("x")</script><img src=x onerror=alert(1)> &amp; &#0; &bogus;',
    "\u202eتحذير\u202c \u2067معزول \u200f\u200e\u061c \ufffe\uffff",
    '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>&a;',
)


def hostile(n: int, text: str) -> Any:
    return replace(
        make_article(100 + n, published=REPLICA_NOW - timedelta(hours=n + 1)), title=text, summary=text, content_text=text, author=text, section=text,
        content_html=f'<div dir="rtl" lang="ar"><p>{text}</p></div>', tags=(text, "وسم"),
        image=Image(f"https://mf.b37mrtl.ru/media/pics/{n}.jpg", text), credit=text,
    )


async def test_hostile_articles_do_not_break_served_feeds(served: Any) -> None:
    service, http, base = await served()
    store = service.store
    for n, text in enumerate(HOSTILE):
        await store.save_article(hostile(n, text), {"gaza"}, now=T0)
    await service.feeds.invalidate({"gaza"})
    for slug in ("gaza", "all"):
        for fmt in ("atom", "json"):
            response, body = await get(http, f"{base}/feeds/{slug}.{fmt}?limit=200")
            assert response.status == 200
            parsed = check_feed(fmt, body)
            titles = entry_titles(fmt, body)
            assert len(parsed.entries) == len(titles) >= len(HOSTILE)
            assert b"\x00" not in body
            if fmt == "atom":  # text and escaped HTML only: no live markup in the XML
                assert b"<script" not in body
    _, atom = await get(http, f"{base}/feeds/gaza.atom?limit=200")
    titles = [e.title for e in feedparser.parse(atom).entries]
    assert any("alert" in t for t in titles), "markup in a title is text, escaped, not dropped"
    document = orjson.loads((await get(http, f"{base}/feeds/gaza.json?limit=200"))[1])
    assert all("\ud800" not in item["title"] for item in document["items"])
    for path in ("/", "/topics.opml", "/api/topics"):
        response, _ = await get(http, base + path)
        assert response.status == 200, path
