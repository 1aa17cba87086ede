"""Dates as article pages write them, read into aware UTC datetimes.

Three forms reach the extractor:

- ISO 8601, with or without an offset (JSON-LD, ``article:*_time``, ``<time>``);
- RFC 822 (``Tue, 15 Dec 2015 18:34:00 +0000``, from feeds and some meta tags);
- the visible date line, ``15.12.2015 | 21:34`` by default (a selector setting).

A time without an offset is the site's local time (``site_tz``): the site writes
Moscow time everywhere it omits the zone. Everything is returned in UTC. Values
that cannot be read give ``None`` rather than an error, so the next extraction
step gets its chance.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_tz

__all__ = ["clamp", "parse_machine", "parse_visible", "to_utc"]

# Arabic-Indic and Eastern Arabic-Indic digits, which copies of the site sometimes use.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_PIPE = re.compile(r"\s*\|\s*")
_SPACES = re.compile(r"\s+")
# A time followed by a numeric offset or a zone name ("+0000", "GMT", "EST").
_RFC822_ZONE = re.compile(r"\d:\d\d(?::\d\d)?\s+(?:[+-]\d{4}|[A-Za-z]{1,5})$")
# Years outside this window are typos or garbage, not news; they would also
# overflow when shifted across zones at the edges of datetime's range.
_MIN_YEAR, _MAX_YEAR = 1990, 2200


def parse_machine(raw: str, site_tz: tzinfo) -> datetime | None:
    """ISO 8601 or RFC 822 text → aware UTC; naive values are read in ``site_tz``."""
    text = _SPACES.sub(" ", raw.translate(_DIGITS)).strip()
    if not text or len(text) > 64:
        return None
    parsed = _parse_iso(text)
    if parsed is None:
        parsed = _parse_rfc822(text)
    return None if parsed is None else to_utc(parsed, site_tz)


def parse_visible(raw: str, fmt: str, site_tz: tzinfo) -> datetime | None:
    """The page's own date line (``fmt`` is a strptime format) → aware UTC."""
    text = _PIPE.sub(" | ", _SPACES.sub(" ", raw.translate(_DIGITS))).strip()
    if not text or len(text) > 64:
        return None
    try:
        parsed = datetime.strptime(text, fmt)  # noqa: DTZ007 - naive on purpose, zone added below
    except ValueError:
        return parse_machine(raw, site_tz)
    return to_utc(parsed, site_tz)


def to_utc(moment: datetime, site_tz: tzinfo) -> datetime | None:
    """Aware UTC; a naive ``moment`` is taken as wall time in ``site_tz``."""
    if not _MIN_YEAR <= moment.year <= _MAX_YEAR:
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=site_tz)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def clamp(moment: datetime | None, now: datetime) -> datetime | None:
    """Never later than ``now``: a future date is a wrong clock or a typo, not news."""
    if moment is None:
        return None
    return min(moment, now)


def _parse_iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _parse_rfc822(text: str) -> datetime | None:
    try:
        fields = parsedate_tz(text)
    except (TypeError, ValueError, IndexError):
        return None
    if fields is None:
        return None
    year, month, day, hour, minute, second = fields[:6]
    # parsedate_tz reports a missing zone as offset 0; a missing zone means site time.
    offset = fields[9] if _RFC822_ZONE.search(text) else None
    try:
        zone = None if offset is None else timezone(timedelta(seconds=offset))
        return datetime(year, month, day, hour, minute, second, tzinfo=zone)
    except (ValueError, OverflowError):
        return None
