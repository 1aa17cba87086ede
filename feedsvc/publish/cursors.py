"""Paging cursors the service can trust: where the next page of a newest-first feed starts.

A cursor names the last item of a page (its published time and id), so the next
page starts right after it however many articles arrive meanwhile. The token is
URL-safe base64 of ``[published microseconds since the epoch, article id]`` followed
by a tag: the first 12 bytes of HMAC-SHA256, under the deployment's cursor key, of
the topic's slug and those bytes. Only the service makes tags, so a cursor it did not
issue (made up, edited, taken from another topic or another deployment) is refused
with a :class:`BadRequest` before anything is read: a forged cursor costs a hash, not
a render.

Positions in the change stream (``/api/changes``'s ``since`` and ``next``) are signed
the same way, as ``["changes", position]`` under the empty slug (no topic has it), so
neither kind of token passes for the other.

The key is generated at first start and kept in the store (:func:`load_cursors`),
so every process on the store issues and accepts the same cursors, and they survive
restarts. Deleting the key (``DELETE FROM secrets WHERE name = 'cursor-key'``, then a
restart) makes every cursor already handed out a 400: readers start again from the
first page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from feedsvc.errors import BadRequest
from feedsvc.store import Cursor, Store

MAX_CURSOR_LENGTH = 200
KEY_NAME = "cursor-key"  # the store's name for the key
KEY_BYTES = 32
TAG_BYTES = 12  # 96 bits: guessing one takes 2**95 tries on average
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
POSITION = "changes"  # the first value of a change stream position's signed bytes


class Cursors:
    """Issues and checks the cursors of one deployment (one key)."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("a cursor key has at least 16 bytes")
        self._key = key

    def encode(self, slug: str, cursor: Cursor) -> str:
        micros = (cursor.published - _EPOCH) // _MICRO  # exact: the same instant comes back
        return self._signed(slug, orjson.dumps([micros, cursor.article_id]))

    def decode(self, slug: str, token: str) -> Cursor:
        """The cursor a token names; :class:`BadRequest` for anything this service did not
        issue for this topic."""
        raw = self._verified(slug, token, "cursor")
        try:  # signed by this service: well-formed unless the format changed
            data: Any = orjson.loads(raw)
            micros, article_id = data
            if not isinstance(micros, int) or not isinstance(article_id, str):
                raise TypeError
            return Cursor(_EPOCH + micros * _MICRO, article_id)
        except (orjson.JSONDecodeError, TypeError, ValueError, OverflowError) as exc:
            raise _not_issued() from exc

    def encode_position(self, position: int) -> str:
        """A change stream position as a token for ``next`` (and ``since``)."""
        return self._signed("", orjson.dumps([POSITION, position]))

    def decode_position(self, token: str) -> int:
        """The position a ``since`` token names; :class:`BadRequest` for anything this
        service did not issue as one (tampered, made up, from another deployment)."""
        raw = self._verified("", token, "since")
        try:
            data: Any = orjson.loads(raw)
            kind, position = data
            if kind != POSITION or not isinstance(position, int) or position < 0:
                raise TypeError
            return position
        except (orjson.JSONDecodeError, TypeError, ValueError) as exc:
            raise _not_issued("since") from exc

    def _signed(self, slug: str, raw: bytes) -> str:
        """The token of ``raw`` issued under ``slug``: its bytes and their tag, base64."""
        return base64.urlsafe_b64encode(raw + self._tag(slug, raw)).rstrip(b"=").decode("ascii")

    def _verified(self, slug: str, token: str, name: str) -> bytes:
        """The signed bytes of a token issued under ``slug``, or :class:`BadRequest`."""
        if len(token) > MAX_CURSOR_LENGTH:
            raise BadRequest(f"{name}: too long")
        try:
            signed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (binascii.Error, ValueError) as exc:
            raise _not_issued(name) from exc
        raw, tag = signed[:-TAG_BYTES], signed[-TAG_BYTES:]
        if len(signed) <= TAG_BYTES or not hmac.compare_digest(tag, self._tag(slug, raw)):
            raise _not_issued(name)
        return raw

    def _tag(self, slug: str, raw: bytes) -> bytes:
        message = slug.encode("utf-8") + b"\x00" + raw
        return hmac.new(self._key, message, hashlib.sha256).digest()[:TAG_BYTES]


async def load_cursors(store: Store) -> Cursors:
    """The deployment's cursors: the key kept in the store, made now if there is none."""
    return Cursors(await store.shared_secret(KEY_NAME, secrets.token_bytes(KEY_BYTES)))


def _not_issued(name: str = "cursor") -> BadRequest:
    if name == "since":
        return BadRequest("since: not a position this service issued for its change stream")
    return BadRequest("cursor: not a cursor this service issued for this feed")
