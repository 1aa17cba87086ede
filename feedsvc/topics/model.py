"""The ``Topic`` value and the checks on its plain fields (slug, duration, limit).

A ``Topic`` parses its ``query`` and ``exclude`` when it is built, so a Topic that
exists always has valid query trees (``parsed_query``, ``parsed_exclude``); building
one from a bad query raises ``QueryError``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from feedsvc.topics.query import Query, parse_query

__all__ = [
    "MAX_LIMIT",
    "RESERVED_SLUGS",
    "Topic",
    "check_limit",
    "check_slug",
    "parse_duration",
]

MAX_LIMIT = 500
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
    description: str
    query: str
    exclude: str | None = None
    sections: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    max_age: timedelta | None = None
    limit: int | None = None
    parsed_query: Query = field(init=False, repr=False, compare=False)
    parsed_exclude: Query | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parsed_query", parse_query(self.query))
        excluded = parse_query(self.exclude) if self.exclude is not None else None
        object.__setattr__(self, "parsed_exclude", excluded)


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
        duration = timedelta(seconds=value)
    else:
        match = _DURATION_RE.fullmatch(value.strip())
        if match is None:
            raise ValueError(f'{value!r} is not a duration such as "7d", "12h" or "90m"')
        duration = timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])
    if duration <= timedelta(0) or duration > MAX_AGE:
        raise ValueError(f"must be more than 0 and at most {MAX_AGE.days} days")
    return duration


def check_limit(value: object) -> str | None:
    """The reason ``value`` is not a valid ``limit``, or None."""
    if isinstance(value, bool) or not isinstance(value, int):
        return "limit must be an integer"
    if not 1 <= value <= MAX_LIMIT:
        return f"limit must be between 1 and {MAX_LIMIT}, not {value}"
    return None
