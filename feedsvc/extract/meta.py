"""Step 2: OpenGraph and the plain ``<head>``: meta tags, ``<title>``, canonical link.

Second in the chain: OpenGraph is written for link previews, so it is as
deliberate as JSON-LD but poorer (no caption, no author name, tags only as
``article:tag``). ``<meta name="description">`` and ``<title>`` are the only
structured fields every template has, including the legacy one.
"""

from __future__ import annotations

from datetime import datetime

from selectolax.lexbor import LexborHTMLParser

from feedsvc.extract import dates
from feedsvc.extract.found import Found, Page, absolute_url, node_text
from feedsvc.normalize.html import clean_text

__all__ = ["find"]

_REPEATABLE = frozenset({"article:tag"})
# Between a page title and the site name: "title - RT Arabic", "title | RT Arabic".
_SEPARATORS = " -|–—:"


def find(page: Page) -> Found:
    tree = page.tree
    meta, tags = _read_meta(tree)
    return Found(
        title=_first(meta, "og:title", "twitter:title") or _title(tree, page.selectors.title_suffix),
        summary=_first(meta, "og:description", "description", "twitter:description"),
        author=_person(_first(meta, "author", "article:author")),
        section=_first(meta, "article:section"),
        tags=tags,
        image_url=_url(_first(meta, "og:image:secure_url", "og:image", "og:image:url"), page.url),
        published=_date(_first(meta, "article:published_time"), page),
        modified=_date(_first(meta, "article:modified_time", "og:updated_time"), page),
        canonical_url=_canonical(tree, page.url) or _url(_first(meta, "og:url"), page.url),
        language=_language(tree),
    )


def _read_meta(tree: LexborHTMLParser) -> tuple[dict[str, str], tuple[str, ...]]:
    """``property``/``name`` → first non-empty content, and all ``article:tag`` values in order."""
    meta: dict[str, str] = {}
    tags: list[str] = []
    # The whole document, not only <head>: broken templates emit OpenGraph in <body>.
    for node in tree.css("meta"):
        attributes = node.attributes
        key = (attributes.get("property") or attributes.get("name") or "").strip().lower()
        content = clean_text(attributes.get("content") or "")
        if not key or not content:
            continue
        if key in _REPEATABLE:
            if content not in tags:
                tags.append(content)
        else:
            meta.setdefault(key, content)
    return meta, tuple(tags)


def _first(meta: dict[str, str], *keys: str) -> str | None:
    for key in keys:
        if key in meta:
            return meta[key]
    return None


def _title(tree: LexborHTMLParser, suffix: str) -> str | None:
    """``<title>`` without the site name; a title that is only the site name is no title."""
    node = tree.css_first("title")
    if node is None:
        return None
    title = node_text(node)
    site_name = suffix.strip(_SEPARATORS)
    if site_name and title.endswith(site_name):
        title = title[: -len(site_name)].rstrip(_SEPARATORS)
    return title or None


def _person(value: str | None) -> str | None:
    # article:author is often a profile URL, which names nobody.
    if value is None or value.startswith(("http://", "https://", "/")):
        return None
    return value


def _url(value: str | None, base: str) -> str | None:
    return None if value is None else absolute_url(value, base)


def _date(value: str | None, page: Page) -> datetime | None:
    return None if value is None else dates.parse_machine(value, page.site_tz)


def _canonical(tree: LexborHTMLParser, base: str) -> str | None:
    for node in tree.css("link[rel]"):
        rels = (node.attributes.get("rel") or "").lower().split()
        if "canonical" in rels:
            return absolute_url(node.attributes.get("href") or "", base)
    return None


def _language(tree: LexborHTMLParser) -> str | None:
    root = tree.root
    lang = clean_text((root.attributes.get("lang") or "") if root is not None else "")
    return lang or None
