"""The query parameters of feed and list requests (``limit``, ``cursor``, ``page``), checked
strictly: anything unknown or malformed is a 400 that says why."""

from __future__ import annotations

from multidict import MultiMapping

from feedsvc.errors import BadRequest
from feedsvc.publish import Cursors, FeedQuery

MAX_LIMIT_DIGITS = 6  # longer is out of range anyway; keeps int() away from huge strings


def parse_feed_query(params: MultiMapping[str], *, default_limit: int, max_limit: int,
                     cursors: Cursors, slug: str) -> FeedQuery:
    """``limit`` and ``cursor`` from a query string; anything else is a :class:`BadRequest`,
    a cursor that ``cursors`` did not issue for the topic ``slug`` included."""
    unknown = sorted(set(params) - {"limit", "cursor"})
    if unknown:
        raise BadRequest(f"unknown parameter: {unknown[0][:40]!r} (use limit and cursor)")
    for name in ("limit", "cursor"):
        if len(params.getall(name, ())) > 1:
            raise BadRequest(f"{name}: given more than once")
    limit = default_limit
    if (raw := params.get("limit")) is not None:
        # ASCII digits only: str.isdigit() also accepts "²" and other digits int() refuses
        ok = raw.isascii() and raw.isdigit() and len(raw) <= MAX_LIMIT_DIGITS
        if not ok or not 1 <= int(raw) <= max_limit:
            raise BadRequest(f"limit: {raw[:40]!r} is not a whole number from 1 to {max_limit}")
        limit = int(raw)
    token = params.get("cursor") or None
    return FeedQuery(limit, cursors.decode(slug, token) if token else None, token)


def parse_page(params: MultiMapping[str], *, pages: int) -> int:
    """``page`` (1 to ``pages``) of a paged list; anything else is a :class:`BadRequest`."""
    unknown = sorted(set(params) - {"page"})
    if unknown:
        raise BadRequest(f"unknown parameter: {unknown[0][:40]!r} (use page)")
    values = params.getall("page", ())
    if len(values) > 1:
        raise BadRequest("page: given more than once")
    if not values:
        return 1
    raw = values[0]
    if not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_LIMIT_DIGITS
            and 1 <= int(raw) <= pages):
        raise BadRequest(f"page: {raw[:40]!r} is not a page from 1 to {pages}")
    return int(raw)


def reject_parameters(params: MultiMapping[str]) -> None:
    """For routes that take no query parameters."""
    if params:
        name = sorted(params)[0]
        raise BadRequest(f"unknown parameter: {name[:40]!r} (this address takes none)")
