"""Previews for operators: a query not saved anywhere, and a topics file not yet loaded.

Both read the stored articles once (``feedsvc.preview`` feeds them from the store)
and answer frozen values the command line prints::

    topic = adhoc_topic("غزة AND (رفح", exclude=None)  # TopicConfigError: query:1:9: reason
    trial = await run_trial(store, topic, now=now, limit=20)   # → trial_lines(trial)
    plan = plan_changes(current_topics, candidate_topics)
    diff = await run_diff(store, plan)                         # → diff_lines(diff)

The counting itself is pure: ``QueryTrial`` and ``MembershipDiff`` take one article at
a time (the store iterates asynchronously, so they are fed, not handed a list) and
``now`` is passed in. The diff follows ``LiveTopics._apply`` exactly: a topic is
changed when any of its keys differs, a new or changed topic then holds exactly the
live articles its rules match (the reload's backfill), a removed topic loses every
member, an unchanged topic is left alone.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from feedsvc.errors import QueryError, TopicConfigError
from feedsvc.models import Article
from feedsvc.topics.index import compile_topics
from feedsvc.topics.model import Topic
from feedsvc.topics.query import parse_query

__all__ = [
    "PAGE",
    "DAYS", "DayCount", "Example", "MembershipDiff", "Plan", "QueryTrial", "TopicChange",
    "TopicsDiff", "TrialMatch", "TrialResult", "adhoc_topic", "diff_lines",
    "plan_changes", "trial_lines",
]

DAYS = 14  # the per-day history of ``topics try``, today (UTC) included
EXAMPLES = 3  # articles shown per direction of a topic's change
TRY_SLUG = "try"
PAGE = 500  # members read per store page by the diff


@dataclass(frozen=True, slots=True)
class TrialMatch:
    article_id: str
    title: str
    published: datetime
    terms: tuple[str, ...]  # as TopicIndex.explain gives them


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date  # UTC
    count: int


@dataclass(frozen=True, slots=True)
class TrialResult:
    total: int
    newest: tuple[TrialMatch, ...]  # newest first, at most the limit
    per_day: tuple[DayCount, ...]  # the last DAYS days, oldest first, zeros included


@dataclass(frozen=True, slots=True)
class Example:
    article_id: str
    title: str
    published: datetime


@dataclass(frozen=True, slots=True)
class Plan:
    """How a candidate topics file differs from the one in force, by slug."""

    added: tuple[Topic, ...]
    changed: tuple[Topic, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TopicChange:
    slug: str
    kind: str  # "added", "changed" or "removed"
    before: int  # members the store holds now
    after: int  # members once the candidate file is loaded
    added: int
    removed: int
    added_examples: tuple[Example, ...]  # newest first
    removed_examples: tuple[Example, ...]


@dataclass(frozen=True, slots=True)
class TopicsDiff:
    changes: tuple[TopicChange, ...]  # added, changed (each in file order), removed
    unchanged: tuple[str, ...]


def adhoc_topic(query: str, exclude: str | None = None) -> Topic:
    """A topic of ``query`` and ``exclude`` checked as the topics file checks them;
    raises TopicConfigError with one ``query:line:column: reason`` per bad argument."""
    problems = [_problem(name, text) for name, text in (("query", query), ("exclude", exclude))
                if text is not None]
    if any(problems):
        raise TopicConfigError([problem for problem in problems if problem])
    return Topic(TRY_SLUG, TRY_SLUG, "a query tried from the command line", query, exclude)


def _problem(name: str, text: str) -> str | None:
    try:
        parse_query(text)
    except QueryError as exc:
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        return f"{name}:{line}:{column}: {exc.reason}"
    return None


class QueryTrial:
    """Counts the articles one topic matches: the newest ``limit`` and the last DAYS days."""

    def __init__(self, topic: Topic, *, now: datetime, limit: int) -> None:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        self.index = compile_topics((topic,))
        self.slug, self.limit = topic.slug, limit
        today = now.astimezone(UTC).date()
        self.days = [today - timedelta(days=back) for back in range(DAYS - 1, -1, -1)]
        self.per_day = dict.fromkeys(self.days, 0)
        self.total = 0
        self._newest: list[tuple[datetime, str, Article]] = []  # a min-heap of at most limit

    def add(self, article: Article) -> None:
        if self.slug not in self.index.match(article):
            return
        self.total += 1
        day = article.published.astimezone(UTC).date()
        if day in self.per_day:
            self.per_day[day] += 1
        entry = (article.published, article.id, article)
        if len(self._newest) < self.limit:
            heapq.heappush(self._newest, entry)
        elif self._newest and entry[:2] > self._newest[0][:2]:
            heapq.heapreplace(self._newest, entry)

    def result(self) -> TrialResult:
        newest = sorted(self._newest, key=lambda entry: entry[:2], reverse=True)
        matches = tuple(TrialMatch(a.id, a.title, a.published, self.index.explain(self.slug, a))
                        for _, _, a in newest)
        return TrialResult(self.total, matches,
                           tuple(DayCount(day, self.per_day[day]) for day in self.days))


def plan_changes(current: Iterable[Topic], candidate: Iterable[Topic]) -> Plan:
    """Which topics a reload from ``candidate`` would add, change, remove or keep."""
    before = {topic.slug: topic for topic in current}
    after = {topic.slug: topic for topic in candidate}
    return Plan(
        added=tuple(t for slug, t in after.items() if slug not in before),
        changed=tuple(t for slug, t in after.items() if slug in before and before[slug] != t),
        removed=tuple(sorted(set(before) - set(after))),
        unchanged=tuple(slug for slug, t in after.items() if before.get(slug) == t),
    )


class MembershipDiff:
    """What a reload's backfill would change in each feed, fed every stored live article.

    ``members`` holds, for every added, changed or removed slug, the articles the store
    has in that topic now.
    """

    def __init__(self, plan: Plan, members: Mapping[str, Sequence[Example]]) -> None:
        self.plan = plan
        self.members = {slug: {m.article_id: m for m in members.get(slug, ())}
                        for slug in (*(t.slug for t in plan.added + plan.changed), *plan.removed)}
        self.index = compile_topics(plan.added + plan.changed)
        self.kept: dict[str, set[str]] = {slug: set() for slug in self.index.slugs}
        self.added: dict[str, int] = dict.fromkeys(self.index.slugs, 0)
        self._examples: dict[str, list[tuple[datetime, str, str]]] = {s: [] for s in self.index.slugs}

    def add(self, article: Article) -> None:
        if not self.index.slugs:
            return
        for slug in self.index.match(article):
            if article.id in self.members[slug]:
                self.kept[slug].add(article.id)
                continue
            self.added[slug] += 1
            examples, entry = self._examples[slug], (article.published, article.id, article.title)
            if len(examples) < EXAMPLES:
                heapq.heappush(examples, entry)
            elif entry > examples[0]:
                heapq.heapreplace(examples, entry)

    def result(self) -> TopicsDiff:
        changes = [self._change(t.slug, "added") for t in self.plan.added]
        changes += [self._change(t.slug, "changed") for t in self.plan.changed]
        changes += [self._change(slug, "removed") for slug in self.plan.removed]
        return TopicsDiff(tuple(changes), self.plan.unchanged)

    def _change(self, slug: str, kind: str) -> TopicChange:
        members, kept = self.members[slug], self.kept.get(slug, set())
        gone = sorted((m for m in members.values() if m.article_id not in kept),
                      key=lambda m: (m.published, m.article_id), reverse=True)
        added = self.added.get(slug, 0)
        new = sorted(self._examples.get(slug, ()), reverse=True)
        return TopicChange(slug, kind, len(members), len(kept) + added, added, len(gone),
                           tuple(Example(i, title, p) for p, i, title in new),
                           tuple(gone[:EXAMPLES]))


def trial_lines(result: TrialResult) -> list[str]:
    """``topics try`` output: the matches, the count, then one line per day."""
    lines: list[str] = []
    for match in result.newest:
        lines += [f"{match.published.astimezone(UTC):%Y-%m-%d %H:%M}  {match.article_id}  {match.title}",
                  f"    matched: {', '.join(match.terms)}"]
    listed = f"; the newest {len(result.newest)} listed" if len(result.newest) < result.total else ""
    lines.append(f"{result.total} article(s) match{listed}")
    lines.append(f"matches per day (UTC), {result.per_day[0].day} to {result.per_day[-1].day}:")
    lines += [f"  {day.day}  {day.count:>5}" for day in result.per_day]
    return lines


def diff_lines(diff: TopicsDiff) -> list[str]:
    """``topics diff`` output: one block per added, changed or removed topic."""
    lines = [] if diff.changes else ["no topic added, changed or removed"]
    for change in diff.changes:
        lines.append(f"{change.kind:<8} {change.slug}: would add {change.added}, remove "
                     f"{change.removed} (now {change.before} articles, then {change.after})")
        lines += [f"    + {e.article_id}  {e.title}" for e in change.added_examples]
        lines += [f"    - {e.article_id}  {e.title}" for e in change.removed_examples]
    if diff.unchanged:
        lines.append(f"unchanged {len(diff.unchanged)} topic(s): {', '.join(diff.unchanged)}")
    return lines
