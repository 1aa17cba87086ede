"""Faults the replica can be told to commit, to test how the poller copes.

A fault is a kind, a path glob and a count. ``FaultPlan.match`` finds the first
armed fault for a path; the web layer applies it and calls ``FaultPlan.spend``.
Kinds and their parameters (all optional)::

    status         statuses=[500, 502, 503]   answers these in turn instead of the page
    rate_limit     status=429, retry_after=2, http_date=False
    slow           delay=2.0                   seconds before the headers
    hold           most=30.0                   no headers until the faults are cleared
                                               (at most this many seconds): a stalled site
    drip           chunk=64, interval=0.05     the body in small, slow pieces
    truncate       fraction=0.5                declares the full length, sends part, closes
    malformed      -                           unclosed tags, a stray "]]>", junk bytes
    oversize       mib=12, declare_length=True the real body padded with spaces to N MiB
    redirect_loop  status=302                  A -> A?replica_loop=1 -> A -> ...
    redirect       location=<mirror>, status=301
    charset        body="utf-8", declared="windows-1256"
                   (body "utf-8"|"windows-1256"; declared "utf-8"|"windows-1256"|"meta")
    garbage        size=4096, seed=0           random bytes with a 200

``status``, ``rate_limit``, ``slow``, ``hold`` and the redirects act before the route
runs; the others rewrite a 200 answer of the route, leave other answers alone, and are
spent only when they rewrote something.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from fnmatch import fnmatchcase
from typing import Any

from aiohttp import web

BEFORE_ROUTE = frozenset({"status", "rate_limit", "slow", "hold", "redirect", "redirect_loop"})
AFTER_ROUTE = frozenset({"drip", "truncate", "malformed", "oversize", "charset", "garbage"})
FAULT_KINDS = BEFORE_ROUTE | AFTER_ROUTE
LOOP_FLAG = "replica_loop"


@dataclass(slots=True)
class Fault:
    """An armed fault; ``times`` is how many answers it still spoils (None: all)."""

    kind: str
    path_glob: str = "*"
    times: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    hits: int = 0
    released: asyncio.Event = field(default_factory=asyncio.Event)  # ``hold`` waits on it

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "path_glob": self.path_glob, "times": self.times,
                "params": self.params, "hits": self.hits}


class FaultPlan:
    """The armed faults, first armed first matched."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._since_clear: list[Fault] = []  # spent ones too: a ``hold`` may still wait

    def arm(self, kind: str, path_glob: str = "*", times: int | None = None,
            params: dict[str, Any] | None = None) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(sorted(FAULT_KINDS))}")
        if times is not None and times < 1:
            raise ValueError(f"times must be at least 1, not {times}")
        fault = Fault(kind, path_glob, times, dict(params or {}))
        self._faults.append(fault)
        self._since_clear.append(fault)
        return fault

    def match(self, path: str) -> Fault | None:
        return next((f for f in self._faults if fnmatchcase(path, f.path_glob)), None)

    def spend(self, fault: Fault) -> None:
        fault.hits += 1
        if fault.times is not None:
            fault.times -= 1
            if fault.times <= 0 and fault in self._faults:
                self._faults.remove(fault)

    def clear(self) -> None:
        for fault in self._since_clear:
            fault.released.set()  # the answers a ``hold`` keeps back go on
        self._faults.clear()
        self._since_clear.clear()

    def describe(self) -> list[dict[str, Any]]:
        return [fault.describe() for fault in self._faults]


# --- before the route ---------------------------------------------------------------


async def answer_before_route(
    fault: Fault, request: web.Request, *, now: datetime, mirror_base: str
) -> web.StreamResponse | None:
    """The answer that replaces the route's, or None to let the route answer (``slow``,
    ``hold``)."""
    params = fault.params
    if fault.kind == "slow":
        await asyncio.sleep(float(params.get("delay", 2.0)))
        return None
    if fault.kind == "hold":
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fault.released.wait(), float(params.get("most", 30.0)))
        return None
    if fault.kind == "status":
        statuses = list(params.get("statuses", [500, 502, 503]))
        # The fault was spent before it answers, so ``hits`` already counts this answer.
        status = int(statuses[(fault.hits - 1) % len(statuses)])
        return web.Response(status=status, text=f"replica fault: HTTP {status}\n")
    if fault.kind == "rate_limit":
        return _rate_limited(params, now)
    if fault.kind == "redirect":
        location = str(params.get("location") or mirror_base + request.path_qs)
        return _redirect(int(params.get("status", 301)), location)
    return _redirect(int(params.get("status", 302)), _loop_target(request))


