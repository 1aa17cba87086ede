"""Opaque paging cursors and the query parameters of feed requests.

A cursor names the last item of a page (its published time and id), so the next
page starts right after it however many articles arrive meanwhile.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

import orjson
from multidict import MultiMapping

from feedsvc.store import Cursor
from feedsvc.store.codec import from_micros, to_micros

MAX_CURSOR_LENGTH = 200
MAX_LIMIT_DIGITS = 6  # longer is out of range anyway; keeps int() away from huge strings


class BadRequest(ValueError):
    """A request parameter is invalid; the message says which and why."""


@dataclass(frozen=True, slots=True)
class FeedQuery:
    limit: int
    cursor: Cursor | None
    cursor_token: str | None


def encode_cursor(cursor: Cursor) -> str:
    raw = orjson.dumps([to_micros(cursor.published), cursor.article_id])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(token: str) -> Cursor:
    if len(token) > MAX_CURSOR_LENGTH:
        raise BadRequest("cursor: too long")
    try:
        data: Any = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        micros, article_id = data
        if not isinstance(micros, int) or not isinstance(article_id, str):
            raise TypeError
        return Cursor(from_micros(micros), article_id)
    except (binascii.Error, orjson.JSONDecodeError, TypeError, ValueError, OverflowError,
            OSError) as exc:
        raise BadRequest("cursor: not a cursor this service issued") from exc


def parse_feed_query(params: MultiMapping[str], *, default_limit: int, max_limit: int) -> FeedQuery:
    """``limit`` and ``cursor`` from a query string; anything else is a :class:`BadRequest`."""
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
    return FeedQuery(limit, decode_cursor(token) if token else None, token)


def reject_parameters(params: MultiMapping[str]) -> None:
    """For routes that take no query parameters."""
    if params:
        name = sorted(params)[0]
        raise BadRequest(f"unknown parameter: {name[:40]!r} (this address takes none)")
