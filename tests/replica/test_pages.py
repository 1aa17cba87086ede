"""Article pages: every URL variant, both templates, switchable markup, the expected extraction."""

from __future__ import annotations

import json
import re
from urllib.parse import quote

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from feedsvc.replica import ReplicaSite
from tests.replica.conftest import LAVROV_ID, fetch


def _variants(site: ReplicaSite, article_id: int) -> list[str]:
    article = site.article(article_id)
    assert article is not None
    encoded = f"/{article.section}/{article.id}-{quote(article.slug)}"
    decoded = f"/{article.section}/{article.id}-{article.slug}"
    mirror = site.mirror_bases[0]
    return [
        site.base_url + encoded + "/",
        site.base_url + encoded,
        site.base_url + decoded + "/",
        site.base_url + decoded,
        site.base_url + encoded + "/?utm_source=rss&utm_medium=rss&utm_campaign=RSS",
        site.base_url + f"/{article.section}/{article.id}-old-slug/",
        mirror + encoded + "/",
    ]


async def test_every_url_variant_answers_with_the_same_page(base_url, http, site: ReplicaSite):
    bodies = set()
    for url in _variants(site, LAVROV_ID):
        status, body = await fetch(http, url)
        assert status == 200, url
        bodies.add(body)
    assert len(bodies) == 1


async def test_page_follows_the_markup_contract(base_url, http, site: ReplicaSite):
    truth = site.ground_truth(LAVROV_ID)
    page = HTMLParser((await fetch(http, truth["url"]))[1])
    assert page.css_first("div.article h1.heading").text() == truth["title"]
    assert page.css_first('meta[name="description"]').attributes["content"] == truth["summary"]
    assert page.css_first('link[rel="canonical"]').attributes["href"] == truth["url"]
    body = [p.text() for p in page.css("div.text.js-text.js-mediator-article > p")]
    assert body[-1] == 'المصدر: "نوفوستي"'
    assert "" in body, "the reference page keeps a stray empty paragraph"
    assert [" ".join(t.split()) for t in body[:-1] if t] == truth["body_text"]  # NBSP too
    tags = [a.text() for a in page.css("div.news-tags.news-tags_article a")]
    assert tags == ["الوسوم", *truth["tags"]]
    assert page.css_first("div.article__cover img").attributes["alt"] == truth["title"]
    assert page.css_first("div.time-public span.date").text() == "15.12.2015 | 21:34"
    jsonld = json.loads(page.css_first('script[type="application/ld+json"]').text())
    assert jsonld["@type"] == "NewsArticle" and jsonld["headline"] == truth["title"]
    chrome = page.body.text()
    assert "قصص" in chrome and "التعليقات" in chrome and page.css("aside.read-more a.heading")


async def test_truth_dates_are_utc(site: ReplicaSite):
    truth = site.ground_truth(LAVROV_ID)
    assert truth["published"] == "2015-12-15T18:34:00+00:00"
    assert truth["modified"] == "2015-12-15T19:10:00+00:00"
    assert truth["credit"] == "نوفوستي" and truth["section_name"] == "الشرق الأوسط"


@pytest.mark.parametrize(("jsonld", "opengraph"), [(False, True), (True, False), (False, False)])
async def test_markup_blocks_switch_off(base_url, http, site: ReplicaSite, jsonld, opengraph):
    site.set_markup(jsonld=jsonld, opengraph=opengraph)
    page = (await fetch(http, site.ground_truth(LAVROV_ID)["url"]))[1].decode()
    assert ("application/ld+json" in page) is jsonld
    assert ("og:title" in page) is opengraph
    assert (site.ground_truth(LAVROV_ID)["modified"] is None) is (not jsonld and not opengraph)


async def test_markup_switches_for_one_article(base_url, http, site: ReplicaSite):
    other = next(a.id for a in site.newest() if a.template == "article" and a.id != LAVROV_ID)
    site.set_markup(jsonld=False, opengraph=False, article_id=LAVROV_ID)
    lavrov = (await fetch(http, site.ground_truth(LAVROV_ID)["url"]))[1]
    rest = (await fetch(http, site.ground_truth(other)["url"]))[1]
    assert b"og:title" not in lavrov and b"og:title" in rest


async def test_legacy_template_has_no_blocks_and_another_body(base_url, http, site: ReplicaSite):
    legacy = next(a for a in site.newest() if a.template == "legacy")
    page = HTMLParser((await fetch(http, site.ground_truth(legacy.id)["url"]))[1])
    assert page.css_first('script[type="application/ld+json"]') is None
    assert page.css_first('meta[property="og:title"]') is None
    assert page.css_first("div.js-mediator-article") is None
    assert page.css("div.article__text > p")


async def test_named_author_is_shown_and_in_jsonld(base_url, http, site: ReplicaSite):
    authored = next(a for a in site.newest() if a.author and a.template == "article")
    page = HTMLParser((await fetch(http, site.ground_truth(authored.id)["url"]))[1])
    assert page.css_first("div.article__author").text() == authored.author
    jsonld = json.loads(page.css_first('script[type="application/ld+json"]').text())
    assert jsonld["author"] == {"@type": "Person", "name": authored.author}


async def test_truth_text_drops_tags_nbsp_and_empty_paragraphs(site: ReplicaSite):
    for article in site.newest():
        for text in site.ground_truth(article.id)["body_text"]:
            assert text and "<" not in text and "\u00a0" not in text
            assert not re.search(r"^المصدر:", text)


async def test_unknown_article_is_404(base_url, http):
    assert (await fetch(http, base_url + "/news/1-nothing/"))[0] == 404


async def test_page_answers_304_to_its_validators(base_url, http, site: ReplicaSite):
    url = site.ground_truth(LAVROV_ID)["url"]
    async with http.get(url) as first:
        etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert (await fetch(http, url, headers={"If-None-Match": etag}))[0] == 304
    assert (await fetch(http, url, headers={"If-Modified-Since": last_modified}))[0] == 304
