"""Whatever the bytes, extraction either returns a RawArticle or raises ExtractError."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedsvc.errors import ExtractError
from feedsvc.extract import extract_article
from feedsvc.models import RawArticle

NOW = datetime(2025, 12, 31, 12, 0, tzinfo=UTC)
URL = "https://arabic.rt.com/news/781234-x/"
SAMPLE = (Path(__file__).parent / "handmade" / "all-blocks.html").read_bytes()
CHARSETS = st.sampled_from([None, "utf-8", "windows-1256", "utf-16", "latin-1", "rot13", "base64", "no-such-codec", "", "utf\x00", "unicode_escape", "utf-7"])
TOKENS = st.sampled_from([
    b"<script type=\"application/ld+json\">", b"</script>", b"{\"@type\": \"NewsArticle\", \"headline\": ",
    b"\"datePublished\": \"9999-12-31T23:59:59-23:59\"", b"[[[[[[[[[[", b"<h1>", b"</h1>", b"<p>", b"</p>",
    b"<meta property=\"og:title\" content=\"", b"<meta charset=\"utf-16\">", b"<title>", b"\xff\xfe",
    b"\xef\xbb\xbf", b"<div class=\"text js-text js-mediator-article\">", b"\xd8\xa7\xd9\x84\xd9\x85\xd8\xb5\xd8\xaf\xd8\xb1: ",
    b"<span class=\"date\">31.02.2015 | 25:61</span>", b"<div class=\"news-tags news-tags_article\"><a href=\"http://[::1\">",
    b"<link rel=\"canonical\" href=\"http://[x\">", b"<div class=\"article__cover\"><img src=\"//[::1]:99999/x\">", b"<time datetime=\"0001-01-01T00:00:00+14:00\">", b"\x00",
])


def _check(page: bytes | str, charset: str | None = None) -> None:
    try:
        raw = extract_article(page, URL, now=NOW, charset=charset)
    except ExtractError:
        return
    assert isinstance(raw, RawArticle)
    assert raw.title and raw.body_html
    for moment in (raw.published, raw.modified):
        assert moment is None or (moment.utcoffset() is not None and moment <= NOW)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096), CHARSETS)
def test_arbitrary_bytes_raise_only_extract_error(page: bytes, charset: str | None) -> None:
    _check(page, charset)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=2048))
def test_arbitrary_text_raises_only_extract_error(page: str) -> None:
    _check(page)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(TOKENS, st.binary(max_size=16)), max_size=40), CHARSETS)
def test_page_like_bytes_raise_only_extract_error(parts: list[bytes], charset: str | None) -> None:
    _check(b"".join(parts), charset)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, len(SAMPLE)), st.integers(0, len(SAMPLE)), st.binary(max_size=64))
def test_damaged_real_page_raises_only_extract_error(start: int, length: int, splice: bytes) -> None:
    """A saved page cut short or with bytes replaced, as a truncated download would be."""
    _check(SAMPLE[:start] + splice + SAMPLE[start + length :], "utf-8")
