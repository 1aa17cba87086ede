"""Hostile text in every field still gives well-formed, valid documents."""

from __future__ import annotations

from dataclasses import replace

import feedparser
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedsvc.models import Image
from feedsvc.render import render_atom, render_index, render_json_feed, render_opml

from .checks import assert_clean_atom, assert_clean_json_feed, parse_html, strict_xml
from .factory import PUBLIC_URL, T0, make_article, make_meta, make_page, make_topic

HOSTILE = {
    "empty": "",
    "blank": " \n\t ",
    "c0 controls": "خبر\x00\x01\x08\x0b\x0c\x1b\x1f عاجل",
    "c1 and del": "خبر\x7f\x80\x9f",
    "lone surrogates": "نص\ud800 و\udfff",
    "split pair": "\ud83d\ude00 وجه",
    "cdata end": "a ]]> b ]]]]><![CDATA[>",
    "markup": '<script>alert("x")</script><img src=x onerror=alert(1)> & &amp; &#0; &bogus;',
    "bidi overrides": "\u202eتحذير\u202c \u2067معزول \u200f\u200e\u061c",
    "noncharacters": "\ufffe\uffff\U0010ffff\ufdd0",
    "xml declaration": '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>&a;',
    "very long": "نص طويل جداً " * 20000,
    "only invalid": "\x00\ud800\x1f",
}

any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=60)


def hostile_article(text: str, number: int = 1):
    return make_article(
        number,
        title=text,
        summary=text,
        content_html=f'<div dir="rtl" lang="ar">{text}</div>',
        content_text=text,
        author=text,
        section=text,
        tags=(text, text, "وسم", ""),
        image=Image("https://cdn.rt.com/images/1.jpg", text),
        credit=text,
        aliases=(text,),
        language=text or "ar",
    )


def hostile_meta(text: str):
    return make_meta(title=text, description=text, author_name=text)


def assert_every_document_is_clean(text: str) -> None:
    page = make_page(0, meta=hostile_meta(text), articles=(hostile_article(text), make_article(2)))
    atom = render_atom(page)
    assert_clean_atom(atom)
    assert_clean_json_feed(render_json_feed(page))
    topic = make_topic(title=text, description=text, slug=text or "x")
    strict_xml(render_opml([topic], title=text, owner_url=PUBLIC_URL, date_created=T0))
    index = parse_html(render_index([topic], site_title=text, opml_url=PUBLIC_URL + "topics.opml"))
    assert index.get("dir") == "rtl"
    assert index.xpath("//script") == []


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_corpus(text: str) -> None:
    assert_every_document_is_clean(text)


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_feedparser_accepts_hostile_feeds(text: str) -> None:
    page = make_page(0, articles=(hostile_article(text), make_article(2)))
    parsed = feedparser.parse(render_atom(page))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert len(parsed.entries) == 2
    assert parsed.entries[0].title  # never empty: falls back to a placeholder
    assert parsed.entries[0].link == page.articles[0].url


def test_markup_in_plain_text_stays_text() -> None:
    page = make_page(0, articles=(replace(make_article(1), title="<b>عريض</b> & ]]>"),))
    entry = feedparser.parse(render_atom(page)).entries[0]
    assert entry.title == "<b>عريض</b> & ]]>"
    assert entry.title_detail.type == "text/plain"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=any_text)
def test_any_text_in_every_field(text: str) -> None:
    assert_every_document_is_clean(text)
