"""Reading a response body without ever holding more than the size limit."""

from __future__ import annotations

import aiohttp

from feedsvc.errors import BodyTooLarge

CHUNK_BYTES = 64 * 1024


async def read_limited(response: aiohttp.ClientResponse, limit: int, url: str) -> bytes:
    """The whole body, or BodyTooLarge once more than ``limit`` bytes arrived.

    A declared Content-Length over the limit is refused before reading. Otherwise
    chunks are asked for in sizes that stop at ``limit + 1`` bytes, so at most one
    byte past the limit is ever read into memory (after decompression: the limit is
    on what we would have to hold, not on what crossed the wire).
    """
    declared = response.content_length
    if declared is not None and declared > limit and not response.headers.get("Content-Encoding"):
        raise BodyTooLarge(url, f"Content-Length {declared} exceeds {limit} bytes")
    chunks: list[bytes] = []
    received = 0
    while True:
        chunk = await response.content.read(min(CHUNK_BYTES, limit + 1 - received))
        if not chunk:
            return b"".join(chunks)
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge(url, f"body exceeds {limit} bytes (stopped after {received})")
        chunks.append(chunk)
