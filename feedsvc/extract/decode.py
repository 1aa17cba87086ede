"""Page bytes → text, choosing the encoding the way a careful browser would.

First, a page without a byte-order mark that is valid UTF-8 and holds multi-byte
sequences is UTF-8, whatever its labels say: text in a single-byte code page almost
never forms valid UTF-8 by chance, while a UTF-8 page labelled windows-1256 decodes
"cleanly" in that code page into mojibake. Then, most trusted first, each tried
strictly (a decode error moves on):

1. the charset the HTTP response declared (``charset``), if any;
2. a byte-order mark;
3. ``<meta charset>`` / ``http-equiv`` in the first 2 KiB;
4. UTF-8, which the site uses;
5. UTF-8 with a few bad bytes (at most 1 in 100 non-ASCII characters) is a damaged
   UTF-8 page (a cut or spliced response): ``ExtractError``, so the pipeline keeps
   what it has and reads the page again later, rather than store a mangled text;
6. windows-1256: the usual wrong encoding for Arabic pages (old mirrors and
   copies), and a single-byte code page, so it always decodes. The result says
   so, and the provenance records it.

A header that names UTF-8 over windows-1256 bytes fails at step 1 and ends at
step 6, which is the case this order exists for.
"""

from __future__ import annotations

import codecs
import re

from feedsvc.errors import ExtractError

__all__ = ["decode_page"]

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_FALLBACK = "windows-1256"
# Python codecs that a label can name but no web page is written in: they
# rewrite escapes or domain names rather than map bytes to characters (and
# UTF-7 can smuggle markup past a check, which is why browsers dropped it).
_NOT_CHARSETS = frozenset({"unicode-escape", "raw-unicode-escape", "punycode", "idna", "utf-7", "undefined"})
# C0 controls other than tab, LF, FF, CR never occur in real HTML text.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0e-\x1f]")
_SAMPLE = 8192


def decode_page(page: bytes, charset: str | None) -> tuple[str, str]:
    """The page text and a note on how it was decoded (for provenance)."""
    if not page.startswith(tuple(bom for bom, _ in _BOMS)) and not page.isascii():
        text = _try_decode(page, "utf-8")
        if text is not None:
            _reject_binary(text)
            return text, "utf-8"
    for label, encoding in _candidates(page, charset):
        text = _try_decode(page, encoding)
        if text is not None:
            _reject_binary(text)
            return text, label
    text = page.decode("utf-8", errors="replace")
    if (bad := text.count("\ufffd")) <= sum(not c.isascii() for c in text) // 100:
        raise ExtractError(f"damaged page: {bad} bytes are not UTF-8 in a UTF-8 text")
    text = page.decode(_FALLBACK, errors="replace")
    _reject_binary(text)
    return text, f"{_FALLBACK} (utf-8 failed)"


def _candidates(page: bytes, charset: str | None) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if charset:
        found.append((f"{charset.lower()} (header)", charset))
    for bom, encoding in _BOMS:
        if page.startswith(bom):
            found.append((f"{encoding} (bom)", encoding))
    match = _META_CHARSET.search(page[:2048])
    if match:
        declared = match.group(1).decode("ascii", "replace")
        # A meta tag that claims UTF-16 in an ASCII-compatible file is wrong (HTML spec).
        if not declared.lower().startswith("utf-16"):
            found.append((f"{declared.lower()} (meta)", declared))
    found.append(("utf-8", "utf-8"))
    return found


def _try_decode(page: bytes, encoding: str) -> str | None:
    try:
        if codecs.lookup(encoding).name in _NOT_CHARSETS:
            return None
        return page.decode(encoding)
    except (ValueError, LookupError):  # ValueError covers UnicodeError from odd codecs
        return None


def _reject_binary(text: str) -> None:
    """Garbage bytes or UTF-16 without a BOM decode "successfully" into control characters."""
    sample = text[:_SAMPLE]
    controls = len(_CONTROLS.findall(sample))
    if sample and controls > max(8, len(sample) // 100):
        raise ExtractError(
            f"page is not text in a known encoding ({controls} control characters "
            f"in the first {len(sample)})"
        )
