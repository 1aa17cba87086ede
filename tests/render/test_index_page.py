from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from feedsvc.render import anchor_for, render_index
from feedsvc.render.index_page import count_phrase

from .checks import parse_html
from .factory import PUBLIC_URL, make_topic

OPML_URL = f"{PUBLIC_URL}topics.opml"


def render(topics):
    return render_index(topics, site_title="RT Arabic حسب الموضوع", opml_url=OPML_URL)


def test_page_is_arabic_rtl_html5() -> None:
    document = render([make_topic()])
    assert document.startswith(b"<!DOCTYPE html>\n")
    page = parse_html(document)
    assert page.get("lang") == "ar"
    assert page.get("dir") == "rtl"
    assert page.xpath("//meta[@charset='utf-8']")
    assert page.xpath("//meta[@name='viewport']")
    assert "margin-inline" in page.findtext(".//style")


def test_autodiscovery_for_every_topic() -> None:
    topics = [make_topic("economy"), make_topic("sport", title="رياضة")]
    head = parse_html(render(topics)).find("head")
    for media_type, attribute in (
        ("application/atom+xml", "atom_url"),
        ("application/feed+json", "json_url"),
    ):
        found = head.xpath(f"link[@rel='alternate'][@type='{media_type}']")
        assert [link.get("href") for link in found] == [
            getattr(topic, attribute) for topic in topics
        ]
        assert all(link.get("title") for link in found)


def test_topic_entry() -> None:
    page_url = f"{PUBLIC_URL}topics/economy"
    page = parse_html(render([make_topic(count=12, page_url=page_url)]))
    section = page.get_element_by_id(anchor_for("economy"))
    text = section.text_content()
    assert "اقتصاد" in text
    assert "أخبار الاقتصاد والطاقة" in text
    assert "12 مقالة" in text
    assert "1 مارس 2026، 09:30 بتوقيت غرينتش" in text
    assert section.xpath(".//time/@datetime") == ["2026-03-01T09:30:00+00:00"]
    assert {link.get("href") for link in section.iter("a")} == {
        page_url,
        f"{PUBLIC_URL}topics/economy.atom",
        f"{PUBLIC_URL}topics/economy.json",
    }
    # the heading names the topic and links to its page
    assert [a.get("href") for a in section.xpath("h2/a")] == [page_url]
    assert section.findtext("h2/a/bdi") == "اقتصاد"
    assert page.xpath(f"//a[@href='{OPML_URL}']")


def test_topic_without_a_page_has_a_plain_heading() -> None:
    section = parse_html(render([make_topic()])).get_element_by_id(anchor_for("economy"))
    assert section.xpath("h2/a") == []
    assert section.findtext("h2/bdi") == "اقتصاد"


def test_topic_never_updated_and_no_topics() -> None:
    assert "لم يُحدَّث بعد" in parse_html(render([make_topic(updated=None, count=0)])).text_content()
    assert "لا توجد مواضيع" in parse_html(render([])).text_content()


def test_text_is_escaped() -> None:
    topic = make_topic(title="<script>alert(1)</script>", description='"&<b>')
    page = parse_html(render([topic]))
    assert page.xpath("//script") == []
    assert page.xpath("//b") == []
    assert "<script>alert(1)</script>" in page.text_content()


def test_deterministic() -> None:
    assert render([make_topic()]) == render([make_topic()])


@pytest.mark.parametrize(
    ("count", "phrase"),
    [
        (0, "لا مقالات"),
        (1, "مقالة واحدة"),
        (2, "مقالتان"),
        (3, "3 مقالات"),
        (10, "10 مقالات"),
        (11, "11 مقالة"),
        (100, "100 مقالة"),
        (103, "103 مقالات"),
    ],
)
def test_count_phrase(count: int, phrase: str) -> None:
    assert count_phrase(count) == phrase


def test_updated_is_shown_in_utc() -> None:
    moscow = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=3)))
    text = parse_html(render([make_topic(updated=moscow)])).text_content()
    assert "1 مارس 2026، 09:30 بتوقيت غرينتش" in text
    assert moscow.astimezone(UTC).hour == 9
