"""Errors of the connections themselves, as one short line each, within a line budget.

What clients can cause in numbers (malformed requests, sockets failing at accept, a
transport error) must not fill the disk: aiohttp and asyncio would write a traceback
for each. Here each becomes one event line (``http.bad_request``, ``http.accept_failed``,
``http.connection_failed``, ``http.internal_error``) with the client's address and
the reason cut to one line, and :class:`LineBudget` lets through at most
``LINES_PER_WINDOW`` lines of an event per ``WINDOW_SECONDS``; the first line after a
full window says how many were left out. ``/metrics`` counts every one
(``feedsvc_http_errors_total``).

Two entry points feed it: :class:`HttpErrorLog`, given to aiohttp as its server
logger, and :meth:`ErrorLines.loop_handler`, the event loop's exception handler for
the listening socket and the client connections.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import time
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp.http_exceptions import HttpProcessingError

from feedsvc.logsetup import get_log
from feedsvc.metrics import Metrics

LINES_PER_WINDOW = 5
WINDOW_SECONDS = 60.0
MAX_REASON_CHARS = 200
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f]")

log = get_log("feedsvc.http")
_logger = logging.getLogger("feedsvc.http")  # for isEnabledFor: a hidden line uses no budget


@dataclass(slots=True)
class LineBudget:
    """At most ``lines`` lines of each event per ``window`` seconds; ``now`` is passed in.

    :meth:`admit` answers None when a line must be left out, else how many lines of
    that event were left out before it (to be reported in it).
    """

    lines: int = LINES_PER_WINDOW
    window: float = WINDOW_SECONDS
    _windows: dict[str, tuple[float, int, int]] = field(default_factory=dict)  # start, shown, left out

    def admit(self, event: str, now: float) -> int | None:
        start, shown, left_out = self._windows.get(event, (now, 0, 0))
        if now - start >= self.window:
            self._windows[event] = (now, 1, 0)
            return left_out
        if shown < self.lines:
            self._windows[event] = (start, shown + 1, left_out)
            return 0
        self._windows[event] = (start, shown, left_out + 1)
        return None


def one_line(text: str, limit: int = MAX_REASON_CHARS) -> str:
    """``text`` on one line, control characters escaped, cut to ``limit`` characters."""
    flat = _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", " ".join(text.split()))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def reason_of(exc: BaseException | None) -> str:
    """What went wrong, in one line: the parser's message, not its dump of the bytes."""
    if exc is None:
        return "unknown"
    if isinstance(exc, HttpProcessingError):
        # aiohttp's message is "reason:\n\n  b'the bytes'\n  ^": keep the reason
        return one_line(exc.message.split("\n", 1)[0].rstrip(":") or type(exc).__name__)
    return one_line(f"{type(exc).__name__}: {exc}")


class ErrorLines:
    """Writes connection errors as budgeted event lines and counts them all."""

    def __init__(self, metrics: Metrics, *, protocols: tuple[type, ...] = (),
                 clock: Callable[[], float] = time.monotonic,
                 budget: LineBudget | None = None) -> None:
        self.metrics = metrics
        self.protocols = protocols  # the protocol types of the client connections
        self.clock = clock
        self.budget = budget or LineBudget()
        self.listeners: set[int] = set()  # file numbers of the listening sockets

    def report(self, kind: str, level: int, *, peer: str | None, reason: str) -> None:
        """Count an error of ``kind`` and write its line if the budget allows."""
        self.metrics.http_errors.labels(kind).inc()
        if not _logger.isEnabledFor(level):
            return
        left_out = self.budget.admit(kind, self.clock())
        if left_out is None:
            return
        fields: dict[str, Any] = {"peer": peer or "-", "reason": reason}
        if left_out:
            fields["left_out"] = left_out
        event = f"http.{kind}"
        if level >= logging.ERROR:
            log.error(event, **fields)
        elif level >= logging.WARNING:
            log.warning(event, **fields)
        elif level >= logging.INFO:
            log.info(event, **fields)
        else:
            log.debug(event, **fields)

    def loop_handler(self, previous: Callable[[asyncio.AbstractEventLoop, dict[str, Any]], object]
                     ) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
        """An event loop exception handler: errors of the listening socket and of client
        connections become budgeted lines; anything else goes to ``previous``."""

        def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
            kind = self._kind_of(context)
            if kind is None:
                previous(loop, context)
                return
            exc = context.get("exception")
            self.report(kind, logging.WARNING, peer=_peer_of(context),
                        reason=reason_of(exc) if exc else one_line(str(context.get("message"))))

        return handle

    def _kind_of(self, context: dict[str, Any]) -> str | None:
        sock = context.get("socket")
        if sock is not None and _fileno(sock) in self.listeners:
            return "accept_failed"
        if self.protocols and isinstance(context.get("protocol"), self.protocols):
            return "connection_failed"
        return None


class HttpErrorLog(logging.LoggerAdapter):  # type: ignore[type-arg]
    """aiohttp's server logger (``RequestHandler(logger=...)``): its tracebacks for
    malformed requests and protocol failures become one budgeted line each."""

    def __init__(self, lines: ErrorLines) -> None:
        super().__init__(_logger, {})
        self.lines = lines

    def log(self, level: int, msg: object, *args: object, exc_info: Any = None,
            **kwargs: Any) -> None:
        exc = _exception(exc_info)
        if exc is None and level < logging.WARNING:
            return  # aiohttp's debug chatter ("Ignored premature client disconnection")
        peer = str(args[0]) if args and "%s" in str(msg) else None
        if isinstance(exc, HttpProcessingError):
            # the client's fault: junk on the port, a bad header; aiohttp answered 400
            self.lines.report("bad_request", min(level, logging.INFO), peer=peer,
                              reason=reason_of(exc))
        elif exc is not None:
            self.lines.report("internal_error", logging.ERROR, peer=peer, reason=reason_of(exc))
        else:
            self.lines.report("internal_error", logging.ERROR, peer=peer,
                              reason=one_line(str(msg) % args if args else str(msg)))

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        return msg, kwargs


def _exception(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if exc_info is True:
        return sys.exc_info()[1]
    if isinstance(exc_info, tuple) and len(exc_info) == 3:
        return exc_info[1]  # type: ignore[no-any-return]
    return None


def _fileno(sock: Any) -> int:
    try:
        return int(sock.fileno())
    except (OSError, ValueError, AttributeError):
        return -1


def _peer_of(context: dict[str, Any]) -> str | None:
    transport = context.get("transport")
    if isinstance(transport, asyncio.BaseTransport):
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and peer:
            return str(peer[0])
    return None


