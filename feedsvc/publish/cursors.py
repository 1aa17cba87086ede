"""Opaque paging cursors: where the next page of a newest-first feed starts.

A cursor names the last item of a page (its published time and id), so the next
page starts right after it however many articles arrive meanwhile. The token is
URL-safe base64 of ``[published microseconds since the epoch, article id]``.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from feedsvc.errors import BadRequest
from feedsvc.store import Cursor

MAX_CURSOR_LENGTH = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def encode_cursor(cursor: Cursor) -> str:
    micros = (cursor.published - _EPOCH) // _MICRO  # exact: the same instant comes back
    raw = orjson.dumps([micros, cursor.article_id])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(token: str) -> Cursor:
    """The cursor a token names; :class:`BadRequest` for anything this service did not issue."""
    if len(token) > MAX_CURSOR_LENGTH:
        raise BadRequest("cursor: too long")
    try:
        data: Any = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        micros, article_id = data
        if not isinstance(micros, int) or not isinstance(article_id, str):
            raise TypeError
        return Cursor(_EPOCH + micros * _MICRO, article_id)
    except (binascii.Error, orjson.JSONDecodeError, TypeError, ValueError, OverflowError,
            OSError) as exc:
        raise BadRequest("cursor: not a cursor this service issued") from exc
