"""Decoding XML and HTML bodies: which charset, in which order, and a safe fallback.

Order, and why:

1. A byte-order mark. It cannot be there by accident, and the HTML standard lets it
   override everything else.
2. The ``charset`` of the Content-Type header, when Python knows the label and the
   body decodes with it cleanly. HTTP outranks the document (RFC 7303, HTML).
3. The document's own declaration in its first 2 KiB: ``<?xml encoding=...?>``,
   ``<meta charset=...>`` or ``<meta http-equiv=Content-Type content=...>``.
4. UTF-8, which the site uses, then windows-1256, the legacy Arabic code page.
5. UTF-8 with replacement characters, so decoding never fails.

A label that is unknown, or that does not decode the body, is skipped rather than
trusted: a wrong header must not turn Arabic text into mojibake or an error.
ISO-8859-1, US-ASCII and windows-1252 are server defaults far more often than real
choices, and every byte "decodes" in them, so they are tried only after UTF-8 failed.
"""

from __future__ import annotations

import codecs
import re

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_PRESCAN_BYTES = 2048
_DECLARATIONS = (
    re.compile(rb"<\?xml[^>]*?\bencoding\s*=\s*[\"']([A-Za-z0-9._:-]+)", re.IGNORECASE),
    re.compile(rb"<meta[^>]*?\bcharset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.IGNORECASE),
)
_WEAK = frozenset({"cp1252", "iso8859-1", "ascii"})
# Labels that name a 16/32-bit encoding cannot be declared inside an ASCII-compatible
# prescan; HTML says to read them as UTF-8.
_WIDE = ("utf-16", "utf-32")


def decode_text(body: bytes, content_type_charset: str | None) -> tuple[str, str]:
    """Decode an XML/HTML body; returns the text and the codec name actually used."""
    for bom, charset in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(charset, errors="replace"), charset
    labels = [_codec_name(content_type_charset), _codec_name(declared_charset(body))]
    strong = [label for label in labels if label and label not in _WEAK]
    weak = [label for label in labels if label in _WEAK]
    for codec in (*strong, "utf-8", *weak, "cp1256"):
        decoded = _try_decode(body, codec)
        if decoded is not None:
            return decoded
    return body.decode("utf-8", errors="replace"), "utf-8"


def declared_charset(body: bytes) -> str | None:
    """The charset the document declares in its first bytes, if any."""
    head = body[:_PRESCAN_BYTES]
    for pattern in _DECLARATIONS:
        match = pattern.search(head)
        if match:
            label = match.group(1).decode("ascii").lower()
            return "utf-8" if label.startswith(_WIDE) else label
    return None


def _try_decode(body: bytes, codec: str) -> tuple[str, str] | None:
    try:
        return body.decode(codec), codec
    except UnicodeDecodeError:
        return None


def _codec_name(label: str | None) -> str | None:
    if not label:
        return None
    label = label.strip().lower()
    # WHATWG reads these labels as windows-1252 and the web relies on it; so do we.
    if label in ("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii"):
        label = "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None
