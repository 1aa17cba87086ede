"""The extraction steps and the small functions behind them, one behaviour per test."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from selectolax.lexbor import LexborHTMLParser

from feedsvc.errors import ConfigError, ExtractError
from feedsvc.extract import DEFAULT_SELECTORS, extract_article, selectors_from_mapping
from feedsvc.extract.credit import parse_credit, split_credit
from feedsvc.extract.dates import clamp, parse_machine, parse_visible
from feedsvc.extract.decode import decode_page

MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2025, 12, 31, 12, 0, tzinfo=UTC)
URL = "https://arabic.rt.com/news/781234-x/"
BODY = "<p>" + "نص الخبر الكامل. " * 10 + "</p>"


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(("raw", "expected"), [
    ("2015-12-15T21:34:00+03:00", _utc(2015, 12, 15, 18, 34)),
    ("2015-12-15T18:34:00Z", _utc(2015, 12, 15, 18, 34)),
    ("2015-12-15T21:34:00", _utc(2015, 12, 15, 18, 34)),  # naive: Moscow
    ("2015-12-15", _utc(2015, 12, 14, 21, 0)),
    ("Tue, 15 Dec 2015 18:34:00 +0000", _utc(2015, 12, 15, 18, 34)),
    ("Tue, 15 Dec 2015 21:34:00 +0300", _utc(2015, 12, 15, 18, 34)),
    ("Tue, 15 Dec 2015 18:34:00 GMT", _utc(2015, 12, 15, 18, 34)),
    ("Tue, 15 Dec 2015 21:34:00", _utc(2015, 12, 15, 18, 34)),  # no zone: Moscow
    ("٢٠١٥-١٢-١٥T21:34:00+03:00", _utc(2015, 12, 15, 18, 34)),
])
def test_machine_dates(raw: str, expected: datetime) -> None:
    assert parse_machine(raw, MSK) == expected


@pytest.mark.parametrize("raw", ["", "yesterday", "2015-13-45", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-23:59", "x" * 500])
def test_unreadable_dates_are_none(raw: str) -> None:
    assert parse_machine(raw, MSK) is None


@pytest.mark.parametrize("raw", ["15.12.2015 | 21:34", " 15.12.2015|21:34 ", "15.12.2015\u00a0|\u00a021:34", "١٥.١٢.٢٠١٥ | ٢١:٣٤"])
def test_visible_date(raw: str) -> None:
    assert parse_visible(raw, DEFAULT_SELECTORS.date_format, MSK) == _utc(2015, 12, 15, 18, 34)


def test_clamp_keeps_the_past_and_cuts_the_future() -> None:
    past = NOW - timedelta(days=1)
    assert clamp(past, NOW) == past
    assert clamp(NOW + timedelta(seconds=1), NOW) == NOW
    assert clamp(None, NOW) is None


@pytest.mark.parametrize(("line", "agency"), [
    ("المصدر: نوفوستي", "نوفوستي"),
    ('المصدر: "نوفوستي"', "نوفوستي"),
    ("المصدر : «نوفوستي».", "نوفوستي"),
    ("\u200fالمصدر:\u00a0 “رويترز”", "رويترز"),
    ("المصدر: RT + وكالات", "RT + وكالات"),
])
def test_credit_lines(line: str, agency: str) -> None:
    assert parse_credit(line) == agency


@pytest.mark.parametrize("line", ["قال المصدر: لا تعليق", "المصدر:", "المصدر: " + "كلام طويل " * 20, "نوفوستي"])
def test_not_credit_lines(line: str) -> None:
    assert parse_credit(line) is None


def test_credit_is_cut_from_the_last_paragraph_only() -> None:
    tree = LexborHTMLParser("<div><p>المصدر: تاس</p><p>نص</p><p><b>المصدر: نوفوستي</b></p><p>&nbsp;</p></div>")
    kept, credit = split_credit(tree.css("p"))
    assert credit == "نوفوستي"
    assert [p.text() for p in kept] == ["المصدر: تاس", "نص"]


def test_header_charset_wrong_falls_back_to_windows_1256() -> None:
    page = '<meta charset="utf-8"><h1>سوريا</h1>'.encode("cp1256")
    text, note = decode_page(page, "utf-8")
    assert "سوريا" in text
    assert note == "windows-1256 (utf-8 failed)"


@pytest.mark.parametrize(("page", "charset", "note"), [
    ("<p>سوريا</p>".encode("utf-8-sig"), None, "utf-8-sig (bom)"),
    ('<meta charset="windows-1256"><p>سوريا</p>'.encode("cp1256"), None, "windows-1256 (meta)"),
    ("<p>سوريا</p>".encode(), "bogus-charset", "utf-8"),
    ("<p>سوريا</p>".encode("utf-16"), None, "utf-16 (bom)"),
])
def test_decoding_order(page: bytes, charset: str | None, note: str) -> None:
    text, used = decode_page(page, charset)
    assert "سوريا" in text
    assert used == note


def test_utf16_without_bom_is_refused() -> None:
    with pytest.raises(ExtractError, match="not text in a known encoding"):
        decode_page(("<p>" + "سوريا " * 50 + "</p>").encode("utf-16-le"), None)


def _page(head: str = "", body: str = BODY) -> str:
    return f"<html><head>{head}</head><body><h1>عنوان</h1><div class='text js-text js-mediator-article'>{body}</div></body></html>"


def _ld(document: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(document, ensure_ascii=False)}</script>'


def test_jsonld_in_a_graph_with_a_broken_sibling_block() -> None:
    head = '<script type="application/ld+json">{broken</script>' + _ld({"@graph": [
        {"@type": "WebPage", "name": "صفحة"},
        {"@type": ["NewsArticle"], "headline": "عنوان الخبر", "keywords": "سوريا، روسيا,سوريا",
         "author": {"@type": "Organization", "name": "RT Arabic"}, "image": ["/a.jpg"]},
    ]})
    raw = extract_article(_page(head), URL, now=NOW)
    assert raw.title == "عنوان الخبر"
    assert raw.tags == ("سوريا", "روسيا")
    assert raw.author is None  # an organisation credits no person
    assert raw.image is not None and raw.image.url == "https://arabic.rt.com/a.jpg"
    assert dict(raw.provenance)["title"] == "jsonld"


def test_a_later_step_fills_only_what_is_missing() -> None:
    head = _ld({"@type": "NewsArticle", "headline": "من JSON-LD"}) + '<meta property="og:title" content="من OG"><meta property="og:description" content="ملخص">'
    raw = extract_article(_page(head), URL, now=NOW)
    assert (raw.title, raw.summary) == ("من JSON-LD", "ملخص")
    assert dict(raw.provenance)["summary"] == "meta"


def test_modified_is_never_before_published() -> None:
    head = _ld({"@type": "NewsArticle", "headline": "ع", "datePublished": "2015-12-15T21:34:00+03:00", "dateModified": "2015-12-14T10:00:00+03:00"})
    raw = extract_article(_page(head), URL, now=NOW)
    assert raw.modified == raw.published == _utc(2015, 12, 15, 18, 34)


def test_canonical_on_another_host_is_ignored() -> None:
    raw = extract_article(_page('<link rel="canonical" href="https://evil.example/x">'), URL, now=NOW)
    assert raw.url == URL


def test_naive_now_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="aware"):
        extract_article(_page(), URL, now=datetime(2025, 1, 1))  # noqa: DTZ001


def test_custom_selectors_replace_the_defaults() -> None:
    legacy = replace(DEFAULT_SELECTORS, body="div.article__text > p")
    page = f"<h1>عنوان</h1><div class='article__text'>{BODY}<p>المصدر: تاس</p></div>"
    raw = extract_article(page, URL, now=NOW, selectors=legacy)
    assert dict(raw.provenance)["body_html"] == "selectors"
    assert raw.credit == "تاس"


def test_selectors_from_config() -> None:
    assert selectors_from_mapping({"body": "div.x > p"}).body == "div.x > p"
    assert selectors_from_mapping({"section_names": {"news": "أخبار"}}).section_names == (("news", "أخبار"),)
    with pytest.raises(ConfigError, match="unknown key"):
        selectors_from_mapping({"bodyy": "p"})
    with pytest.raises(ConfigError, match="expected a string"):
        selectors_from_mapping({"body": 3})
    with pytest.raises(ConfigError, match="not a CSS selector"):
        selectors_from_mapping({"body": "div >>> p"})


@pytest.mark.parametrize(("page", "message"), [
    (b"", "empty page"),
    (b"\x00\x01\x02\x03" * 100, "not text in a known encoding"),
    (_page().replace("<h1>عنوان</h1>", "").encode(), "no title"),
    (_page(body="<p> </p><p>&nbsp;</p>").encode(), "no body text"),
])
def test_refusals_say_what_is_missing(page: bytes, message: str) -> None:
    with pytest.raises(ExtractError, match=message):
        extract_article(page, URL, now=NOW)