def _rate_limited(params: dict[str, Any], now: datetime) -> web.Response:
    seconds = int(params.get("retry_after", 2))
    retry_after = (
        format_datetime((now + timedelta(seconds=seconds)).astimezone(UTC), usegmt=True)
        if params.get("http_date")
        else str(seconds)
    )
    status = int(params.get("status", 429))
    return web.Response(status=status, headers={"Retry-After": retry_after},
                        text="replica fault: slow down\n")


def _redirect(status: int, location: str) -> web.Response:
    return web.Response(status=status, headers={"Location": location})


def _loop_target(request: web.Request) -> str:
    """A and B differ by one query flag, so each names the other."""
    if LOOP_FLAG in request.query:
        kept = [(key, value) for key, value in request.query.items() if key != LOOP_FLAG]
        return str(request.rel_url.with_query(kept))
    return str(request.rel_url.update_query({LOOP_FLAG: "1"}))


# --- after the route ----------------------------------------------------------------


async def rewrite_after_route(
    fault: Fault, request: web.Request, answer: web.Response
) -> web.StreamResponse:
    """Spoil a 200 answer of the route the way ``fault`` says."""
    body = answer.body if isinstance(answer.body, bytes) else b""
    params = fault.params
    if fault.kind == "malformed":
        return _replace_body(answer, malform(body))
    if fault.kind == "garbage":
        noise = random.Random(int(params.get("seed", 0))).randbytes(int(params.get("size", 4096)))
        return _replace_body(answer, noise)
    if fault.kind == "charset":
        return _mislabel(answer, body, str(params.get("body", "utf-8")),
                         str(params.get("declared", "windows-1256")))
    if fault.kind == "oversize":
        size = int(float(params.get("mib", 12)) * 1024 * 1024)
        padded = body + b" " * max(0, size - len(body))
        return await _stream(request, answer, padded, chunk=256 * 1024, interval=0.0,
                             declare=bool(params.get("declare_length", True)))
    if fault.kind == "drip":
        return await _stream(request, answer, body, chunk=int(params.get("chunk", 64)),
                             interval=float(params.get("interval", 0.05)), declare=True)
    return await _truncate(request, answer, body, float(params.get("fraction", 0.5)))


def malform(body: bytes) -> bytes:
    """Break a document: containers left open, a stray ``]]>`` and bytes that are not UTF-8."""
    middle = body.find(b"</", len(body) // 2)
    middle = len(body) // 2 if middle < 0 else middle
    broken = body[:middle] + b"]]>\x00\xff\xfe<b><p " + body[middle:]
    return re.sub(rb"</(div|body|html|channel|rss|urlset|sitemapindex)>", b"", broken)


def _replace_body(answer: web.Response, body: bytes) -> web.Response:
    return web.Response(status=answer.status, body=body, headers=_kept_headers(answer))


def _kept_headers(answer: web.Response) -> dict[str, str]:
    return {k: v for k, v in answer.headers.items() if k.lower() != "content-length"}


def _mislabel(answer: web.Response, body: bytes, body_charset: str, declared: str) -> web.Response:
    text = body.decode("utf-8", errors="replace")
    if declared == "meta":
        # Only the document itself names its charset, and names it right.
        text = re.sub(r'charset="?utf-8"?', f'charset="{body_charset}"', text, count=1)
        text = text.replace('encoding="UTF-8"', f'encoding="{body_charset}"', 1)
    encoded = text.encode(body_charset, errors="xmlcharrefreplace")
    headers = _kept_headers(answer)
    headers["Content-Type"] = answer.content_type + (
        "" if declared == "meta" else f"; charset={declared}"
    )
    return web.Response(status=answer.status, body=encoded, headers=headers)


async def _stream(request: web.Request, answer: web.Response, body: bytes, *,
                  chunk: int, interval: float, declare: bool) -> web.StreamResponse:
    stream = web.StreamResponse(status=answer.status, headers=_kept_headers(answer))
    if declare:
        stream.content_length = len(body)
    await stream.prepare(request)
    for start in range(0, len(body), chunk):
        await stream.write(body[start:start + chunk])
        if interval:
            await asyncio.sleep(interval)
    await stream.write_eof()
    return stream


async def _truncate(request: web.Request, answer: web.Response, body: bytes,
                    fraction: float) -> web.StreamResponse:
    stream = web.StreamResponse(status=answer.status, headers=_kept_headers(answer))
    stream.content_length = len(body)
    await stream.prepare(request)
    await stream.write(body[: int(len(body) * fraction)])  # write() waits for the socket
    if request.transport is not None:
        request.transport.close()
    return stream
