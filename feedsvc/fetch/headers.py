"""Reading the response headers that steer polling: Retry-After and freshness.

Pure functions over header values and an explicit ``now``; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)
_NO_FRESHNESS = re.compile(r"(?:^|,)\s*(?:no-store|no-cache)\s*(?:[,=]|$)", re.IGNORECASE)


def parse_http_date(value: str) -> datetime | None:
    """An HTTP-date (RFC 9110 IMF-fixdate and the obsolete forms) as aware UTC, or None."""
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # "-0000" or a missing zone: HTTP dates are GMT
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_retry_after(value: str | None, *, now: datetime, cap: timedelta) -> datetime | None:
    """When Retry-After (delay-seconds or HTTP-date) lets us ask again, clipped to ``now + cap``.

    A date in the past means "now"; an unreadable value is ignored (None).
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        wait = min(timedelta(seconds=int(text[:12])), cap)
        return now + wait
    when = parse_http_date(text)
    if when is None:
        return None
    return min(max(when, now), now + cap)


def fresh_until(headers: Mapping[str, str], *, now: datetime) -> datetime | None:
    """Until when the response is fresh per Cache-Control max-age or Expires, if later than now.

    ``max-age`` wins over ``Expires`` (RFC 9111 §5.3); ``Age`` is subtracted. ``Expires``
    is read relative to the response's ``Date`` when there is one, so a skewed upstream
    clock does not shift our schedule.
    """
    cache_control = headers.get("Cache-Control", "")
    if _NO_FRESHNESS.search(cache_control):
        return None
    lifetime = _max_age(cache_control)
    if lifetime is None:
        lifetime = _expires_lifetime(headers, now=now)
    if lifetime is None:
        return None
    age = headers.get("Age", "").strip()
    if age.isdigit():
        lifetime -= timedelta(seconds=int(age[:12]))
    return now + lifetime if lifetime > timedelta(0) else None


def _max_age(cache_control: str) -> timedelta | None:
    match = _MAX_AGE.search(cache_control)
    return timedelta(seconds=int(match.group(1)[:12])) if match else None


def _expires_lifetime(headers: Mapping[str, str], *, now: datetime) -> timedelta | None:
    expires_value = headers.get("Expires")
    if expires_value is None:
        return None
    expires = parse_http_date(expires_value)
    if expires is None:  # RFC 9111: an invalid Expires (e.g. "0") means already expired
        return None
    date = parse_http_date(headers.get("Date", "")) or now
    return expires - date


def content_type(value: str | None) -> tuple[str, str | None]:
    """Media type (lower case) and the charset parameter, if any, of a Content-Type value."""
    if not value:
        return "", None
    media_type, *params = value.split(";")
    charset = None
    for param in params:
        name, _, param_value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = param_value.strip().strip("\"'") or None
    return media_type.strip().lower(), charset
