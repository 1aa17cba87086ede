"""Charsets from the wire to text: the fetcher reports the header's label, article pages
are decoded by ``extract.decode_page`` (its order is tested in tests/extract), and
robots.txt is UTF-8 whatever the header says (RFC 9309)."""

from __future__ import annotations

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from feedsvc.errors import ExtractError, NotAllowed
from feedsvc.extract.decode import decode_page
from feedsvc.fetch import Fetcher
from tests.fetch.upstream import FakeClock, Upstream, make_policy, text

ARABIC = "موسكو تستضيف قمة"


def html(charset: str | None) -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    return f"<html><head>{meta}</head><body><p>{ARABIC}</p></body></html>"


def test_meta_charset_when_no_header() -> None:
    page = html("windows-1256")
    text, _ = decode_page(page.encode("cp1256"), None)
    assert ARABIC in text


def test_http_equiv_meta() -> None:
    page = f'<meta http-equiv="Content-Type" content="text/html; charset=windows-1256"><p>{ARABIC}</p>'
    text, _ = decode_page(page.encode("cp1256"), None)
    assert ARABIC in text


def test_latin1_server_default_does_not_garble_utf8() -> None:
    text, used = decode_page(html(None).encode(), "ISO-8859-1")
    assert ARABIC in text and used.startswith("utf-8")


def test_undeclared_legacy_arabic() -> None:
    text, _ = decode_page(html(None).encode("cp1256"), None)
    assert ARABIC in text


@given(st.binary(max_size=512), st.sampled_from([None, "utf-8", "ascii", "bogus", "utf-16"]))
def test_never_raises_anything_but_extract_error(body: bytes, label: str | None) -> None:
    try:
        decoded, used = decode_page(body, label)
    except ExtractError:
        return
    assert isinstance(decoded, str) and used


@pytest.mark.parametrize(
    "header", ["text/html; charset=windows-1256", 'text/html; charset="windows-1256"']
)
async def test_fetched_charset_reaches_the_decoder(
    upstream: Upstream, clock: FakeClock, header: str
) -> None:
    async def page(request: web.Request) -> web.StreamResponse:
        return web.Response(body=html(None).encode("cp1256"), headers={"Content-Type": header})

    upstream.route("/article/", page)
    async with Fetcher(make_policy(respect_robots=False), clock=clock, sleep=clock.sleep) as fetcher:
        result = await fetcher.get(upstream.url("/article/"))
    assert result.charset == "windows-1256"
    assert ARABIC in decode_page(result.body, result.charset)[0]


async def test_robots_txt_is_utf8_whatever_the_header_says(
    upstream: Upstream, clock: FakeClock
) -> None:
    robots = f"# {ARABIC}\nUser-agent: *\nDisallow: /private/\n".encode()
    async def served(request: web.Request) -> web.StreamResponse:
        return web.Response(body=robots, headers={"Content-Type": "text/plain; charset=utf-16"})

    upstream.route("/robots.txt", served)
    upstream.route("/private/page", text("secret"))
    async with Fetcher(make_policy(), clock=clock, sleep=clock.sleep) as fetcher:
        with pytest.raises(NotAllowed, match="disallowed by robots.txt"):
            await fetcher.get(upstream.url("/private/page"))
