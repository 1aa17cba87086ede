"""Durations as operators write them: ``"90s"``, ``"5m"``, ``"1h"``, ``"7d"`` or integer seconds."""

from __future__ import annotations

import re
from datetime import timedelta

from feedsvc.tomlfile import shown

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")


# timedelta() overflows near 2.7 million years; no interval in feedsvc needs a century.
MAX_SECONDS = 100 * 365 * 86400


def parse_duration(value: object) -> timedelta:
    """Parse a duration; raises ValueError with a reason an operator can act on."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as '5m', not a boolean")
    if isinstance(value, int | float):
        return _bounded(value)
    if not isinstance(value, str):
        raise ValueError(f"expected a duration such as '5m', got {type(value).__name__}")
    text = value.strip().lower().replace(" ", "")
    if text.isdigit():
        return _bounded(int(text) if len(text) <= 20 else float("inf"))
    parts = _PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"{shown(value)} is not a duration; use e.g. '90s', '5m', '1h', '7d'")
    return _bounded(sum(float(n) * _UNITS[u] for n, u in parts))


def _bounded(seconds: float) -> timedelta:
    if seconds != seconds:  # NaN
        raise ValueError("expected a duration such as '5m', not NaN")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    if seconds > MAX_SECONDS:
        raise ValueError("a duration longer than 100 years")
    return timedelta(seconds=seconds)
