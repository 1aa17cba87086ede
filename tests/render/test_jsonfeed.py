from __future__ import annotations

from dataclasses import replace

import orjson
import pytest

from feedsvc.render import entry_id_for, render_json_feed

from .checks import assert_clean_json_feed, json_feed_errors
from .factory import PUBLIC_URL, make_article, make_meta, make_page


@pytest.mark.parametrize("count", [0, 1, 3, 50])
def test_rendered_feed_matches_the_schema(count: int) -> None:
    assert_clean_json_feed(render_json_feed(make_page(count)))


def test_feed_fields() -> None:
    meta = make_meta(
        hub="https://hub.example.org/", icon="https://x.org/i.png", favicon="https://x.org/f.png"
    )
    page = make_page(2, meta=meta, next_url=meta.json_url + "?before=1512001")
    feed = orjson.loads(render_json_feed(page))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == meta.title
    assert feed["home_page_url"] == meta.home_page_url
    assert feed["feed_url"] == meta.json_url
    assert feed["description"] == meta.description
    assert feed["language"] == "ar"
    assert feed["authors"] == [{"name": "RT Arabic"}]
    assert feed["icon"] == "https://x.org/i.png"
    assert feed["favicon"] == "https://x.org/f.png"
    assert feed["hubs"] == [{"type": "WebSub", "url": "https://hub.example.org/"}]
    assert feed["next_url"] == meta.json_url + "?before=1512001"
    assert len(feed["items"]) == 2


def test_optional_feed_fields_are_left_out() -> None:
    feed = orjson.loads(render_json_feed(make_page(0)))
    assert feed["items"] == []
    assert not {"hubs", "next_url", "icon", "favicon"} & feed.keys()


def test_item_fields() -> None:
    article = make_article(1, author="مراسل RT", aliases=("https://arabic.rt.com/old/1512001/",))
    item = orjson.loads(render_json_feed(make_page(0, articles=(article,))))["items"][0]
    assert item["id"] == entry_id_for(PUBLIC_URL, article.id)
    assert item["url"] == article.url
    assert item["title"] == article.title
    assert item["content_html"] == article.content_html
    assert item["content_text"] == article.content_text
    assert item["summary"] == article.summary
    assert item["image"] == article.image.url
    assert item["date_published"] == "2026-03-01T10:30:00+00:00"
    assert item["date_modified"] == "2026-03-01T10:40:00+00:00"
    assert item["tags"] == ["العالم", "روسيا", "الاقتصاد"]
    assert item["authors"] == [{"name": "مراسل RT"}]
    assert item["language"] == "ar"
    assert item["_feedsvc"] == {
        "article_id": "rt-arabic:1512001",
        "source": "rt-arabic",
        "section": "العالم",
        "credit": "نوفوستي",
        "image_caption": "صورة أرشيفية",
        "aliases": ["https://arabic.rt.com/old/1512001/"],
    }


def test_same_ids_as_atom_and_stable_across_edits() -> None:
    article = make_article(1)
    edited = replace(article, title="جديد", content_html="<div></div>", updated=article.published)
    ids = [
        orjson.loads(render_json_feed(make_page(0, articles=(version,))))["items"][0]["id"]
        for version in (article, edited)
    ]
    assert ids == ["tag:feeds.example.org,2026:feedsvc/article/rt-arabic:1512001"] * 2


def test_deterministic() -> None:
    assert render_json_feed(make_page(5)) == render_json_feed(make_page(5))


def test_schema_rejects_faults() -> None:
    bad = {
        "version": "https://jsonfeed.org/version/1",
        "items": [{"id": 1, "date_published": "yesterday", "titel": "x"}],
        "hubs": [{"url": "https://hub/"}],
    }
    errors = "\n".join(json_feed_errors(orjson.dumps(bad)))
    for fragment in (
        "'title' is a required",
        "version",
        "is not of type 'string'",
        "yesterday",
        "'titel' does not match any",
        "'type' is a required",
        "is not valid under any of the given schemas",
    ):
        assert fragment in errors, fragment
