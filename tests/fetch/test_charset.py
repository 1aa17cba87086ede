"""decode_text: BOM, header, document declaration, and fallbacks for wrong labels."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedsvc.fetch import Fetcher, decode_text
from tests.fetch.upstream import FakeClock, Upstream, make_policy

ARABIC = "موسكو تستضيف قمة"


def html(charset: str | None) -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    return f"<html><head>{meta}</head><body><p>{ARABIC}</p></body></html>"


def test_header_charset() -> None:
    assert decode_text(html(None).encode("cp1256"), "windows-1256") == (html(None), "cp1256")


def test_bom_beats_the_header() -> None:
    body = codecs.BOM_UTF8 + html(None).encode()
    assert decode_text(body, "windows-1256") == (html(None), "utf-8")


def test_utf16_bom() -> None:
    body = codecs.BOM_UTF16_LE + html(None).encode("utf-16-le")
    assert decode_text(body, None) == (html(None), "utf-16-le")


def test_meta_charset_when_no_header() -> None:
    page = html("windows-1256")
    assert decode_text(page.encode("cp1256"), None) == (page, "cp1256")


def test_http_equiv_meta() -> None:
    page = (
        f'<meta http-equiv="Content-Type" content="text/html; charset=windows-1256"><p>{ARABIC}</p>'
    )
    assert decode_text(page.encode("cp1256"), None) == (page, "cp1256")


def test_xml_declaration() -> None:
    feed = f'<?xml version="1.0" encoding="windows-1256"?><rss><title>{ARABIC}</title></rss>'
    assert decode_text(feed.encode("cp1256"), None) == (feed, "cp1256")


def test_wrong_header_falls_back_to_meta() -> None:
    page = html("windows-1256")
    assert decode_text(page.encode("cp1256"), "utf-8") == (page, "cp1256")


def test_unknown_header_label_is_ignored() -> None:
    assert decode_text(html(None).encode(), "x-no-such-charset") == (html(None), "utf-8")


def test_latin1_server_default_does_not_garble_utf8() -> None:
    assert decode_text(html(None).encode(), "ISO-8859-1") == (html(None), "utf-8")


def test_real_latin1_still_decodes() -> None:
    assert decode_text("café".encode("latin-1"), "iso-8859-1") == ("café", "cp1252")


def test_undeclared_legacy_arabic() -> None:
    assert decode_text(html(None).encode("cp1256"), None) == (html(None), "cp1256")


@given(st.binary(max_size=512), st.sampled_from([None, "utf-8", "ascii", "bogus", "utf-16"]))
def test_never_raises(body: bytes, label: str | None) -> None:
    decoded, used = decode_text(body, label)
    assert isinstance(decoded, str) and codecs.lookup(used)


@pytest.mark.parametrize(
    "header", ["text/html; charset=windows-1256", 'text/html; charset="windows-1256"']
)
async def test_fetched_charset_feeds_decode_text(
    upstream: Upstream, clock: FakeClock, header: str
) -> None:
    from aiohttp import web

    async def page(request: web.Request) -> web.StreamResponse:
        return web.Response(body=html(None).encode("cp1256"), headers={"Content-Type": header})

    upstream.route("/article/", page)
    async with Fetcher(make_policy(robots=False), clock=clock, sleep=clock.sleep) as fetcher:
        result = await fetcher.get(upstream.url("/article/"))
    assert result.charset == "windows-1256"
    assert decode_text(result.body, result.charset) == (html(None), "cp1256")
