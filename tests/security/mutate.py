"""Mutations of a TOML file, the kinds an editor, a disk or an attacker makes.

Each mutation is a function ``(data, rng) -> data`` over the file's bytes, driven by
a ``random.Random`` so a run is reproducible from its seed. They aim at the reader's
weak spots: bytes that are not UTF-8 or are NULs, truncation, duplicated lines
(duplicate keys and tables), deep nesting (brackets, inline tables, dotted keys),
values of the wrong type anywhere, stray table headers, huge values and URLs with
credentials.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

Mutation = Callable[[bytes, random.Random], bytes]

_ASSIGNMENT = re.compile(rb"(?m)^[ \t]*[A-Za-z0-9_.\"'-]+[ \t]*=[ \t]*")
_KEY = re.compile(rb"(?m)^[ \t]*([A-Za-z0-9_-]+)[ \t]*=")
SPECIAL_BYTES = b"\x00\x01\x7f\x80\xc3\xe2\xff\xfe[]{}\"'=.,#\n\r\\\t "
DEPTHS = (1, 3, 17, 40, 400, 5000)
VALUES = (
    b"[]", b"{}", b'[1, "a", [2]]', b"{ a = 1, b = { c = [] } }", b"1", b"-1", b"0",
    b"1.5", b"-0.0", b"1e999", b"nan", b"-inf", b"9" * 30, b"0x" + b"f" * 40, b"0x" + b"f" * 4000, b"1" * 5000,
    b"true", b"1979-05-27T07:32:00Z", b"07:32:00", b"1979-05-27", b'""', b'"x"',
    b'"\\u0000"', b'"a\\nb"', b'"\\u202e"', b'"' + b"x" * 5000 + b'"',
    b'"https://user:hunter2@example.org"', b'"user:bare-secret@example.org"',
    b'["https://user:hunter2@example.org/rss/"]', b'"http://[::1"', b'"http://h:port"',
    b'"Europe"', b'"../../etc/passwd"', b"'''\nmulti\nline'''", b'"5 minutes"', b'"99999999999d"',
    b'"(\\u063a\\u0632\\u0629"', b'"NOT x"', b'"' + "غزة ".encode() * 700 + b'"',
)
HEADERS = (
    b"[server]", b"[[server]]", b"[sources]", b"[[sources]]", b"[sources.selectors]",
    b"[[sources.selectors]]", b"[topics]", b"[[topics]]", b"[topics.x]", b"[a.b.c]",
    b"[dedupe]", b'["quoted\\nkey"]', b"[fetch.x.y]",
)


def flip_bit(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    index = rng.randrange(len(data))
    return data[:index] + bytes([data[index] ^ (1 << rng.randrange(8))]) + data[index + 1:]


def insert_byte(data: bytes, rng: random.Random) -> bytes:
    index = rng.randrange(len(data) + 1)
    byte = rng.choice(SPECIAL_BYTES) if rng.random() < 0.8 else rng.randrange(256)
    return data[:index] + bytes([byte]) + data[index:]


def insert_junk(data: bytes, rng: random.Random) -> bytes:
    index = rng.randrange(len(data) + 1)
    return data[:index] + rng.randbytes(rng.randint(1, 64)) + data[index:]


def delete_range(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    start = rng.randrange(len(data))
    return data[:start] + data[start + rng.randint(1, 40):]


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def duplicate_lines(data: bytes, rng: random.Random) -> bytes:
    lines = data.splitlines(keepends=True)
    if not lines:
        return data
    start = rng.randrange(len(lines))
    block = lines[start : start + rng.randint(1, 6)]
    at = rng.randrange(len(lines) + 1)
    return b"".join(lines[:at] + block + lines[at:])


def swap_lines(data: bytes, rng: random.Random) -> bytes:
    lines = data.splitlines(keepends=True)
    if len(lines) < 2:
        return data
    a, b = rng.sample(range(len(lines)), 2)
    lines[a], lines[b] = lines[b], lines[a]
    return b"".join(lines)


def _value_span(data: bytes, rng: random.Random) -> tuple[int, int] | None:
    """Start and end (the line's end) of a random assignment's value."""
    found = list(_ASSIGNMENT.finditer(data))
    if not found:
        return None
    start = rng.choice(found).end()
    end = data.find(b"\n", start)
    return start, len(data) if end < 0 else end


def swap_value(data: bytes, rng: random.Random) -> bytes:
    span = _value_span(data, rng)
    if span is None:
        return data
    return data[: span[0]] + rng.choice(VALUES) + data[span[1]:]


def nest_value(data: bytes, rng: random.Random) -> bytes:
    span = _value_span(data, rng)
    if span is None:
        return data
    depth = rng.choice(DEPTHS)
    opening, closing = (b"[", b"]") if rng.random() < 0.5 else (b"{ a = ", b" }")
    value = data[span[0]:span[1]] if rng.random() < 0.5 else b"1"
    unclosed = rng.random() < 0.2
    return data[: span[0]] + opening * depth + value + (b"" if unclosed else closing * depth) + data[span[1]:]


def dotted_key(data: bytes, rng: random.Random) -> bytes:
    found = list(_KEY.finditer(data))
    if not found:
        return data
    key = rng.choice(found)
    return data[: key.end(1)] + b".k" * rng.choice(DEPTHS) + data[key.end(1):]


def insert_header(data: bytes, rng: random.Random) -> bytes:
    lines = data.splitlines(keepends=True)
    at = rng.randrange(len(lines) + 1)
    header = rng.choice(HEADERS)
    extra = b"" if rng.random() < 0.5 else b"name = " + rng.choice(VALUES) + b"\n"
    return b"".join(lines[:at] + [header + b"\n" + extra] + lines[at:])


def strip_quotes(data: bytes, rng: random.Random) -> bytes:
    quotes = [index for index, byte in enumerate(data) if byte in b"\"'"]
    if not quotes:
        return data
    index = rng.choice(quotes)
    return data[:index] + data[index + 1:]


def assign(data: bytes, rng: random.Random, keys: tuple[str, ...]) -> bytes:
    """An odd value for one of ``keys`` (``table.key``, ``[table].key`` for an array of
    tables, or a top-level ``key``): its first assignment after the table's header gets
    the value, or a new line right under the header (the file's end if it has none)."""
    table, _, key = rng.choice(keys).rpartition(".")
    value = rng.choice(VALUES)
    header = re.search(rb"(?m)^\[" + re.escape(table.encode()) + rb"\][ \t]*\n", data) if table else None
    if table and header is None:
        return data + b"\n[" + table.encode() + b"]\n" + key.encode() + b" = " + value + b"\n"
    at = header.end() if header else 0
    existing = re.compile(rb"(?m)^[ \t]*" + re.escape(key.encode()) + rb"[ \t]*=[ \t]*").search(data, at)
    if existing is not None:
        end = data.find(b"\n", existing.end())
        return data[: existing.end()] + value + (data[end:] if end >= 0 else b"")
    return data[:at] + key.encode() + b" = " + value + b"\n" + data[at:]


MUTATIONS: tuple[Mutation, ...] = (
    flip_bit, insert_byte, insert_junk, delete_range, truncate, duplicate_lines, swap_lines,
    swap_value, swap_value, nest_value, dotted_key, insert_header, strip_quotes,
)


def mutate(data: bytes, rng: random.Random, rounds: int, keys: tuple[str, ...] = ()) -> bytes:
    """``data`` after ``rounds`` mutations chosen by ``rng``; with ``keys``, a third of them
    write an odd value to one of those keys."""
    for _ in range(rounds):
        if keys and rng.random() < 0.33:
            data = assign(data, rng, keys)
        else:
            data = rng.choice(MUTATIONS)(data, rng)
    return data
