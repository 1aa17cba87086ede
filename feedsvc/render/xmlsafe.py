"""Make any Python string safe to put into an XML 1.0 or JSON document.

Article text reaches rendering from many hands (upstream pages, feeds, the
store), and Python strings may hold code points no serializer accepts: C0
controls and lone surrogates make lxml raise and orjson refuse, and a single
one would otherwise break a whole feed. Every string a renderer writes passes
through :func:`xml_text` once, at this boundary.
"""

from __future__ import annotations

import re

# A surrogate pair that arrived as two code points (e.g. text decoded with
# "surrogatepass"): joined back into the one character it stands for.
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")

# What XML 1.0 forbids (Char production, section 2.2) plus what it discourages
# and readers display as garbage: C1 controls (except NEL, U+0085, which is a
# line break) and the noncharacters U+FDD0..U+FDEF, U+xFFFE and U+xFFFF.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f"
    "\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
    "|[\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff"
    "\U0004fffe\U0004ffff\U0005fffe\U0005ffff\U0006fffe\U0006ffff"
    "\U0007fffe\U0007ffff\U0008fffe\U0008ffff\U0009fffe\U0009ffff"
    "\U000afffe\U000affff\U000bfffe\U000bffff\U000cfffe\U000cffff"
    "\U000dfffe\U000dffff\U000efffe\U000effff\U000ffffe\U000fffff"
    "\U0010fffe\U0010ffff]"
)

_WHITESPACE = re.compile(r"\s+")


def _join_pair(match: re.Match[str]) -> str:
    high, low = (ord(unit) for unit in match.group())
    return chr(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))


def xml_text(text: str) -> str:
    """``text`` without the code points XML 1.0 forbids or discourages.

    Split surrogate pairs are joined, lone surrogates dropped. The result
    is valid in XML 1.0 and encodable as UTF-8, and cleaning it again
    changes nothing.
    """
    if text.isascii() and text.isprintable():
        return text  # the common case costs one scan
    return _UNSAFE.sub("", _SURROGATE_PAIR.sub(_join_pair, text))


def xml_line(text: str) -> str:
    """:func:`xml_text` for one-line fields (titles, names, tags): runs of
    whitespace, line breaks included, become one space; ends are trimmed."""
    return _WHITESPACE.sub(" ", xml_text(text)).strip()


def is_xml_safe(text: str) -> bool:
    """Whether ``text`` is already what :func:`xml_text` would return."""
    return xml_text(text) == text
