"""The compiled matcher: clitics, phrases, fields, filters, explain, and index = scan."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsvc.errors import TopicConfigError
from feedsvc.topics import Topic, compile_topics
from tests.topics.topic_articles import make_article


def topic(slug: str, query: str, **options: object) -> Topic:
    return Topic(slug, slug, slug, query, **options)  # type: ignore[arg-type]


def matches(query: str, title: str, body: str = "", **article: object) -> bool:
    index = compile_topics([topic("t", query)])
    return "t" in index.match(make_article(title, body, **article))  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["لافروف", "للافروف", "ولافروف", "بلافروف", "فلافروف", "لافروف:"])
def test_lavrov_with_clitics(text: str) -> None:
    assert matches("لافروف", text)


@pytest.mark.parametrize("text", ["افروف", "بافروف", "لافروفي"])
def test_lavrov_fragments_do_not_match(text: str) -> None:
    assert not matches("لافروف", text)


@pytest.mark.parametrize(
    ("query", "text"),
    [("امل", "قرار كامل"), ("امل", "بكامل قوتها"), ("حر", "البحر"), ("اله", "وكالة الأنباء"), ("قط", "فقط")],
)
def test_no_match_on_a_wrongly_stripped_fragment(query: str, text: str) -> None:
    assert not matches(query, text)


@pytest.mark.parametrize(
    ("text", "bare", "wildcard"),
    [("سوريا", True, True), ("وبسوريا", True, True), ("السوري", False, True), ("السورية", False, True),
     ("والسوريين", False, True), ("لسوريا", True, True)],
)
def test_bare_word_and_wildcard(text: str, bare: bool, wildcard: bool) -> None:
    assert matches("سوريا", text) is bare
    assert matches("سوري*", text) is wildcard


def test_phrase_needs_consecutive_words_in_one_field() -> None:
    assert matches('"الأمم المتحدة"', "وقالت للأمم المتحدة")
    assert not matches('"الأمم المتحدة"', "الأمم", "المتحدة")  # no phrase across title and body
    assert not matches('"الأمم المتحدة"', "الأمم الأفريقية المتحدة")


def test_field_scopes() -> None:
    assert matches("title:غزة", "قصف غزة", "")
    assert not matches("title:غزة", "قصف", "غزة")
    assert matches("body:غزة", "قصف", "في غزة")
    assert matches("غزة", "قصف", "في غزة")  # a bare word searches title and body
    assert not matches("غزة", "قصف", "", tags=("غزة",))
    assert matches("tag:غزة", "قصف", "", tags=("قطاع غزة",))
    assert not matches('tag:"لبنان سوريا"', "خبر", "", tags=("لبنان", "سوريا"))  # not across tags
    assert matches("section:middle_east", "خبر", "", section="middle_east")
    assert matches("section:middle*", "خبر", "", section="middle_east")
    assert not matches("section:middle", "خبر", "", section="middle_east")
    assert matches("source:rt-arabic", "خبر")


def test_exclude_sections_and_sources() -> None:
    topics = [
        topic("gaza", "غزة", exclude="section:sport OR مباراة"),
        topic("gaza-news", "غزة", sections=("news",)),
        topic("gaza-tass", "غزة", sources=("tass",)),
    ]
    index = compile_topics(topics)
    assert index.match(make_article("غزة", section="news")) == {"gaza", "gaza-news"}
    assert index.match(make_article("غزة", section="sport")) == frozenset()
    assert index.match(make_article("غزة", "مباراة ودية", section="middle_east")) == frozenset()
    assert index.match(make_article("غزة", section="world", source="tass")) == {"gaza", "gaza-tass"}


def test_explain_lists_present_terms() -> None:
    index = compile_topics([topic("gaza", 'غزة OR رفح OR "خان يونس"', exclude="مباراة")])
    article = make_article("قصف على خان يونس", "وفي غزة", section="news")
    assert index.explain("gaza", article) == ("غزه", '"خان يونس"')
    assert index.explain("gaza", make_article("غزة", "مباراة")) == ("غزه", "exclude مباراه")
    with pytest.raises(KeyError):
        index.explain("nope", article)


def test_duplicate_slugs_rejected() -> None:
    with pytest.raises(TopicConfigError, match="duplicate topic slug 'a'"):
        compile_topics([topic("a", "غزة"), topic("a", "رفح")])


def test_topic_carries_parsed_queries() -> None:
    made = topic("a", "غزة", exclude="رفح", max_age=timedelta(days=1))
    assert made.parsed_query.terms[0].words == ("غزه",)
    assert made.parsed_exclude is not None


def test_a_pathological_article_and_query_stay_bounded() -> None:
    query = '"' + " ".join(["غزه"] * 11 + ["رفح"]) + '"'
    index = compile_topics([topic("t", query)])
    article = make_article("غزة " * 20_000)
    assert index.match(article) == frozenset()


WORDS = ["غزة", "رفح", "سوريا", "السوري", "لافروف", "الأمم", "المتحدة", "و", "كامل", "أمل", "بحر"]
TERMS = st.sampled_from(["غزة", "رفح", "سوري*", "لافروف", '"الأمم المتحدة"', "title:أمل", "tag:غزة", "section:news", "بحر"])


@st.composite
def queries(draw: st.DrawFn) -> str:
    terms = draw(st.lists(TERMS, min_size=1, max_size=4))
    ops = draw(st.lists(st.sampled_from([" ", " OR ", " AND ", " NOT "]), min_size=len(terms) - 1, max_size=len(terms) - 1))
    text = terms[0] + "".join(op + term for op, term in zip(ops, terms[1:], strict=True))
    return f"{text} {terms[0]}" if " NOT " in text else text


@settings(max_examples=150, deadline=None)
@given(
    st.lists(queries(), min_size=1, max_size=6),
    st.lists(st.sampled_from(WORDS), max_size=12),
    st.lists(st.sampled_from(WORDS), max_size=30),
)
def test_index_agrees_with_scanning_every_topic(qs: list[str], title: list[str], body: list[str]) -> None:
    index = compile_topics([topic(f"t{n}", q) for n, q in enumerate(qs)])
    article = make_article(" ".join(title), " ".join(body), tags=("غزة",))
    assert index.match(article) == index.match_scan(article)
