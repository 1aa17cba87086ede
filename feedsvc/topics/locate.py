"""Where things are in a topics file: ``tomllib`` gives values, not positions.

A light line scanner finds each ``[[topics]]`` header and the first character of
each key's value, and ``string_spot`` maps an offset inside a decoded TOML string
back to the file (escapes, ``\\uXXXX``, line-ending backslashes and the newline
trimmed after an opening triple quote are all accounted for). Lines and columns are
1-based and count characters, as ``tomllib`` does.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

__all__ = ["Spot", "TableSpots", "scan_tables", "string_spot"]

_HEADER_RE = re.compile(r"\s*\[\[\s*topics\s*\]\]")
_OTHER_TABLE_RE = re.compile(r"\s*\[")
_KEY_RE = re.compile(r"\s*([A-Za-z0-9_-]+)\s*=\s*")
_ESCAPE_WIDTH = {"u": 6, "U": 10}


@dataclass(frozen=True, slots=True)
class Spot:
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class TableSpots:
    """One ``[[topics]]`` table: its header and, per key, the start of the value."""

    header: Spot
    values: dict[str, Spot] = field(default_factory=dict)


def scan_tables(text: str) -> tuple[dict[str, Spot], list[TableSpots]]:
    """Top-level key spots and one ``TableSpots`` per ``[[topics]]``, in file order."""
    top: dict[str, Spot] = {}
    tables: list[TableSpots] = []
    current: dict[str, Spot] | None = top
    open_quote: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if open_quote is not None:
            open_quote = None if open_quote in line else open_quote
            continue
        if _HEADER_RE.match(line):
            tables.append(TableSpots(Spot(number, line.index("[") + 1)))
            current = tables[-1].values
        elif _OTHER_TABLE_RE.match(line):
            current = None
        elif (key := _KEY_RE.match(line)) is not None:
            if current is not None:
                current.setdefault(key.group(1), Spot(number, key.end() + 1))
            open_quote = _opens_multiline(line[key.end() :])
    return top, tables


def _opens_multiline(value: str) -> str | None:
    for quote in ('"""', "'''"):
        if value.startswith(quote) and quote not in value[3:]:
            return quote
    return None


def string_spot(text: str, value: Spot, offset: int) -> Spot:
    """The file position of character ``offset`` of the string value starting at ``value``.

    Falls back to ``value`` itself when the value is not a string the scanner reads.
    """
    starts = [0] + [m.end() for m in re.finditer(r"\n", text)]
    if value.line > len(starts):
        return value
    begin = starts[value.line - 1] + value.column - 1
    index = _walk(text, begin, offset)
    if index is None:
        return value
    line = bisect.bisect_right(starts, index)
    return Spot(line, index - starts[line - 1] + 1)


def _walk(text: str, begin: int, offset: int) -> int | None:
    """Raw index of decoded character ``offset`` of the TOML string at ``begin``."""
    delimiter = next((d for d in ('"""', "'''", '"', "'") if text.startswith(d, begin)), None)
    if delimiter is None:
        return None
    index = begin + len(delimiter)
    multiline, basic = len(delimiter) == 3, delimiter[0] == '"'
    if multiline:
        index += 2 if text.startswith("\r\n", index) else int(text.startswith("\n", index))
    decoded = 0
    while index < len(text) and not text.startswith(delimiter, index):
        if basic and multiline and _is_line_continuation(text, index):
            index = _skip_space(text, index + 1)
            continue
        if decoded == offset:
            return index
        index += _raw_width(text, index, basic)
        decoded += 1
    return index if decoded == offset else None


def _raw_width(text: str, index: int, basic: bool) -> int:
    if basic and text[index] == "\\":
        return _ESCAPE_WIDTH.get(text[index + 1 : index + 2], 2)
    return 2 if text.startswith("\r\n", index) else 1


def _is_line_continuation(text: str, index: int) -> bool:
    if text[index] != "\\":
        return False
    rest = text[index + 1 :].lstrip(" \t")
    return rest.startswith(("\n", "\r\n"))


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index] in " \t\r\n":
        index += 1
    return index
