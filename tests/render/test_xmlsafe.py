from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from feedsvc.render.xmlsafe import is_xml_safe, xml_line, xml_text

# Every code point, surrogates and controls included.
any_text = st.text(st.characters(codec=None, exclude_categories=()))


def test_keeps_arabic_and_allowed_whitespace() -> None:
    text = "تقرير:\tالنفط\nيرتفع\r\n٪٣ — 😀 \u200f"
    assert xml_text(text) == text


def test_drops_controls_and_lone_surrogates() -> None:
    assert xml_text("a\x00b\x1bc\ud800d\udfffe\x7f\x9f") == "abcde"


def test_joins_split_surrogate_pairs() -> None:
    assert xml_text("\ud83d\ude00") == "😀"


def test_drops_noncharacters() -> None:
    assert xml_text("a\ufffeb\uffffc\U0010ffff\ufdd0") == "abc"


def test_line_collapses_whitespace() -> None:
    assert xml_line("  عنوان\n\n  طويل\t ") == "عنوان طويل"


@given(any_text)
def test_result_is_accepted_by_lxml_and_orjson(text: str) -> None:
    cleaned = xml_text(text)
    element = etree.Element("t")
    element.text = cleaned
    assert etree.fromstring(etree.tostring(element, encoding="UTF-8")).text in (cleaned, None)
    assert orjson.loads(orjson.dumps(cleaned)) == cleaned


@given(any_text)
def test_idempotent(text: str) -> None:
    assert is_xml_safe(xml_text(text))
    assert is_xml_safe(xml_line(text))
