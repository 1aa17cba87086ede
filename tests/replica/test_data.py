"""The article data the replica serves is rich enough for the tests that lean on it."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedsvc.replica import DEFAULT_DATA, ReplicaSite
from feedsvc.replica.articles import load_articles, paragraph_text
from feedsvc.replica.faults import FaultPlan
from tests.replica.conftest import fetch

INLINE_LINK = re.compile(r'<a href="/[a-z_]+/(\d+)-[^"]*"')


def test_sixty_articles_over_six_sections():
    _, section_names, articles = load_articles(DEFAULT_DATA)
    sections = Counter(article.section for article in articles.values())
    assert len(articles) >= 60, f"only {len(articles)} articles so far"
    assert len(sections) >= 6 and set(sections) <= set(section_names)


def test_the_data_has_every_kind_of_page():
    _, _, articles = load_articles(DEFAULT_DATA)
    pages = list(articles.values())
    assert any(a.template == "legacy" for a in pages)
    assert any(a.author for a in pages)
    assert any(a.credit_quoted for a in pages)
    assert any(a.held for a in pages)
    assert {"sport", "business"} <= {a.section for a in pages}


async def test_inline_links_reach_articles_of_the_set(base_url, http, site: ReplicaSite):
    for article in site.newest():
        for paragraph in article.paragraphs:
            for linked_id in INLINE_LINK.findall(paragraph):
                assert int(linked_id) in site.known_ids(), (article.id, linked_id)
                if site.article(int(linked_id)):
                    url = f"{base_url}/news/{linked_id}-x/"
                    assert (await fetch(http, url))[0] == 200


@given(st.text())
def test_paragraph_text_has_no_nbsp_and_single_spaces(paragraph):
    text = paragraph_text(paragraph)
    assert "\u00a0" not in text and text == text.strip() and "  " not in text


@given(st.text(alphabet=st.characters(blacklist_characters="<&")))
def test_paragraph_text_keeps_plain_words(words):
    assert paragraph_text(words) == " ".join(words.replace("\u00a0", " ").split())


@given(st.integers(min_value=1, max_value=20), st.integers(min_value=0, max_value=30))
def test_a_fault_spoils_exactly_times_answers(times, requests):
    plan = FaultPlan()
    plan.arm("status", "/rss/*", times)
    spoiled = 0
    for _ in range(requests):
        fault = plan.match("/rss/sport/")
        if fault:
            plan.spend(fault)
            spoiled += 1
    assert spoiled == min(times, requests)
    assert plan.match("/sport/1-x/") is None


@pytest.mark.parametrize("month", ["1999-01"])
async def test_empty_sitemap_month_is_404(base_url, http, month):
    assert (await fetch(http, f"{base_url}/sitemap/{month}.xml"))[0] == 404
