"""Durations as operators write them: ``"90s"``, ``"5m"``, ``"1h"``, ``"7d"`` or integer seconds."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


def parse_duration(value: object) -> timedelta:
    """Parse a duration; raises ValueError with a reason an operator can act on."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '5m', not a boolean")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return timedelta(seconds=value)
    if not isinstance(value, str):
        raise ValueError(f"expected a duration such as '5m', got {type(value).__name__}")
    text = value.strip().lower().replace(" ", "")
    if text.isdigit():
        return timedelta(seconds=int(text))
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{value!r} is not a duration; use e.g. '90s', '5m', '1h', '7d'")
    return timedelta(seconds=sum(float(n) * _UNITS[u] for n, u in parts))
