from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import feedparser
import pytest

from feedsvc.errors import ConfigError
from feedsvc.render import entry_id_for, feed_id_for, render_atom

from .atom_validator import validate_atom
from .checks import assert_clean_atom, strict_xml
from .factory import EMPTY_UPDATED, PUBLIC_URL, make_article, make_meta, make_page

ATOM = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def links(element, rel: str) -> list[dict[str, str]]:
    return [dict(link.attrib) for link in element.findall(f"{ATOM}link") if link.get("rel") == rel]


@pytest.mark.parametrize("count", [0, 1, 3, 50])
def test_rendered_feed_is_valid(count: int) -> None:
    assert_clean_atom(render_atom(make_page(count)))


def test_feedparser_reads_every_field() -> None:
    page = make_page(3)
    parsed = feedparser.parse(render_atom(page))
    assert not parsed.bozo
    assert parsed.version == "atom10"
    assert parsed.feed.id == page.meta.feed_id
    assert parsed.feed.title == page.meta.title
    assert parsed.feed.language == "ar"
    assert len(parsed.entries) == 3
    for entry, article in zip(parsed.entries, page.articles, strict=True):
        assert entry.id == entry_id_for(PUBLIC_URL, article.id)
        assert entry.title == article.title
        assert entry.link == article.url
        assert entry.summary == article.summary
        assert entry.content[0].value == article.content_html
        assert entry.content[0].type == "text/html"
        assert datetime(*entry.published_parsed[:6], tzinfo=UTC) == article.published
        assert datetime(*entry.updated_parsed[:6], tzinfo=UTC) == article.updated
        assert [tag.term for tag in entry.tags] == ["العالم", "روسيا", "الاقتصاد"]
        assert entry.author == "RT Arabic"
        assert entry.enclosures[0].href == article.image.url


def test_deterministic() -> None:
    assert render_atom(make_page(5)) == render_atom(make_page(5))


def test_feed_updated_is_newest_entry_updated_whatever_the_order() -> None:
    newest = make_article(9, updated=datetime(2026, 5, 1, 12, tzinfo=UTC))
    page = replace(make_page(2), articles=(make_article(1), newest, make_article(2)))
    root = strict_xml(render_atom(page))
    assert root.findtext(f"{ATOM}updated") == "2026-05-01T12:00:00+00:00"


def test_empty_feed_uses_the_fixed_updated() -> None:
    root = strict_xml(render_atom(make_page(0)))
    assert root.findtext(f"{ATOM}updated") == EMPTY_UPDATED.isoformat()
    assert root.findall(f"{ATOM}entry") == []


def test_dates_are_utc_whole_seconds() -> None:
    moscow = timezone(timedelta(hours=3))
    eastern = datetime(2026, 3, 1, 15, 0, 0, 123456, tzinfo=moscow)
    page = replace(make_page(0), articles=(make_article(1, updated=eastern, published=eastern),))
    entry = strict_xml(render_atom(page)).find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}updated") == "2026-03-01T12:00:00+00:00"


def test_ids_come_from_the_configured_host_and_article_id_only() -> None:
    article = make_article(1)
    edited = replace(article, title="عنوان معدل", updated=article.updated + timedelta(days=1))
    moved = make_meta(public_url="http://FEEDS.example.org:8080/prefix/", self_url="http://x/y")
    first = strict_xml(render_atom(make_page(0, articles=(article,))))
    second = strict_xml(render_atom(make_page(0, meta=moved, articles=(edited,))))
    ids = [root.find(f"{ATOM}entry").findtext(f"{ATOM}id") for root in (first, second)]
    assert ids == ["tag:feeds.example.org,2026:feedsvc/article/rt-arabic:1512001"] * 2


def test_id_helpers() -> None:
    assert feed_id_for("https://feeds.example.org/", "economy") == (
        "tag:feeds.example.org,2026:feedsvc/topic/economy"
    )
    assert feed_id_for("https://مثال.example/", "اقتصاد") == (
        "tag:xn--mgbh0fb.example,2026:feedsvc/topic/%D8%A7%D9%82%D8%AA%D8%B5%D8%A7%D8%AF"
    )
    with pytest.raises(ConfigError):
        entry_id_for("/relative/only", "rt-arabic:1")


