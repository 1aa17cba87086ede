"""Previews: an ad-hoc query checked like the topics file, tried over articles; a
candidate topics file compared, topic by topic, with what the store holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from feedsvc.errors import TopicConfigError
from feedsvc.topics import Topic, parse_topics
from feedsvc.topics.preview import (
    DAYS,
    EXAMPLES,
    Example,
    MembershipDiff,
    QueryTrial,
    adhoc_topic,
    diff_lines,
    plan_changes,
    trial_lines,
)
from tests.factories import make_article

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def gaza(n: int, published: datetime, title: str = "غارات على غزة") -> object:
    return make_article(n, title=title, published=published, content_text="نص")


def other(n: int, published: datetime) -> object:
    return make_article(n, title="أسعار النفط", published=published, content_text="نص")


def problems(query: str, exclude: str | None = None) -> list[str]:
    with pytest.raises(TopicConfigError) as caught:
        adhoc_topic(query, exclude)
    return caught.value.problems


# --- the ad-hoc topic -------------------------------------------------------------

def test_a_bad_query_is_reported_as_the_topics_file_reports_it() -> None:
    query = "غزة\nAND (رفح"
    file_text = f"[[topics]]\nslug = \"t\"\ntitle = \"t\"\ndescription = \"d\"\nquery = '''\n{query}'''\n"
    with pytest.raises(TopicConfigError) as from_file:
        parse_topics(file_text, "topics.toml")
    # the query starts on line 6 of the file, at column 1 of its own line 1
    assert from_file.value.problems == ["topics.toml:7:5: query: unbalanced '(': no ')' closes it"]
    assert problems(query) == ["query:2:5: unbalanced '(': no ')' closes it"]


def test_every_bad_argument_is_reported_at_once() -> None:
    assert problems("غزة OR", "NOT رفح") == [
        "query:1:7: expected a term after 'OR', found the end of the query",
        "exclude:1:1: query would match every article: it needs a term that must be present",
    ]
    assert problems("   ") == ["query:1:1: empty query"]
    assert problems("غزة", "author:x") == [
        "exclude:1:1: unknown field 'author:' (known: title:, body:, section:, tag:, source:)"]


def test_a_good_query_becomes_a_topic_with_its_exclude() -> None:
    topic = adhoc_topic("غزة OR رفح", "section:sport")
    assert (topic.query, topic.exclude) == ("غزة OR رفح", "section:sport")
    assert [t.label for t in topic.parsed_query.terms] == ["غزه", "رفح"]


# --- topics try -------------------------------------------------------------------

def tried(articles: list[object], *, now: datetime = NOW, limit: int = 10,
          query: str = "غزة", exclude: str | None = None) -> object:
    trial = QueryTrial(adhoc_topic(query, exclude), now=now, limit=limit)
    for article in articles:
        trial.add(article)  # type: ignore[arg-type]
    return trial.result()


def test_matches_are_listed_newest_first_up_to_the_limit_with_their_terms() -> None:
    articles = [gaza(n, NOW - timedelta(hours=n)) for n in (5, 1, 9, 3)] + [other(2, NOW)]
    result = tried(articles, limit=3)
    assert result.total == 4
    assert [m.article_id for m in result.newest] == ["rt-arabic:1900001", "rt-arabic:1900003",
                                                     "rt-arabic:1900005"]
    assert all(m.terms == ("غزه",) for m in result.newest)
    assert tried(articles, limit=0).newest == ()


def test_fourteen_utc_days_with_zeros_ending_today() -> None:
    articles = [
        gaza(1, datetime(2026, 11, 29, 0, 30, tzinfo=UTC)),
        gaza(2, datetime(2026, 11, 28, 23, 30, tzinfo=UTC)),
        gaza(3, datetime(2026, 11, 28, 1, 0, tzinfo=UTC)),
        gaza(4, datetime(2026, 11, 16, 0, 0, tzinfo=UTC)),  # first day of the window
        gaza(5, datetime(2026, 11, 15, 23, 59, tzinfo=UTC)),  # the day before: total only
        other(6, datetime(2026, 11, 20, tzinfo=UTC)),
    ]
    result = tried(articles)
    assert len(result.per_day) == DAYS == 14
    assert result.per_day[0].day.isoformat() == "2026-11-16"
    assert result.per_day[-1].day.isoformat() == "2026-11-29"
    counts = {d.day.isoformat(): d.count for d in result.per_day}
    assert (counts["2026-11-16"], counts["2026-11-28"], counts["2026-11-29"]) == (1, 2, 1)
    assert sum(counts.values()) == 4 and result.total == 5
    assert list(counts.values()).count(0) == 11


def test_today_is_the_utc_day_of_now_whatever_its_offset() -> None:
    riyadh_morning = datetime(2026, 11, 29, 1, 0, tzinfo=timezone(timedelta(hours=3)))
    result = tried([gaza(1, datetime(2026, 11, 28, 21, 0, tzinfo=UTC))], now=riyadh_morning)
    assert result.per_day[-1].day.isoformat() == "2026-11-28"
    assert result.per_day[-1].count == 1
    with pytest.raises(ValueError):
        QueryTrial(adhoc_topic("غزة"), now=datetime(2026, 11, 29), limit=1)  # noqa: DTZ001


def test_exclude_drops_articles_and_the_output_lists_every_day() -> None:
    articles = [gaza(1, NOW), gaza(2, NOW - timedelta(days=1), title="غزة: مباراة")]
    result = tried(articles, exclude="مباراه", limit=1)
    assert [m.article_id for m in result.newest] == ["rt-arabic:1900001"]
    lines = trial_lines(result)
    assert lines[:2] == ["2026-11-29 09:00  rt-arabic:1900001  غارات على غزة", "    matched: غزه"]
    assert lines[2] == "1 article(s) match"
    assert lines[3] == "matches per day (UTC), 2026-11-16 to 2026-11-29:"
    assert len(lines) == 4 + DAYS and lines[-1] == "  2026-11-29      1"


# --- topics diff ------------------------------------------------------------------

def topic(slug: str, query: str, **options: object) -> Topic:
    return Topic(slug, slug, "d", query, **options)  # type: ignore[arg-type]


def test_plan_sorts_topics_as_a_reload_would() -> None:
    current = [topic("gaza", "غزة"), topic("oil", "نفط"), topic("sport", "مباراة")]
    candidate = [topic("gaza", "غزة OR رفح"), topic("oil", "نفط"), topic("lavrov", "لافروف")]
    plan = plan_changes(current, candidate)
    assert [t.slug for t in plan.added] == ["lavrov"]
    assert [t.slug for t in plan.changed] == ["gaza"]
    assert (plan.removed, plan.unchanged) == (("sport",), ("oil",))
    retitled = plan_changes(current, [Topic("oil", "النفط", "d", "نفط")])
    assert [t.slug for t in retitled.changed] == ["oil"], "any key changed means a backfill"


def example(article: object) -> Example:
    return Example(article.id, article.title, article.published)  # type: ignore[attr-defined]


def test_diff_counts_what_the_backfill_adds_and_removes_with_newest_examples() -> None:
    rafah = [gaza(n, NOW - timedelta(hours=n), title="معبر رفح") for n in range(1, 6)]
    strip = [gaza(n, NOW - timedelta(hours=n)) for n in range(6, 9)]
    oil = [other(9, NOW)]
    current = [topic("gaza", "غزة"), topic("sport", "مباراة")]
    candidate = [topic("gaza", "رفح OR غارات"), topic("oil", "نفط")]
    members = {"gaza": [example(a) for a in strip] + [example(gaza(10, NOW - timedelta(days=3)))],
               "sport": [example(a) for a in oil]}  # whatever the store holds now counts
    diff = MembershipDiff(plan_changes(current, candidate), members)
    for article in rafah + strip + oil:
        diff.add(article)  # type: ignore[arg-type]
    result = diff.result()
    by_slug = {change.slug: change for change in result.changes}
    assert [c.slug for c in result.changes] == ["oil", "gaza", "sport"]
    gaza_change = by_slug["gaza"]
    assert (gaza_change.kind, gaza_change.before, gaza_change.after) == ("changed", 4, 8)
    assert (gaza_change.added, gaza_change.removed) == (5, 1)
    assert [e.article_id for e in gaza_change.added_examples] == [a.id for a in rafah[:EXAMPLES]]  # type: ignore[attr-defined]
    assert [e.article_id for e in gaza_change.removed_examples] == ["rt-arabic:1900010"]
    assert (by_slug["oil"].kind, by_slug["oil"].added, by_slug["oil"].before) == ("added", 1, 0)
    sport = by_slug["sport"]
    assert (sport.kind, sport.added, sport.removed, sport.after) == ("removed", 0, 1, 0)
    lines = diff_lines(result)
    assert lines[0] == "added    oil: would add 1, remove 0 (now 0 articles, then 1)"
    assert lines[1] == "    + rt-arabic:1900009  أسعار النفط"
    assert "    - rt-arabic:1900010  غارات على غزة" in lines


def test_a_file_without_changes_says_so_in_one_line() -> None:
    topics = [topic("gaza", "غزة"), topic("oil", "نفط")]
    diff = MembershipDiff(plan_changes(topics, topics), {})
    diff.add(gaza(1, NOW))  # type: ignore[arg-type]
    assert diff_lines(diff.result()) == ["no topic added, changed or removed",
                                         "unchanged 2 topic(s): gaza, oil"]
