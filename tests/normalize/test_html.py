"""Article HTML cleaning: what is kept, what is dropped, and properties that must always hold."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from feedsvc.normalize.html import ALLOWED_TAGS, clean_body, clean_text

BASE = "https://arabic.rt.com/middle_east/781234-x/"
WRAP_OPEN, WRAP_CLOSE = '<div dir="rtl" lang="ar">', "</div>"
VOID = frozenset({"br", "img"})
HOSTILE = re.compile(r"<\s*(script|style|iframe)|\son[a-z]+\s*=|=\"\s*javascript:", re.IGNORECASE)
XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
INVISIBLE = re.compile("[\u00a0\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def _inner(html: str) -> str:
    assert html.startswith(WRAP_OPEN) and html.endswith(WRAP_CLOSE)
    return html[len(WRAP_OPEN) : -len(WRAP_CLOSE)]


@pytest.mark.parametrize(("body", "expected"), [
    ("<p>نص&nbsp;&nbsp;\u00a0 عربي</p>", "<p>نص عربي</p>"),
    ("<p>أ</p><p>&nbsp;</p><p> </p><p>\u200f</p><p>ب</p>", "<p>أ</p><p>ب</p>"),
    ('<p><a href="/news/1-x/">خبر</a></p>', '<p><a href="https://arabic.rt.com/news/1-x/">خبر</a></p>'),
    ('<p><img src="pic.jpg" alt="صورة"></p>', '<p><img src="https://arabic.rt.com/middle_east/781234-x/pic.jpg" alt="صورة"></p>'),
    ('<p><a href="//mf.b37mrtl.ru/x.jpg">صورة</a></p>', '<p><a href="https://mf.b37mrtl.ru/x.jpg">صورة</a></p>'),
    ('<p><a href="mailto:a@b.c">بريد</a></p>', '<p><a href="mailto:a@b.c">بريد</a></p>'),
    ('<blockquote cite="/q"><p lang="en" dir="ltr">quote</p></blockquote>',
     '<blockquote cite="https://arabic.rt.com/q"><p lang="en" dir="ltr">quote</p></blockquote>'),
    ("<ul><li>أ</li><li></li></ul><figure><img src='/i.jpg'><figcaption>و</figcaption></figure>",
     '<ul><li>أ</li></ul><figure><img src="https://arabic.rt.com/i.jpg"><figcaption>و</figcaption></figure>'),
    ("<div class='x' style='color:red'><p><em>م</em> <strong>ق</strong></p></div>", "<p><em>م</em> <strong>ق</strong></p>"),
    ('<p dir="sideways" lang="not a tag">س</p>', "<p>س</p>"),
])
def test_kept_and_tidied(body: str, expected: str) -> None:
    assert _inner(clean_body(body, BASE).html) == expected


def test_hostile_markup_is_dropped() -> None:
    body = (
        '<p>أ<script>alert(1)</script><style>p{}</style><iframe src="https://evil.example/">x</iframe>'
        '<b onclick="steal()">ب</b><a href="javascript:alert(1)">ج</a><a href=" JaVa&#x09;ScRipt:x">د</a>'
        '<img src="data:image/png;base64,AAAA" onerror="x()"><svg><script>x</script></svg>\x01\x0b]]>\ud800</p>'
    )
    content = clean_body(body, BASE)
    assert _inner(content.html) == "<p>أ<b>ب</b><a>ج</a><a>د</a>]]&gt;</p>"
    assert content.text == "أبجد]]>"


def test_text_has_one_paragraph_per_block() -> None:
    body = "<p>أول<br>سطر</p>نص حر<ul><li>بند</li></ul><blockquote><p>اقتباس</p></blockquote>"
    assert clean_body(body, BASE).text == "أول سطر\n\nنص حر\n\nبند\n\nاقتباس"


def test_own_wrapper_is_not_nested() -> None:
    once = clean_body("<p>نص</p>", BASE)
    assert clean_body(once.html, BASE) == once
    assert once.html == WRAP_OPEN + "<p>نص</p>" + WRAP_CLOSE


@pytest.mark.parametrize(("raw", "expected"), [
    ("  عنوان\u00a0\u00a0الخبر \n", "عنوان الخبر"),
    ("\u200fسوريا\u200e و\u200bروسيا\ufeff", "سوريا وروسيا"),
    ("a\x00b\x1fc\ud800d\ufffee", "abcde"),
    ("\u202bنص\u202c", "نص"),
])
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


# --- properties -----------------------------------------------------------------

HTMLISH = st.lists(
    st.one_of(
        st.sampled_from([
            "<p>", "</p>", "<p dir='ltr' lang='en'>", "<a href='javascript:alert(1)'>", '<a href="/x?a=1&b=2">', "</a>",
            "<script>", "</script>", "<style>", "</style>", "<img src=x onerror=alert(1)>", "<img src='/i.jpg'>",
            "<iframe src=//e>", "<b onclick=x>", "</b>", "<ul>", "<li>", "</li>", "</ul>", "<br>", "<!--", "-->",
            "<blockquote cite='/q'>", "</blockquote>", "<svg><script>", "<div>", "</div>", WRAP_OPEN, WRAP_CLOSE,
            "&nbsp;", "&#0;", "&#x1;", "&#x200b;", "&#xd800;", "&amp;", "&lt;", "]]>", "<![CDATA[", "\u200f", "\x01",
            "\ufffe", " ", "\n", "<span lang=ar>", "</span>", "<em>", "</em>", "<figure>", "<figcaption>",
            "<a href=' java\tscript:x'>", "<a href='http://[::1'>", "<table><tr><td>", "<textarea>",
        ]),
        st.text(max_size=6),
    ),
    max_size=30,
).map("".join)
BODIES = st.one_of(HTMLISH, st.text(max_size=200))


class _Balance(HTMLParser):
    """Start and end tags must pair up in order; void elements stand alone."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag in ALLOWED_TAGS | {"div"}, tag
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, tag


def _as_xhtml(html: str) -> str:
    return re.sub(r"<(br|img)((?:\s+[a-z-]+=\"[^\"]*\")*)>", r"<\1\2/>", html)


@settings(max_examples=300, deadline=None)
@given(BODIES)
def test_clean_body_is_idempotent(body: str) -> None:
    once = clean_body(body, BASE)
    assert clean_body(once.html, BASE) == once


@settings(max_examples=300, deadline=None)
@given(BODIES)
def test_clean_body_is_safe_and_well_formed(body: str) -> None:
    html = clean_body(body, BASE).html
    assert not HOSTILE.search(html)
    assert not XML_INVALID.search(html)
    assert not INVISIBLE.search(html)
    checker = _Balance()
    checker.feed(html)
    checker.close()
    assert checker.open == []
    etree.fromstring(f"<root>{_as_xhtml(html)}</root>")  # XHTML as Atom type="xhtml" would carry it


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_clean_text_is_idempotent_and_clean(raw: str) -> None:
    once = clean_text(raw)
    assert clean_text(once) == once
    assert not XML_INVALID.search(once)
    assert not INVISIBLE.search(once)
    assert once == once.strip() and "  " not in once
