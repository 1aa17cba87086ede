"""The compiled matcher: clitics, phrases, fields, filters, explain, and index = reference."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsvc.errors import TopicConfigError
from feedsvc.topics import Topic, compile_topics, prepare
from tests.topics.reference import reference
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


@pytest.mark.parametrize(
    ("query", "text", "expected"),
    [
        ('"أمل غزة"', "كامل غزة ثم أمل", False),  # كامل is not أمل with a clitic
        ('"الأمن غزة"', "الأمنية غزة ثم الأمن", False),  # a longer word is not the word
        ('"غزة رفح"', "رفح غزة", False),
        ('"غزة رفح"', "وغزة ورفح", True),
        ('"غزة رفح"', "وغزة ورفح" + " كلمة" * 60_000, True),  # within the bounded field
    ],
)
def test_phrase_word_boundaries(query: str, text: str, expected: bool) -> None:
    assert matches(query, "خبر", text) is expected


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
    topics = [topic(f"t{n}", q) for n, q in enumerate(qs)]
    index = compile_topics(topics)
    article = make_article(" ".join(title), " ".join(body), tags=("غزة",))
    assert index.match(article) == reference(topics, article)


# Random topic sets over a small vocabulary, so that terms, clitic forms, prefixes and
# phrases collide often; checked against every topic evaluated on its parsed tree.
POOL = ["غزة", "رفح", "الأمم", "المتحدة", "سوريا", "السوري", "لافروف", "كامل", "أمل", "بحر", "الحرب", "حرب", "مجلس", "الأمن", "الأمنية"]
SPELLINGS = st.sampled_from(["", "و", "ل", "ب", "ال", "وال", "لل", "فال"])
FIELDS = st.sampled_from(["", "title:", "body:", "tag:"])


@st.composite
def random_terms(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["word", "prefix", "phrase", "section"]))
    if kind == "section":
        return "section:" + draw(st.sampled_from(["news", "sport", "middle*"]))
    scope = draw(FIELDS)
    if kind == "phrase":
        words = draw(st.lists(st.sampled_from(POOL), min_size=2, max_size=3))
        return f'{scope}"{" ".join(words)}"'
    word = draw(st.sampled_from(POOL))
    return scope + (word[: draw(st.integers(2, max(2, len(word) - 1)))] + "*" if kind == "prefix" else word)


@st.composite
def random_queries(draw: st.DrawFn) -> str:
    terms = draw(st.lists(random_terms(), min_size=1, max_size=5))
    text = terms[0]
    for term in terms[1:]:
        op = draw(st.sampled_from([" ", " OR ", " AND ", " NOT ", " OR NOT "]))
        text = f"({text}){op}{term}" if draw(st.booleans()) else f"{text}{op}{term}"
    return f"{terms[0]} AND ({text})" if "NOT" in text else text


@st.composite
def random_texts(draw: st.DrawFn, size: int) -> str:
    words = draw(st.lists(st.tuples(SPELLINGS, st.sampled_from(POOL)), max_size=size))
    return " ".join(clitic + word for clitic, word in words)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(random_queries(), st.one_of(st.none(), random_queries()), st.booleans()), min_size=1, max_size=12),
    random_texts(8), random_texts(40), st.lists(random_texts(3), max_size=3), st.sampled_from(["news", "sport", "middle_east"]),
)
def test_random_topic_sets_agree_with_scan_and_reference(
    specs: list[tuple[str, str | None, bool]], title: str, body: str, tags: list[str], section: str
) -> None:
    topics = [
        topic(f"t{n}", query, exclude=exclude, sections=("news",) if scoped else ())
        for n, (query, exclude, scoped) in enumerate(specs)
    ]
    index = compile_topics(topics)
    article = make_article(title, body, section=section, tags=tuple(tags))
    expected = reference(topics, prepare(article))
    assert index.match(article) == expected
    assert index.match(index.prepare(article)) == expected  # a prepared article, reused


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("غزة", {"plain", "blocked", "excluded", "filtered"}),
        ("رفح", {"plain", "blocked", "excluded", "filtered"}),
        ("غزة لبنان", {"plain", "excluded", "filtered"}),  # لبنان blocks "blocked"
        ("غزة سوريا", {"plain", "blocked", "filtered"}),  # سوريا is excluded
        ("غزة السوري", {"plain", "blocked", "filtered"}),  # so is a word starting with سوري
        ("لبنان", set()),
    ],
)
def test_topics_decided_by_one_term_and_their_blockers(title: str, expected: set[str]) -> None:
    index = compile_topics([
        topic("plain", "غزة OR رفح"),
        topic("blocked", "(غزة OR رفح) NOT لبنان"),
        topic("excluded", "غزة OR رفح", exclude="سوري* OR section:sport"),
        topic("filtered", "(غزة OR رفح) NOT مباراة", sections=("news",)),
    ])
    article = make_article(title, section="news")
    assert index.match(article) == expected
    assert index.match(make_article(title, section="sport")) == expected - {"excluded", "filtered"}


def test_phrase_first_word_many_times() -> None:
    filler = " ".join(["غزة قصف"] * 40)
    assert matches('"غزة رفح"', "خبر", f"غزة رفح {filler}")
    assert matches('"غزة رفح"', "خبر", f"{filler} غزة رفح")
    assert not matches('"غزة رفح"', "خبر", f"{filler} رفح غزة")
    assert matches('"غزة رفح"', "خبر", f"{filler} لغزة ورفح وغزة رفح")  # several spellings
    assert not matches('"غزة رفح"', "خبر", f"{filler} لغزة قصف ورفح")


def test_a_long_lived_index_keeps_phrase_answers() -> None:
    index = compile_topics([topic("un", '"الأمم المتحدة"'), topic("gaza", '"غزة رفح" OR "خان يونس"')])
    for round_number in range(3):
        assert index.match(make_article("وقالت للأمم المتحدة")) == {"un"}, round_number
        assert index.match(make_article("الأمم", "المتحدة")) == frozenset()
        assert index.match(make_article("خبر", "في خان يونس وغزة ورفح")) == {"gaza"}


# Shapes the index decides without calling a topic's function: OR lists, with NOT
# parts and excludes made of words, prefixes and sections; and phrases behind gates.
SIMPLE = st.sampled_from(["غزة", "رفح", "سوري*", "لافروف", "title:أمل", "tag:غزة", "section:news", "بحر", "الحرب"])


@st.composite
def decided_queries(draw: st.DrawFn) -> tuple[str, str | None]:
    positive = " OR ".join(draw(st.lists(SIMPLE, min_size=1, max_size=3)))
    if draw(st.booleans()):
        positive = f'{positive} OR "{draw(st.sampled_from(POOL))} {draw(st.sampled_from(POOL))}"'
    blockers = draw(st.lists(st.lists(SIMPLE, min_size=1, max_size=2), max_size=2))
    query = f"({positive})" + "".join(f" NOT ({' OR '.join(b)})" for b in blockers)
    exclude = draw(st.one_of(st.none(), st.lists(SIMPLE, min_size=1, max_size=2).map(" OR ".join)))
    return query, exclude


@settings(max_examples=300, deadline=None)
@given(
    st.lists(decided_queries(), min_size=1, max_size=10),
    random_texts(8), random_texts(40), st.sampled_from(["news", "sport"]),
)
def test_decided_topics_agree_with_reference(
    specs: list[tuple[str, str | None]], title: str, body: str, section: str
) -> None:
    topics = [topic(f"t{n}", query, exclude=exclude) for n, (query, exclude) in enumerate(specs)]
    index = compile_topics(topics)
    article = make_article(title, body, section=section, tags=("غزة",))
    expected = reference(topics, prepare(article))
    assert index.match(article) == expected
