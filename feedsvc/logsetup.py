"""Logging: one event name plus typed key/values a line, as text or as JSON objects.

Every feedsvc module logs through :func:`get_log`::

    log = get_log("feedsvc.scheduler")
    log.info("poll.done", source="rt-arabic", outcome="ok", new=3)
    page_log = log.bind(source="rt-arabic")  # the source is in every event after this

Text (``[logging] format = "text"``)::

    2026-11-29 09:00:01,234 INFO feedsvc.scheduler poll.done source=rt-arabic outcome=ok new=3

JSON (``format = "json"``), one object a line, values keeping their types::

    {"ts": "...", "level": "info", "logger": "feedsvc.scheduler", "event": "poll.done",
     "source": "rt-arabic", "outcome": "ok", "new": 3}

The event and its fields travel on the log record itself, so the JSON formatter
never parses a message. Lines from other libraries (aiohttp, APScheduler) have no
event: JSON shows them as ``"event": "log"`` with their text as ``"message"``.

Whatever a line holds, the user and password of a URL in it are cut out
(``https://…@host``) as it is written: no setting should carry them (the settings
refuse them), and if one ever slips through, the logs still do not show it.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

_EVENT = "feedsvc_event"  # the LogRecord attributes an EventLog sets
_FIELDS = "feedsvc_fields"
_NEEDS_QUOTES = re.compile(r"[\s'\"=]")
# userinfo ends the authority's first part; it holds no '/', '?', '#' or space
_USERINFO = re.compile(r"(?<=://)[^\s/?#'\"]*@")


def redact_userinfo(text: str) -> str:
    """``text`` with the user and password of every URL in it cut out."""
    return _USERINFO.sub("…@", text) if "@" in text else text


class EventLog:
    """A logger that writes events: a name and key/values, some bound in advance."""

    __slots__ = ("_bound", "_logger")

    def __init__(self, logger: logging.Logger, bound: Mapping[str, Any] | None = None) -> None:
        self._logger = logger
        self._bound = dict(bound or {})

    def bind(self, **fields: Any) -> EventLog:
        """The same logger with ``fields`` added to every event."""
        return EventLog(self._logger, {**self._bound, **fields})

    def debug(self, event: str, /, **fields: Any) -> None:
        self._log(logging.DEBUG, event, fields)

    def info(self, event: str, /, **fields: Any) -> None:
        self._log(logging.INFO, event, fields)

    def warning(self, event: str, /, **fields: Any) -> None:
        self._log(logging.WARNING, event, fields)

    def error(self, event: str, /, *, exc_info: BaseException | None = None,
              **fields: Any) -> None:
        self._log(logging.ERROR, event, fields, exc_info)

    def _log(self, level: int, event: str, fields: dict[str, Any],
             exc_info: BaseException | None = None) -> None:
        if not self._logger.isEnabledFor(level):
            return
        values = {**self._bound, **fields}
        text = " ".join(f"{key}={_text_value(value)}" for key, value in values.items())
        self._logger.log(level, "%s %s" if text else "%s", event, *([text] if text else []),
                         exc_info=exc_info, extra={_EVENT: event, _FIELDS: values})


def get_log(name: str) -> EventLog:
    """The event logger of a module (``feedsvc.<stage>``)."""
    return EventLog(logging.getLogger(name))


def _text_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.3f}"
    text = str(value)
    return orjson.dumps(text).decode() if not text or _NEEDS_QUOTES.search(text) else text


class TextFormatter(logging.Formatter):
    """``time LEVEL logger event key=value ...``, URL credentials cut out."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_userinfo(super().format(record))


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "event", ...key/values}``, one object a line, URL
    credentials cut out."""

    def format(self, record: logging.LogRecord) -> str:
        return redact_userinfo(self._format(record))

    def _format(self, record: logging.LogRecord) -> str:
        event = getattr(record, _EVENT, None)
        fields: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(), "logger": record.name, "event": event or "log",
        }
        if event is None:
            fields["message"] = record.getMessage()
        typed = getattr(record, _FIELDS, None)
        if isinstance(typed, dict):
            for key, value in typed.items():
                fields.setdefault(key, value)
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(fields, default=str).decode()


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