def test_feed_links_paging_and_hub() -> None:
    meta = make_meta(hub="https://hub.example.org/")
    page = make_page(
        2, meta=meta, first_url=meta.atom_url, next_url=meta.atom_url + "?before=1512001"
    )
    root = strict_xml(render_atom(page))
    assert links(root, "self") == [
        {"rel": "self", "type": "application/atom+xml", "href": meta.self_url}
    ]
    assert {link["type"] for link in links(root, "alternate")} == {
        "text/html",
        "application/feed+json",
    }
    assert [link["href"] for link in links(root, "hub")] == ["https://hub.example.org/"]
    assert [link["href"] for link in links(root, "first")] == [meta.atom_url]
    assert [link["href"] for link in links(root, "next")] == [meta.atom_url + "?before=1512001"]
    assert links(root, "prev-archive") == []
    assert root.find("{http://purl.org/syndication/history/1.0}archive") is None
    assert_clean_atom(render_atom(page))


def test_archive_document() -> None:
    meta = make_meta()
    page = make_page(
        2,
        meta=meta,
        current_url=meta.atom_url,
        prev_archive_url=meta.atom_url + "?archive=1",
        archive=True,
    )
    document = render_atom(page)
    root = strict_xml(document)
    assert root.find("{http://purl.org/syndication/history/1.0}archive") is not None
    assert [link["href"] for link in links(root, "current")] == [meta.atom_url]
    assert len(links(root, "prev-archive")) == 1
    assert_clean_atom(document)


def test_entry_links_language_and_author() -> None:
    article = make_article(1, author="مراسل RT", language="en")
    root = strict_xml(render_atom(make_page(0, articles=(article,))))
    assert root.get(XML_LANG) == "ar"
    entry = root.find(f"{ATOM}entry")
    assert entry.get(XML_LANG) == "en"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "مراسل RT"
    assert links(entry, "alternate") == [
        {"rel": "alternate", "type": "text/html", "href": article.url}
    ]
    assert links(entry, "enclosure") == [
        {
            "rel": "enclosure",
            "href": article.image.url,
            "type": "image/jpeg",
            "title": "صورة أرشيفية",
        }
    ]


def test_entry_without_title_summary_image_or_section() -> None:
    article = make_article(1, title="", summary="", image=None, section=None, tags=())
    document = render_atom(make_page(0, articles=(article,)))
    entry = strict_xml(document).find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "نص الخبر رقم 1 & تفاصيله."
    assert entry.findtext(f"{ATOM}summary") == "نص الخبر رقم 1 & تفاصيله."
    assert links(entry, "enclosure") == []
    assert entry.findall(f"{ATOM}category") == []
    assert_clean_atom(document)


def test_validator_finds_faults() -> None:
    broken = b"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>t</title><updated>2026-01-01 00:00</updated>
  <link rel="alternate" type="text/html" href="http://a/"/>
  <link rel="alternate" type="text/html" href="http://b/"/>
  <entry><id>not an iri</id><title type="html"><b>x</b></title>
    <updated>2026-01-01T00:00:00Z</updated><bogus/></entry>
</feed>"""
    report = validate_atom(broken)
    expected = [
        "feed: 0 atom:id",
        "no xml:lang",
        "no link rel=self",
        "2026-01-01 00:00",
        "2 alternate links",
        "not an IRI",
        "markup must be escaped",
        "atom:bogus is not allowed",
        "no atom:author",
        "neither atom:content nor an alternate link",
    ]
    for fragment in expected:
        assert any(fragment in error for error in report.errors), fragment
    assert validate_atom(b"<feed").errors


def test_another_domain_mints_other_ids() -> None:
    """Documented trade-off: ids carry the public host, so a domain move is a migration."""
    assert entry_id_for("https://feeds.example.org/", "rt-arabic:1") != entry_id_for(
        "https://news.example.net/", "rt-arabic:1"
    )
