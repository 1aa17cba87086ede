"""The query parameters of feed, list and change stream requests (``limit``, ``cursor``,
``page``, ``since``, ``topic``), checked strictly: anything unknown or malformed is a 400
that says why."""

from __future__ import annotations

from dataclasses import dataclass

from multidict import MultiMapping

from feedsvc.config import ChangesSettings
from feedsvc.errors import BadRequest
from feedsvc.publish import Cursors, FeedQuery
from feedsvc.store import ALL_TOPIC

MAX_LIMIT_DIGITS = 6  # longer is out of range anyway; keeps int() away from huge strings


def parse_feed_query(params: MultiMapping[str], *, default_limit: int, max_limit: int,
                     cursors: Cursors, slug: str) -> FeedQuery:
    """``limit`` and ``cursor`` from a query string; anything else is a :class:`BadRequest`,
    a cursor that ``cursors`` did not issue for the topic ``slug`` included."""
    _only(params, ("limit", "cursor"))
    limit = _limit(params, default_limit, max_limit)
    token = params.get("cursor") or None
    return FeedQuery(limit, cursors.decode(slug, token) if token else None, token)


@dataclass(frozen=True, slots=True)
class ChangesQuery:
    """Which changes a change stream request asks for."""

    topic: str  # a slug, or ``all``
    since: str | None  # the position token as sent (checked by the stream)
    limit: int


def parse_changes_query(params: MultiMapping[str], settings: ChangesSettings) -> ChangesQuery:
    """``since``, ``topic`` and ``limit`` of ``/api/changes``; anything else is a
    :class:`BadRequest`."""
    _only(params, ("since", "topic", "limit"))
    limit = _limit(params, settings.page_size, settings.max_page_size)
    topic = params.get("topic", ALL_TOPIC)
    if not topic:
        raise BadRequest("topic: empty (leave it out for every article)")
    since = params.get("since")
    if since is not None and not since:
        raise BadRequest("since: empty (leave it out to start at the head of the stream)")
    return ChangesQuery(topic=topic, since=since, limit=limit)


def _only(params: MultiMapping[str], names: tuple[str, ...]) -> None:
    """Only ``names``, each at most once."""
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise BadRequest(f"unknown parameter: {unknown[0][:40]!r} (use {_listed(names)})")
    for name in names:
        if len(params.getall(name, ())) > 1:
            raise BadRequest(f"{name}: given more than once")


def _listed(names: tuple[str, ...]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return " and ".join(filter(None, (", ".join(names[:-1]), names[-1])))


def _limit(params: MultiMapping[str], default: int, most: int) -> int:
    raw = params.get("limit")
    if raw is None:
        return default
    # ASCII digits only: str.isdigit() also accepts "²" and other digits int() refuses
    ok = raw.isascii() and raw.isdigit() and len(raw) <= MAX_LIMIT_DIGITS
    if not ok or not 1 <= int(raw) <= most:
        raise BadRequest(f"limit: {raw[:40]!r} is not a whole number from 1 to {most}")
    return int(raw)


def parse_page(params: MultiMapping[str], *, pages: int) -> int:
    """``page`` (1 to ``pages``) of a paged list; anything else is a :class:`BadRequest`."""
    _only(params, ("page",))
    raw = params.get("page")
    if raw is None:
        return 1
    if not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_LIMIT_DIGITS
            and 1 <= int(raw) <= pages):
        raise BadRequest(f"page: {raw[:40]!r} is not a page from 1 to {pages}")
    return int(raw)


def reject_parameters(params: MultiMapping[str]) -> None:
    """For routes that take no query parameters."""
    if params:
        name = sorted(params)[0]
        raise BadRequest(f"unknown parameter: {name[:40]!r} (this address takes none)")
