"""Read a TOML file an operator wrote, within limits: no input crashes or stalls the reader.

``tomllib`` reads whatever size it is given, parses arrays and inline tables by
recursion (500 ``[`` reach Python's recursion limit), spends time quadratic
in the number of parts of a dotted key (5,000 parts: 17 s), and builds tables of any
depth, which later code would recurse through. So, in order:

1. the file must be a regular file no larger than the caller's limit (checked on the
   size the system reports, then on the bytes actually read);
2. the bytes must be UTF-8 (a fault names the line and column of the first bad byte);
3. a line with more than ``MAX_NESTING`` dots may hold a dotted key too long for
   ``tomllib``: then a scan that skips strings and comments measures how deep arrays
   and inline tables nest and how many dots a key has, and stops past ``MAX_NESTING``
   before ``tomllib`` sees the text;
4. ``tomllib`` parses it (its syntax errors keep their line and column; its recursion
   stops at Python's limit within milliseconds);
5. the parsed document's depth is measured without recursion, which catches depth
   built from several headers and keys, each within the limit.

Whenever steps 4 or 5 find a fault, the scan of step 3 runs too, and a fault it finds
comes first, with its line and column. A valid file, the usual case, is not scanned:
at 10,000 topics the scan costs a quarter of a second.

Every fault comes back as a :class:`Fault` value, never raised, for the caller to word
as ``file:line[:column]: reason``. ``shown`` and ``redact`` make any echoed value short
and free of URL credentials.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli as tomllib  # tomllib's upstream, compiled: the same parser, faster

__all__ = ["MAX_NESTING", "Fault", "one_line", "parse_toml", "read_toml_text", "redact", "short", "shown"]

# The deepest structure feedsvc's files need is 4 levels ([[sources]] → [sources.selectors]
# → section_names); 16 leaves room for any honest layout and stays far below the
# ~500 levels of arrays at which tomllib hits Python's recursion limit.
MAX_NESTING = 16
MAX_SHOWN_CHARS = 80

# A dotted key lies on one line: a line with fewer dots cannot hold one too long
_MANY_DOTS = re.compile(rf"^(?:[^.\n]*+\.){{{MAX_NESTING + 1}}}", re.MULTILINE)
_SCAN = re.compile(r"'''|\"\"\"|['\"#\[\]{}.=,\n]")
_BASIC_BODY = re.compile(r'(?:[^"\\\n]++|\\.)*+')
_MULTILINE_BASIC_BODY = re.compile(r'(?:[^"\\]++|\\.|"(?!""))*+', re.DOTALL)
_LITERAL_BODY = re.compile(r"[^'\n]*+")
_SYNTAX = re.compile(r"(.*) \(at line (\d+), column (\d+)\)", re.DOTALL)
_LONG_NUMBER = re.compile(r"[0-9][0-9_]{4299,}")
_USERINFO = re.compile(r"(?<=://)[^\s'\"]*@")
_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class Fault:
    """Why a file cannot be read; ``line``/``column`` (1-based) when the file has a spot,
    else ``keys``, the path inside the document, when there is one."""

    reason: str
    line: int | None = None
    column: int | None = None
    keys: tuple[str | int, ...] = ()


def read_toml_text(path: Path, max_bytes: int, limit_name: str) -> str | Fault:
    """The text of ``path``: a regular file of at most ``max_bytes`` bytes of UTF-8.

    ``limit_name`` ends the size fault, e.g. ``"(topics.max_file_bytes)"``.
    """
    try:
        info = path.stat()
    except OSError as exc:
        return Fault(f"cannot read the file: {exc.strerror or exc}")
    except ValueError:  # a NUL character in the path
        return Fault("cannot read the file: the path contains a NUL character")
    if not stat.S_ISREG(info.st_mode):
        return Fault("cannot read the file: not a regular file")
    if info.st_size > max_bytes:
        return Fault(f"{info.st_size} bytes: larger than the limit of {max_bytes} {limit_name}")
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # a file that grew since stat() is cut here
    except OSError as exc:
        return Fault(f"cannot read the file: {exc.strerror or exc}")
    if len(data) > max_bytes:
        return Fault(f"more than {max_bytes} bytes: larger than the limit of {max_bytes} {limit_name}")
    return decode_utf8(data)


def decode_utf8(data: bytes) -> str | Fault:
    """``data`` as text (a leading byte-order mark dropped), or where it stops being UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", "replace")) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        return Fault(f"not UTF-8 text: byte 0x{data[exc.start]:02x} ({exc.reason}); "
                     "save the file as UTF-8", line, column)
    return text.removeprefix("\ufeff")


