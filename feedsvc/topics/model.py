"""The ``Topic`` value, the checks on its plain fields (slug, duration, limit) and the
limits on a topics file.

A ``Topic`` holds its ``query`` and ``exclude`` as written and parses them on first
use (``parsed_query``, ``parsed_exclude``); the loader checks every query before it
builds a Topic, so a Topic from a topics file always parses.

The limits bound what one file can cost at start-up and on every reload (parsing,
compiling, memory) and what one topic can cost on every page that lists it. The
defaults and how they were chosen are in ``docs/operations.md`` ("Hardening").
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

from feedsvc.errors import ConfigError
from feedsvc.policy import setting
from feedsvc.tomlfile import shown
from feedsvc.topics.query import MAX_QUERY_CHARS, Query, parse_query

__all__ = [
    "DEFAULT_LIMITS",
    "MAX_DESCRIPTION_CHARS",
    "MAX_LIMIT",
    "MAX_QUERY_CHARS",
    "MAX_TITLE_CHARS",
    "RESERVED_SLUGS",
    "Topic",
    "TopicLimits",
    "check_length",
    "check_limit",
    "check_slug",
    "parse_duration",
    "rules_fingerprint",
]

MAX_LIMIT = 500
# A feed title is a line in a reader's list; a description, a sentence or two under it.
# Both are rendered into every feed document and into the index page for every request.
MAX_TITLE_CHARS = 200
MAX_DESCRIPTION_CHARS = 1000
_TEXT_LIMITS = {"title": MAX_TITLE_CHARS, "description": MAX_DESCRIPTION_CHARS,
                "query": MAX_QUERY_CHARS, "exclude": MAX_QUERY_CHARS}
MAX_AGE = timedelta(days=366)
RESERVED_SLUGS = frozenset({"all"})
_SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_SLUG_MAX = 64
_DURATION_RE = re.compile(r"([0-9]{1,6})([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


@dataclass(frozen=True, slots=True)
class Topic:
    """One configured topic feed: what to match and how much to serve."""

    slug: str
    title: str
    description: str  # "" when the topics file gives none: feeds then carry no subtitle
    query: str
    exclude: str | None = None
    sections: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    max_age: timedelta | None = None
    limit: int | None = None

    # Parsed on first use (``parse_query`` remembers its trees): serving a topic needs
    # its title and limits, not its query tree, so a start-up from a snapshot of the
    # index parses nothing.
    @property
    def parsed_query(self) -> Query:
        return parse_query(self.query)

    @property
    def parsed_exclude(self) -> Query | None:
        return parse_query(self.exclude) if self.exclude is not None else None


# Part of every rules fingerprint: bump it when matching itself changes (normalization,
# the query language), so every topic is backfilled again with the new matcher.
MATCHER_VERSION = "1"


def rules_fingerprint(topic: Topic) -> str:
    """What decides a topic's members, hashed: its query, exclude, section and source
    filters and the matcher's version. A new title or feed size changes nothing here."""
    parts = (MATCHER_VERSION, topic.query, topic.exclude or "", ",".join(topic.sections),
             ",".join(topic.sources))
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=12).hexdigest()


@dataclass(frozen=True, slots=True)
class TopicLimits:
    """How large a topics file may be; the settings' ``[topics]`` table (invalid values
    raise ``ConfigError``)."""

    max_file_bytes: int = setting(
        8 * 1024 * 1024,
        "Largest topics file read, in bytes; a larger one is refused (at start and on reload).",
    )
    max_topics: int = setting(
        20_000, "Most [[topics]] tables a topics file may hold; more are refused."
    )

    def __post_init__(self) -> None:
        problems = [f"topics.{name}: {value!r}: must be at least 1"
                    for name, value in (("max_file_bytes", self.max_file_bytes),
                                        ("max_topics", self.max_topics)) if value < 1]
        if problems:
            raise ConfigError(problems)


DEFAULT_LIMITS = TopicLimits()


def check_length(key: str, value: str) -> str | None:
    """The reason ``value`` is too long for the topic key ``key``, or None."""
    limit = _TEXT_LIMITS.get(key)
    if limit is None or len(value) <= limit:
        return None
    return f"{len(value)} characters: longer than the limit of {limit}"


def check_slug(slug: str) -> str | None:
    """The reason ``slug`` cannot name a feed, or None when it can."""
    if slug in RESERVED_SLUGS:
        return f"slug {slug!r} is reserved"
    if len(slug) > _SLUG_MAX:
        return f"slug longer than {_SLUG_MAX} characters"
    if not _SLUG_RE.fullmatch(slug):
        return f"slug {slug!r} is not URL-safe: use a-z, 0-9 and single inner hyphens"
    return None


def parse_duration(value: object) -> timedelta:
    """``"7d"``, ``"12h"``, ``"90m"``, ``"30s"``, ``"2w"`` or whole seconds as an int.

    Raises ValueError with the reason; the duration must be positive and at most a year.
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError('must be a duration such as "7d", "12h", "90m" or whole seconds')
    if isinstance(value, int):
        if not 0 < value <= MAX_AGE.total_seconds():  # before timedelta(), which overflows
            raise ValueError(f"must be more than 0 and at most {MAX_AGE.days} days")
        duration = timedelta(seconds=value)
    else:
        match = _DURATION_RE.fullmatch(value.strip())
        if match is None:
            raise ValueError(f'{shown(value)} is not a duration such as "7d", "12h" or "90m"')
        duration = timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])
    if duration <= timedelta(0) or duration > MAX_AGE:
        raise ValueError(f"must be more than 0 and at most {MAX_AGE.days} days")
    return duration


def check_limit(value: object) -> str | None:
    """The reason ``value`` is not a valid ``limit``, or None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return "limit must be an integer"
    if not 1 <= value <= MAX_LIMIT:
        shown = value if value.bit_length() <= 64 else "a number too large"
        return f"limit must be between 1 and {MAX_LIMIT}, not {shown}"
    return None
