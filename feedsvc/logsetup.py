"""Logging: one event name plus key=value pairs a line, as text or as JSON objects.

Text (``[logging] format = "text"``)::

    2026-11-29 09:00:01,234 INFO feedsvc.scheduler poll.done source=rt-arabic outcome=ok new=3 ...

JSON (``format = "json"``), one object a line::

    {"ts": "...", "level": "info", "logger": "feedsvc.scheduler", "event": "poll.done",
     "source": "rt-arabic", "outcome": "ok", "new": 3, ...}

``log_event`` keeps the values typed for JSON (numbers stay numbers). Lines written
with plain ``log.info("event key=%s ...", ...)`` are split back into pairs; a value
without quotes runs up to the next `` key=``, so an error message with spaces
stays whole.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

_PAIR = re.compile(
    r"(\w+)=('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|.*?)(?=\s+\w+=|\s*$)", re.DOTALL)
_FIELDS = "feedsvc_fields"  # the LogRecord attribute log_event stores its values under
_NEEDS_QUOTES = re.compile(r"[\s'\"=]")


def log_event(logger: logging.Logger, level: int, event: str, **fields: Any) -> None:
    """Log ``event`` with typed key/values: ``key=value`` in text, fields in JSON."""
    if not logger.isEnabledFor(level):
        return
    text = " ".join(f"{key}={_text_value(value)}" for key, value in fields.items())
    logger.log(level, "%s %s", event, text, extra={_FIELDS: fields})


def _text_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:.3f}"
    text = str(value)
    return orjson.dumps(text).decode() if not text or _NEEDS_QUOTES.search(text) else text


class JsonFormatter(logging.Formatter):
    """``{"ts", "level", "logger", "event", ...key/values}``, one object a line."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        event, _, rest = message.partition(" ")
        fields: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(), "logger": record.name, "event": event,
        }
        typed = getattr(record, _FIELDS, None)
        if isinstance(typed, dict):
            for key, value in typed.items():
                fields.setdefault(key, value)
        else:
            for key, value in _PAIR.findall(rest):
                fields.setdefault(key, _unquote(value))
        if record.exc_info:
            fields["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(fields, default=str).decode()


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1].replace("\\" + value[0], value[0]).replace("\\\\", "\\")
    return value


def configure_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