def parse_toml(text: str) -> dict[str, Any] | Fault:
    """The document in ``text``, or the first reason it cannot be read."""
    if _MANY_DOTS.search(text) and (fault := _nesting_fault(text)) is not None:
        return fault
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return _nesting_fault(text) or _syntax_fault(text, exc)
    except RecursionError:
        return _nesting_fault(text) or Fault(
            f"values nested too deep to read (the limit is {MAX_NESTING})")
    except ValueError:  # int() refuses more than 4300 decimal digits
        found = _LONG_NUMBER.search(text)
        spot = _position(text, found.start()) if found else (None, None)
        return _nesting_fault(text) or Fault("a number with more than 4300 digits", *spot)
    if (fault := _depth_fault(document)) is not None:
        return _nesting_fault(text) or fault
    return document


def _nesting_fault(text: str) -> Fault | None:
    """The first ``[``/``{`` that opens level ``MAX_NESTING + 1``, or the first dot past
    ``MAX_NESTING`` in one dotted key, outside strings and comments.

    Table headers count too (``[[topics]]`` is 2 for a moment), which only makes the
    count higher. Dots are counted from the last ``=``, ``,``, bracket or line end:
    outside a key only a number or a time has a dot, and just one. The scan agrees
    with TOML's string and comment rules, so up to the first syntax error it sees
    exactly the brackets and dots ``tomllib`` would work on.
    """
    depth, dots, index = 0, 0, 0
    while (match := _SCAN.search(text, index)) is not None:
        token, index = match.group(), match.end()
        if token == ".":
            dots += 1
            if dots > MAX_NESTING:
                return Fault(f"a dotted key of more than {MAX_NESTING + 1} parts: deeper than "
                             f"the limit of {MAX_NESTING}", *_position(text, match.start()))
            continue
        if token in "=,\n[]{}":
            dots = 0
        if token in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return Fault(f"arrays and tables nested {depth} deep: deeper than the limit "
                             f"of {MAX_NESTING}", *_position(text, match.start()))
        elif token in "]}":
            depth = max(depth - 1, 0)
        elif token == "#":
            end = text.find("\n", index)
            index = len(text) if end < 0 else end
        elif token not in "=,\n":
            index = _string_end(text, index, token)
    return None


def _string_end(text: str, index: int, opening: str) -> int:
    """Where the string opened just before ``index`` ends (or where TOML would reject it)."""
    if opening == '"':
        end = _matched_end(_BASIC_BODY, text, index)
        return end + 1 if text.startswith('"', end) else end
    if opening == "'":
        end = _matched_end(_LITERAL_BODY, text, index)
        return end + 1 if text.startswith("'", end) else end
    if opening == '"""':
        end = _matched_end(_MULTILINE_BASIC_BODY, text, index)
    else:
        found = text.find("'''", index)
        end = len(text) if found < 0 else found
    quotes = 0  # the closing run may hold two quotes of content: """a""""" is 'a""'
    while quotes < 5 and text.startswith(opening[0], end + quotes):
        quotes += 1
    return end + quotes


def _matched_end(body: re.Pattern[str], text: str, index: int) -> int:
    match = body.match(text, index)
    return index if match is None else match.end()


def _position(text: str, index: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, index) + 1
    return text.count("\n", 0, index) + 1, index - line_start + 1


def _syntax_fault(text: str, exc: tomllib.TOMLDecodeError) -> Fault:
    found = _SYNTAX.fullmatch(str(exc))
    if found is not None:
        return Fault(found[1], int(found[2]), int(found[3]))
    lines = text.splitlines() or [""]
    reason = str(exc).replace(" (at end of document)", "")
    return Fault(f"{reason} (at end of file)", len(lines), len(lines[-1]) + 1)


def _depth_fault(document: dict[str, Any]) -> Fault | None:
    """Tables and arrays deeper than ``MAX_NESTING`` (dotted keys make them), found
    with an explicit stack: the document itself may be too deep to recurse through."""
    pending: list[tuple[object, tuple[str | int, ...]]] = [(document, ())]
    while pending:
        value, keys = pending.pop()
        if len(keys) > MAX_NESTING:
            return Fault(f"tables nested more than {MAX_NESTING} deep", keys=keys)
        children: Any = value.items() if isinstance(value, dict) else enumerate(value)  # type: ignore[arg-type]
        pending.extend((child, (*keys, key)) for key, child in children
                       if isinstance(child, dict | list))
    return None


def redact(text: str) -> str:
    """``text`` with the user and password of any ``scheme://user:pass@host`` cut out."""
    return _USERINFO.sub("…@", text)


def one_line(text: str) -> str:
    """``text`` with control characters and line breaks escaped (a quoted key may hold
    them), so a problem is always one line of a terminal or a log."""
    return _LINE_BREAKING.sub(_escaped, text)


def _escaped(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def shown(value: object) -> str:
    """A value as an error message may echo it: short, credential-free, never raising."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        return f"an array of {len(value)}"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return "a number too large"
    text = repr(redact(value) if isinstance(value, str) else value)
    return text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 1] + "…"


def short(name: str) -> str:
    """A key or name as written, cut to a readable length."""
    return name if len(name) <= MAX_SHOWN_CHARS else name[: MAX_SHOWN_CHARS - 1] + "…"
