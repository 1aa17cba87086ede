"""Extract: one article page (bytes or text) → ``RawArticle``.

Entry point: ``extract_article(page, url, now=...)``. Pure: it never fetches,
never reads the clock, and raises nothing but ``ExtractError`` whatever the
bytes.

The page is decoded (``decode``), parsed once with Lexbor (selectolax), and the
tree is handed to four steps in turn. Each step reads what it can; a later step
only fills fields the earlier ones left empty:

1. ``jsonld``    the ``NewsArticle`` block: written for machines, exact dates,
                 typed author, image caption. Most trusted, but has no body.
2. ``meta``      OpenGraph, ``<meta name=description>``, ``<title>``, canonical
                 link: also for machines, poorer, and on more page versions.
3. ``selectors`` the site's own markup through configurable CSS selectors: the
                 source of the body and credit line, the visible date, tags
                 when the structured blocks are missing.
4. ``fallback``  generic main text (densest ``<p>`` container, first ``<h1>``):
                 survives a redesign or an old template, but guesses.

A step whose fields are all filled already is not run: on a complete modern
page the fallback, the one step that scores every paragraph, never runs.

Then the dates are clamped to ``now`` and the result is checked: a page without
a title or without body text is an ``ExtractError`` naming what is missing and
what was tried. ``RawArticle.provenance`` lists the step behind each field and
how the bytes were decoded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from feedsvc.errors import ExtractError
from feedsvc.extract import dates, fallback, jsonld, meta, selectors
from feedsvc.extract.decode import decode_page
from feedsvc.extract.found import Found, Page, merge, missing
from feedsvc.extract.selectors import DEFAULT_SELECTORS, Selectors, selectors_from_mapping
from feedsvc.models import Image, RawArticle

__all__ = [
    "DEFAULT_SELECTORS",
    "SITE_TZ",
    "Selectors",
    "extract_article",
    "selectors_from_mapping",
]

SITE_TZ = ZoneInfo("Europe/Moscow")
# Far larger than any article page; bounds the parse of a hostile response.
MAX_PAGE_CHARS = 10_000_000

_Step = tuple[str, Callable[[Page], Found], frozenset[str]]
# (name, reader, fields it can supply): the chain order explained above.
STEPS: tuple[_Step, ...] = (
    ("jsonld", jsonld.find, frozenset({
        "title", "summary", "author", "section", "tags", "image_url", "image_caption",
        "published", "modified", "canonical_url", "language"})),
    ("meta", meta.find, frozenset({
        "title", "summary", "author", "section", "tags", "image_url", "published",
        "modified", "canonical_url", "language"})),
    ("selectors", selectors.find, frozenset({
        "title", "summary", "body", "author", "section", "tags", "image_url",
        "image_caption", "published"})),
    ("fallback", fallback.find, frozenset({"title", "body", "published"})),
)


def extract_article(
    page: bytes | str,
    url: str,
    *,
    now: datetime,
    site_tz: tzinfo = SITE_TZ,
    selectors: Selectors = DEFAULT_SELECTORS,
    charset: str | None = None,
) -> RawArticle:
    """Read one article page; ``url`` is the page URL, ``now`` an aware datetime.

    ``charset`` is what the HTTP response declared, if anything. Raises
    ``ExtractError`` when the page has no title or no body text, or is not text.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")  # a caller's bug, not a page fault
    text, encoding = _decode(page, charset)
    tree = _parse(text, url)
    found, provenance = _run_steps(Page(tree, url, site_tz, selectors))
    _require(found, url)
    published = dates.clamp(found.published, now)
    modified = dates.clamp(found.modified, now)
    if published is not None and modified is not None and modified < published:
        modified = published  # an edit cannot precede publication
    return RawArticle(
        url=_article_url(found.canonical_url, url),
        title=found.title,
        summary=found.summary,
        body_html="\n".join(found.body),
        credit=found.credit,
        author=found.author,
        section=found.section,
        tags=found.tags,
        image=Image(found.image_url, found.image_caption or "") if found.image_url else None,
        published=published,
        modified=modified,
        language=found.language,
        provenance=(("encoding", encoding), *sorted(_public(provenance).items())),
    )


def _decode(page: bytes | str, charset: str | None) -> tuple[str, str]:
    if isinstance(page, str):
        text, encoding = page, "text"
    else:
        text, encoding = decode_page(page, charset)
    if len(text) > MAX_PAGE_CHARS:
        raise ExtractError(f"page too large: {len(text)} characters")
    return text.removeprefix("\ufeff"), encoding


def _parse(text: str, url: str) -> LexborHTMLParser:
    if not text.strip():
        raise ExtractError(f"{url}: empty page")
    try:
        # Lone surrogates (only possible in str input) cannot be encoded for Lexbor.
        return LexborHTMLParser(text.encode("utf-8", "replace"))
    except (SelectolaxError, ValueError, MemoryError) as exc:
        raise ExtractError(f"{url}: page could not be parsed: {exc}") from exc


def _run_steps(page: Page) -> tuple[Found, dict[str, str]]:
    results: list[tuple[str, Found]] = []
    merged = Found()
    provenance: dict[str, str] = {}
    for name, read, offers in STEPS:
        if not missing(merged, offers):
            continue  # every field this step could give is already filled
        results.append((name, read(page)))
        merged, provenance = merge(results)
    return merged, provenance


def _require(found: Found, url: str) -> None:
    tried = ", ".join(name for name, _, _ in STEPS)
    if not found.title:
        raise ExtractError(f"{url}: no title found (tried {tried})")
    if not found.body:
        raise ExtractError(f"{url}: no body text found (tried selectors, fallback)")


def _article_url(canonical: str | None, page_url: str) -> str:
    """The canonical URL when it names the same host; a page cannot claim another site's URL."""
    if canonical is None:
        return page_url
    try:
        same_host = urlsplit(canonical).hostname == urlsplit(page_url).hostname
    except ValueError:
        return page_url
    return canonical if same_host else page_url


def _public(provenance: dict[str, str]) -> dict[str, str]:
    """Provenance keyed by RawArticle field names."""
    renamed = {"body": "body_html", "canonical_url": "url", "image_url": "image"}
    return {renamed.get(name, name): step for name, step in provenance.items()}
