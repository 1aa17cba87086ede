"""What one extraction step found, and how the steps' findings are merged.

Each step returns a ``Found`` with the fields it could read and leaves the rest
empty. ``merge`` walks the steps in chain order and, per field, keeps the first
non-empty value, remembering which step supplied it. The body and its credit
line travel together: the credit is cut from the paragraphs the body came from,
so it is taken from the same step and never from another.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from feedsvc.normalize.html import clean_text

if TYPE_CHECKING:
    from feedsvc.extract.selectors import Selectors

__all__ = ["FIELD_NAMES", "Found", "Page", "absolute_url", "merge", "missing", "node_text"]


@dataclass(frozen=True, slots=True)
class Page:
    """One parsed page and what the steps need to read it."""

    tree: LexborHTMLParser
    url: str  # the page URL, base for relative URLs
    site_tz: tzinfo
    selectors: Selectors


@dataclass(frozen=True, slots=True)
class Found:
    title: str | None = None
    summary: str | None = None
    body: tuple[str, ...] = ()  # paragraph HTML, credit line removed
    credit: str | None = None
    author: str | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()
    image_url: str | None = None
    image_caption: str | None = None
    published: datetime | None = None  # aware UTC
    modified: datetime | None = None  # aware UTC
    canonical_url: str | None = None
    language: str | None = None


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Found))
# Filled from the step that supplied ``body``, never on its own.
_FOLLOWS_BODY = frozenset({"credit"})


def missing(found: Found, names: frozenset[str]) -> bool:
    """True when one of ``names`` is still empty, i.e. a step offering them could help."""
    return any(not getattr(found, name) for name in names)


def merge(results: list[tuple[str, Found]]) -> tuple[Found, dict[str, str]]:
    """First non-empty value per field in chain order, and the step name per field."""
    values: dict[str, object] = {}
    provenance: dict[str, str] = {}
    for step, found in results:
        for name in FIELD_NAMES:
            if name in values or name in _FOLLOWS_BODY:
                continue
            value = getattr(found, name)
            if value:
                values[name] = value
                provenance[name] = step
                if name == "body" and found.credit:
                    values["credit"] = found.credit
                    provenance["credit"] = step
    return Found(**values), provenance  # type: ignore[arg-type]


def node_text(node: LexborNode) -> str:
    """The element's text as one clean line."""
    return clean_text(node.text(deep=True))


def absolute_url(value: str, base: str) -> str | None:
    """``value`` resolved against ``base`` if the result is http(s); None otherwise."""
    value = clean_text(value)
    if not value:
        return None
    try:
        joined = urljoin(base, value)
        scheme = urlsplit(joined).scheme
    except ValueError:  # e.g. a malformed IPv6 host
        return None
    return joined if scheme in ("http", "https") else None
