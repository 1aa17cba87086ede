"""Read the topics file: every problem reported at once as ``file:line:column: reason``.

The file is TOML with one ``[[topics]]`` table per topic (keys in ``docs/topics.md``).
It is read within limits (``TopicLimits``: its size and the number of topics; fixed
lengths of titles, descriptions and queries; the TOML nesting depth), so no file can
exhaust memory or time. A fault in reading the file (size, encoding, TOML syntax,
nesting, too many topics) stops there; after that every topic is checked in full, so
one run lists every fault: a bad query points into the string at the fault, a
duplicate slug at the second ``slug =``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from feedsvc.errors import QueryError, TopicConfigError
from feedsvc.tomlfile import (
    Fault,
    one_line,
    parse_toml,
    read_toml_text,
    redact,
    short,
    shown,
)
from feedsvc.topics.bulk import collector_paused
from feedsvc.topics.locate import Spot, TableSpots, scan_tables, string_spot
from feedsvc.topics.model import (
    DEFAULT_LIMITS,
    Topic,
    TopicLimits,
    check_length,
    check_limit,
    check_slug,
    parse_duration,
)
from feedsvc.topics.query import parse_query

__all__ = ["load_topics", "parse_topics", "read_topics_text"]

REQUIRED = ("slug", "title", "query")
OPTIONAL = ("exclude", "sections", "sources", "max_age", "limit")
KNOWN = ("slug", "title", "description", "query", *OPTIONAL)  # description: optional too
_SECTION_RE = re.compile(r"[a-z0-9_]+")


def load_topics(path: Path, limits: TopicLimits = DEFAULT_LIMITS) -> tuple[Topic, ...]:
    """The topics defined in ``path``; raises TopicConfigError listing every problem."""
    return parse_topics(read_topics_text(path, limits), str(path), limits)


def read_topics_text(path: Path, limits: TopicLimits = DEFAULT_LIMITS) -> str:
    """The topics file's text, within ``limits``; raises TopicConfigError (one problem)
    for a file that cannot be read, is too large or is not UTF-8."""
    text = read_toml_text(path, limits.max_file_bytes, "(topics.max_file_bytes)")
    if isinstance(text, Fault):
        raise TopicConfigError([one_line(_fault_problem(str(path), text, []))])
    return text


def parse_topics(text: str, filename: str, limits: TopicLimits = DEFAULT_LIMITS) -> tuple[Topic, ...]:
    """The topics defined by TOML ``text``; ``filename`` prefixes each problem."""
    with collector_paused():
        return _parse_topics(text, filename, limits)


def _parse_topics(text: str, filename: str, limits: TopicLimits) -> tuple[Topic, ...]:
    data = parse_toml(text)
    if isinstance(data, Fault):
        raise TopicConfigError([one_line(_fault_problem(filename, data, scan_tables(text)[1]))])
    problems = _Problems(filename, text)
    for key in data:
        if key != "topics":
            problems.add(problems.top().get(key, Spot(1, 1)),
                         f"unknown top-level key {shown(key)} (expected [[topics]] tables)")
    raw_topics = data.get("topics", [])
    if not isinstance(raw_topics, list) or not all(isinstance(t, dict) for t in raw_topics):
        problems.add(problems.top().get("topics", Spot(1, 1)), "'topics' must be written as [[topics]] tables")
        raw_topics = []
    if len(raw_topics) > limits.max_topics:  # checking each would cost what the limit prevents
        problems.add(problems.table(limits.max_topics).header,
                     f"{len(raw_topics)} topics: more than the limit of {limits.max_topics} "
                     "(topics.max_topics)")
        raise TopicConfigError(problems.lines)
    topics = _read_all(raw_topics, problems)
    if problems.lines:
        raise TopicConfigError(problems.lines)
    return topics


def _fault_problem(filename: str, fault: Fault, tables: list[TableSpots]) -> str:
    """``file:line:column: reason`` for a file that could not be read as TOML at all."""
    if fault.line is not None:
        return f"{filename}:{fault.line}:{fault.column or 1}: {fault.reason}"
    if not fault.keys:
        return f"{filename}: {fault.reason}"
    path = short("".join(f"[{key}]" if isinstance(key, int) else f".{key}" for key in fault.keys[:4]))
    where = f"{path.lstrip('.')}…: {fault.reason}"
    spot = _spot_of_keys(fault.keys, tables)
    return f"{filename}:{spot.line}:{spot.column}: {where}" if spot else f"{filename}: {where}"


def _spot_of_keys(keys: tuple[str | int, ...], tables: list[TableSpots]) -> Spot | None:
    """Where ``topics[n].key…`` is written, as near as the scanner knows."""
    if len(keys) < 2 or keys[0] != "topics" or not isinstance(keys[1], int) or keys[1] >= len(tables):
        return None
    table = tables[keys[1]]
    return table.values.get(str(keys[2]), table.header) if len(keys) > 2 else table.header


@dataclass(slots=True)
class _Problems:
    """The problems found so far, and where things are in the file: scanned only once
    a problem needs a spot (a valid file of 10,000 topics would spend a third of a
    second on it)."""

    filename: str
    text: str
    lines: list[str] = field(default_factory=list)
    scanned: tuple[dict[str, Spot], list[TableSpots]] | None = None

    def add(self, spot: Spot, reason: str) -> None:
        self.lines.append(one_line(redact(f"{self.filename}:{spot.line}:{spot.column}: {reason}")))

    def top(self) -> dict[str, Spot]:
        """Where each top-level key is written."""
        return self._scan()[0]

    def table(self, number: int) -> TableSpots:
        """Where the ``number``-th ``[[topics]]`` table and its keys are written."""
        tables = self._scan()[1]
        return tables[number] if number < len(tables) else TableSpots(Spot(1, 1))

    def _scan(self) -> tuple[dict[str, Spot], list[TableSpots]]:
        if self.scanned is None:
            self.scanned = scan_tables(self.text)
        return self.scanned


def _read_all(raw_topics: list[dict[str, object]], problems: _Problems) -> tuple[Topic, ...]:
    topics: list[Topic] = []
    first_with_slug: dict[str, int] = {}
    for number, raw in enumerate(raw_topics):
        topic = _TopicReader(raw, number, problems).read()
        slug = raw.get("slug")
        if isinstance(slug, str) and slug in first_with_slug:
            spots, first = problems.table(number), problems.table(first_with_slug[slug])
            where = first.values.get("slug", first.header).line
            problems.add(spots.values.get("slug", spots.header),
                         f"duplicate slug {shown(slug)} (first defined on line {where})")
        elif isinstance(slug, str):
            first_with_slug[slug] = number
        if topic is not None:
            topics.append(topic)
    return tuple(topics)


@dataclass(slots=True)
class _TopicReader:
    """Checks one ``[[topics]]`` table, adding a problem per fault."""

    raw: dict[str, object]
    number: int  # of the table in the file, from 0
    problems: _Problems
    failed: bool = False

    def fail(self, key: str | None, reason: str, offset: int | None = None) -> None:
        self.failed = True
        spots = self.problems.table(self.number)
        spot = spots.values.get(key, spots.header) if key else spots.header
        if offset is not None:
            spot = string_spot(self.problems.text, spot, offset)
        self.problems.add(spot, f"{short(key)}: {reason}" if key else reason)

    def read(self) -> Topic | None:
        for key in self.raw:
            if key not in KNOWN:
                self.fail(key, f"unknown key (known: {', '.join(KNOWN)})")
        for key in REQUIRED:
            if key not in self.raw:
                self.fail(None, f"topic is missing the required key {key!r}")
        slug, title = self.text("slug"), self.text("title")
        description = self.optional_text("description")
        if slug is not None and (reason := check_slug(slug)) is not None:
            self.fail("slug", reason)
        query, exclude = self.query("query"), self.query("exclude")
        sections, sources = self.names("sections", section=True), self.names("sources")
        max_age, limit = self.duration(), self.raw.get("limit")
        if limit is not None and (reason := check_limit(limit)) is not None:
            self.fail("limit", reason)
        if self.failed or slug is None or title is None or query is None:
            return None
        assert limit is None or isinstance(limit, int)
        return Topic(slug, title, description, query, exclude, sections, sources, max_age, limit)

    def text(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(key, "must be a non-empty string")
            return None
        if (reason := check_length(key, value)) is not None:
            self.fail(key, reason)
            return None
        return value

    def optional_text(self, key: str) -> str:
        """A string that may be left out or empty: ``""`` then (every feed format makes
        its description optional)."""
        value = self.raw.get(key, "")
        if not isinstance(value, str):
            self.fail(key, "must be a string")
            return ""
        if not value.strip():
            return ""
        if (reason := check_length(key, value)) is not None:
            self.fail(key, reason)
            return ""
        return value

    def query(self, key: str) -> str | None:
        value = self.text(key)
        if value is None:
            return None
        try:
            parse_query(value)
        except QueryError as exc:
            self.fail(key, exc.reason, offset=exc.position)
            return None
        return value

    def names(self, key: str, section: bool = False) -> tuple[str, ...]:
        value = self.raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(key, "must be a list of non-empty strings")
            return ()
        for name in value if section else ():
            if not _SECTION_RE.fullmatch(name):
                self.fail(key, f"{shown(name)} is not a section key (a-z, 0-9, _), e.g. 'middle_east'")
        return tuple(value)

    def duration(self) -> timedelta | None:
        value = self.raw.get("max_age")
        if value is None:
            return None
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail("max_age", str(exc))
            return None
