"""The topics file: every fault reported at once as ``file:line:column: reason``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from feedsvc.errors import TopicConfigError
from feedsvc.topics import compile_topics, load_topics, parse_topics
from feedsvc.topics.model import (
    DEFAULT_LIMITS,
    MAX_DESCRIPTION_CHARS,
    MAX_QUERY_CHARS,
    MAX_TITLE_CHARS,
    TopicLimits,
)

CONFIG = Path(__file__).parents[2] / "config" / "topics.toml"

GOOD = '''
[[topics]]
slug = "gaza"
title = "غزة"
description = "أخبار قطاع غزة"
query = "غزة OR رفح"
exclude = "section:sport"
sections = ["middle_east", "news"]
sources = ["rt-arabic"]
max_age = "7d"
limit = 50
'''


def problems(text: str) -> list[str]:
    with pytest.raises(TopicConfigError) as caught:
        parse_topics(text, "topics.toml")
    return caught.value.problems


def test_good_file() -> None:
    (gaza,) = parse_topics(GOOD, "topics.toml")
    assert (gaza.slug, gaza.sections, gaza.sources, gaza.limit) == ("gaza", ("middle_east", "news"), ("rt-arabic",), 50)
    assert gaza.max_age == timedelta(days=7)
    assert gaza.exclude == "section:sport"


def test_shipped_topics_load_and_compile() -> None:
    topics = load_topics(CONFIG)
    slugs = {t.slug for t in topics}
    assert {"syria-diplomacy", "ukraine-war", "gaza", "russia-us-relations", "economy-sanctions", "sport"} <= slugs
    assert len(compile_topics(topics)) == len(topics)


def test_toml_syntax_error_has_line_and_column() -> None:
    assert problems('[[topics]]\nslug = "a"\ntitle = \n') == ["topics.toml:3:9: Invalid value"]


def test_toml_error_at_end_of_file() -> None:
    assert problems('[[topics]]\nslug = "a') == ["topics.toml:2:10: Unterminated string (at end of file)"]


@pytest.mark.parametrize(
    ("query_line", "problem"),
    [
        ('query = "(غزة OR رفح"', "topics.toml:6:10: query: unbalanced '(': no ')' closes it"),
        ('query = "غزة OR رفح)"', "topics.toml:6:20: query: unbalanced ')': no '(' opens it"),
        ('query = ""', "topics.toml:6:9: query: must be a non-empty string"),
        ('query = "غزة author:x"', "topics.toml:6:14: query: unknown field 'author:' (known: title:, body:, section:, tag:, source:)"),
        ('query = "NOT غزة"', "topics.toml:6:10: query: query would match every article: it needs a term that must be present"),
        ('query = "*"', "topics.toml:6:10: query: wildcard needs letters before '*'"),
        ("query = '''\n  غزة OR\n  (رفح'''", "topics.toml:8:3: query: unbalanced '(': no ')' closes it"),
        ('query = "\\u063a\\u0632\\u0629 foo:x"', "topics.toml:6:29: query: unknown field 'foo:' (known: title:, body:, section:, tag:, source:)"),
    ],
)
def test_bad_query_points_into_the_string(query_line: str, problem: str) -> None:
    text = f'\n[[topics]]\nslug = "gaza"\ntitle = "غزة"\ndescription = "d"\n{query_line}\n'
    assert problems(text) == [problem]


def test_every_problem_reported_at_once() -> None:
    text = '''[[topics]]
slug = "Gaza News"
title = "غزة"
description = "d"
query = "غزة"
exclude = "(رفح"
max_age = "7 days"
limit = 900
colour = "red"

[[topics]]
slug = "all"
title = "الكل"
description = "d"
query = "سوريا"
sections = ["Middle East"]

[[topics]]
slug = "sport"
title = "رياضة"
description = "d"
query = "section:sport"

[[topics]]
slug = "sport"
description = ""
query = "مباراة"
'''
    assert problems(text) == [
        "topics.toml:9:10: colour: unknown key (known: slug, title, description, query, exclude, sections, sources, max_age, limit)",
        "topics.toml:2:8: slug: slug 'Gaza News' is not URL-safe: use a-z, 0-9 and single inner hyphens",
        "topics.toml:6:12: exclude: unbalanced '(': no ')' closes it",
        "topics.toml:7:11: max_age: '7 days' is not a duration such as \"7d\", \"12h\" or \"90m\"",
        "topics.toml:8:9: limit: limit must be between 1 and 500, not 900",
        "topics.toml:12:8: slug: slug 'all' is reserved",
        "topics.toml:16:12: sections: 'Middle East' is not a section key (a-z, 0-9, _), e.g. 'middle_east'",
        "topics.toml:24:1: topic is missing the required key 'title'",
        "topics.toml:25:8: duplicate slug 'sport' (first defined on line 19)",
    ]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("max_age = 0", "topics.toml:6:11: max_age: must be more than 0 and at most 366 days"),
        ("max_age = true", 'topics.toml:6:11: max_age: must be a duration such as "7d", "12h", "90m" or whole seconds'),
        ("limit = true", "topics.toml:6:9: limit: limit must be an integer"),
        ("limit = 0", "topics.toml:6:9: limit: limit must be between 1 and 500, not 0"),
        ('sources = "rt"', "topics.toml:6:11: sources: must be a list of non-empty strings"),
        ("title = 3", "topics.toml:6:9: title: must be a non-empty string"),
        ("description = 3", "topics.toml:6:15: description: must be a string"),
    ],
)
def test_bad_values(line: str, problem: str) -> None:
    keys = {"slug": '"a"', "title": '"t"', "description": '"d"', "query": '"غزة"'}
    keys.pop(line.split(" ")[0], None)
    body = "".join(f"{key} = {value}\n" for key, value in keys.items())
    text = "[[topics]]\n" + body + "\n" * (4 - len(keys)) + line + "\n"
    assert problems(text) == [problem]


def test_a_minimal_topic_needs_no_description() -> None:
    minimal = '[[topics]]\nslug = "gaza"\ntitle = "غزة"\nquery = "غزة"\n'
    (topic,) = parse_topics(minimal, "t")
    assert (topic.slug, topic.description) == ("gaza", "")
    (blank,) = parse_topics(minimal + 'description = "  "\n', "t")
    assert blank.description == ""


def test_durations() -> None:
    for raw, expected in [("90m", timedelta(minutes=90)), ("12h", timedelta(hours=12)), ("3600", None)]:
        text = GOOD.replace('max_age = "7d"', f'max_age = "{raw}"')
        if expected is None:
            assert problems(text)
        else:
            assert parse_topics(text, "t")[0].max_age == expected
    (topic,) = parse_topics(GOOD.replace('max_age = "7d"', "max_age = 3600"), "t")
    assert topic.max_age == timedelta(hours=1)


def test_unknown_top_level_key() -> None:
    assert problems('title = "x"\n' + GOOD) == [
        "topics.toml:1:9: unknown top-level key 'title' (expected [[topics]] tables)"
    ]


def test_load_topics_reports_the_path(tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(GOOD.replace('query = "غزة OR رفح"', 'query = "غزة OR"'), encoding="utf-8")
    with pytest.raises(TopicConfigError) as caught:
        load_topics(path)
    assert caught.value.problems == [f"{path}:6:16: query: expected a term after 'OR', found the end of the query"]


def load_problems(path: Path, limits: TopicLimits = DEFAULT_LIMITS) -> list[str]:
    with pytest.raises(TopicConfigError) as caught:
        load_topics(path, limits)
    return caught.value.problems


def topic_table(number: int) -> str:
    return f'[[topics]]\nslug = "t{number}"\ntitle = "t"\ndescription = "d"\nquery = "غزة"\n\n'


def test_a_file_over_the_size_limit_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_text(GOOD, encoding="utf-8")
    size = path.stat().st_size
    assert load_problems(path, TopicLimits(max_file_bytes=size - 1)) == [
        f"{path}: {size} bytes: larger than the limit of {size - 1} (topics.max_file_bytes)"]
    assert len(load_topics(path, TopicLimits(max_file_bytes=size))) == 1


def test_more_topics_than_the_limit_are_refused_at_the_first_one_over(tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_text("".join(topic_table(n) for n in range(4)), encoding="utf-8")
    assert load_problems(path, TopicLimits(max_topics=3)) == [
        f"{path}:19:1: 4 topics: more than the limit of 3 (topics.max_topics)"]
    assert len(load_topics(path, TopicLimits(max_topics=4))) == 4


@pytest.mark.parametrize(("key", "limit"), [
    ("title", MAX_TITLE_CHARS), ("description", MAX_DESCRIPTION_CHARS),
    ("query", MAX_QUERY_CHARS), ("exclude", MAX_QUERY_CHARS),
])
def test_texts_longer_than_their_limit_name_the_length_and_the_limit(key: str, limit: int) -> None:
    def topic(text: str) -> str:  # the key under test on line 6, its value at column len(key) + 4
        fields = {"slug": '"a"', "title": '"t"', "description": '"d"', "query": '"غزة"'}
        fields.pop(key, None)
        return "[[topics]]\n" + "".join(f"{k} = {v}\n" for k, v in fields.items()) + \
            "\n" * (4 - len(fields)) + f'{key} = "{text}"\n'

    assert len(parse_topics(topic("ب" * limit), "topics.toml")) == 1
    assert problems(topic("ب" * (limit + 1))) == [
        f"topics.toml:6:{len(key) + 4}: {key}: {limit + 1} characters: longer than the limit of {limit}"]


def test_a_huge_description_costs_nothing_but_its_reading() -> None:
    text = GOOD.replace('description = "أخبار قطاع غزة"', 'description = "' + "و" * 5_000_000 + '"')
    assert problems(text) == ["topics.toml:5:15: description: 5000000 characters: longer than the limit of 1000"]


def test_a_file_that_is_not_utf8_is_located(tmp_path: Path) -> None:
    path = tmp_path / "topics.toml"
    path.write_bytes(GOOD.encode().replace(b"\xd8\xba", b"\xff\xba", 1))
    assert load_problems(path) == [
        f"{path}:4:10: not UTF-8 text: byte 0xff (invalid start byte); save the file as UTF-8"]


def test_nesting_past_the_limit_stops_before_parsing() -> None:
    assert problems(GOOD + "sections = " + "[" * 3000 + "]" * 3000 + "\n") == [
        "topics.toml:12:28: arrays and tables nested 17 deep: deeper than the limit of 16"]
    assert problems(GOOD + "sections.a" + ".b" * 30 + " = 1\n") == [
        "topics.toml:12:41: a dotted key of more than 17 parts: deeper than the limit of 16"]


def test_depth_from_dotted_keys_within_the_scan_is_caught_after_parsing() -> None:
    assert problems(GOOD + "colour.a" + ".b" * 15 + " = 1\n") == [
        "topics.toml:2:1: topics[0].colour.a…: tables nested more than 16 deep"]


@pytest.mark.parametrize(("line", "problem"), [
    ("limit = " + "9" * 30, "limit: limit must be between 1 and 500, not a number too large"),
    ("max_age = " + "9" * 30, "max_age: must be more than 0 and at most 366 days"),
    ("max_age = 'https://bob:hunter2@example.org'",
     "max_age: 'https://…@example.org' is not a duration such as \"7d\", \"12h\" or \"90m\""),
    ('sections = ["' + "X" * 500 + '"]', None),
])
def test_odd_values_are_short_lines(line: str, problem: str | None) -> None:
    text = "[[topics]]\n" + 'slug = "a"\ntitle = "t"\ndescription = "d"\nquery = "غزة"\n' + line + "\n"
    [found] = problems(text)
    if problem is None:
        assert found.startswith("topics.toml:6:12: sections: 'XXX") and len(found) < 200
    else:
        assert found == f"topics.toml:6:{line.index('=') + 3}: {problem}"


def test_a_folder_is_not_a_topics_file(tmp_path: Path) -> None:
    assert load_problems(tmp_path) == [f"{tmp_path}: cannot read the file: not a regular file"]
