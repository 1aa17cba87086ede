"""One document ready to send: its bytes, its strong ETag and every header, prepared once.

A representation is made from the identity body (``package``); the brotli and gzip
bodies are made on the first request that asks for each (``encoded``), off the
event loop (both compressors release the GIL), once however many requests ask at
the same moment. The ETag is a hash of the identity body, so the same document
at the same data has the same ETag on every replica; the response headers of each
coding and of a 304 are built once, so a request only looks them up.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime

import brotli
from multidict import CIMultiDict, CIMultiDictProxy

ENCODINGS = ("br", "gzip", "identity")


@dataclass(slots=True, eq=False)
class Representation:
    """A document and its headers; ``bodies`` gains an encoding on first request."""

    etag: str
    last_modified: datetime
    bodies: dict[str, bytes]  # by content coding; "identity" always, br/gzip once asked for
    full_headers: dict[str, CIMultiDictProxy[str]]  # 200 response headers, by coding
    not_modified_headers: CIMultiDictProxy[str]  # 304 response headers
    # when the oldest article shown passes the topic's max_age: the page must be redone
    stale_at: datetime | None = None
    # told when an encoding is added, so a cache can account for the bytes
    on_grow: Callable[[], None] | None = field(default=None, repr=False)
    _encoding: dict[str, asyncio.Future[bytes]] = field(default_factory=dict, repr=False)

    @property
    def size(self) -> int:
        """Bytes held: every body made so far (headers are small and shared)."""
        return sum(map(len, self.bodies.values()))


def package(body: bytes, content_type: str, last_modified: datetime,
            headers: Mapping[str, str]) -> Representation:
    """A representation of ``body`` with its ETag and response headers; ``headers`` are
    the ones every answer carries (caching, CORS, links)."""
    etag = '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'
    common: CIMultiDict[str] = CIMultiDict(headers)
    common["ETag"] = etag
    common["Last-Modified"] = format_datetime(last_modified, usegmt=True)
    full = {}
    for coding in ENCODINGS:
        coded = CIMultiDict(common)
        coded["Content-Type"] = content_type
        if coding != "identity":
            coded["Content-Encoding"] = coding
        full[coding] = CIMultiDictProxy(coded)
    return Representation(etag=etag, last_modified=last_modified, bodies={"identity": body},
                          full_headers=full, not_modified_headers=CIMultiDictProxy(common))


async def encoded(representation: Representation, coding: str) -> bytes:
    """The body in ``coding``, compressed on first use in a worker thread; concurrent
    callers share one compression."""
    body = representation.bodies.get(coding)
    if body is not None:
        return body
    pending = representation._encoding.get(coding)
    if pending is None:
        identity = representation.bodies["identity"]
        pending = asyncio.ensure_future(asyncio.to_thread(_compress, identity, coding))
        representation._encoding[coding] = pending
        try:
            body = await asyncio.shield(pending)
        finally:
            del representation._encoding[coding]
        representation.bodies[coding] = body
        if representation.on_grow is not None:
            representation.on_grow()
        return body
    return await asyncio.shield(pending)


def _compress(body: bytes, coding: str) -> bytes:
    if coding == "br":
        return bytes(brotli.compress(body, quality=5))
    return gzip.compress(body, compresslevel=6, mtime=0)  # mtime 0: the same bytes everywhere
