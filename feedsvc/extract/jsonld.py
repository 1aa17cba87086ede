"""Step 1: the JSON-LD ``NewsArticle`` block.

First in the chain because it is the one place where the site states its
fields for machines: full ISO dates with an offset, the section as a word,
tags as a list, the image with its caption, the author typed as a Person or an
Organization. It carries no usable body (``articleBody``, when present, is
plain text without links or paragraphs), so the body always comes from the
markup steps.

Pages hold several JSON-LD blocks (breadcrumbs, the organisation, the article),
sometimes in an ``@graph`` or a list; any of them may be malformed. Each block
is read on its own and a broken one is skipped.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from feedsvc.extract import dates
from feedsvc.extract.found import Found, Page, absolute_url
from feedsvc.normalize.html import clean_text

__all__ = ["find"]

# Preferred first: a page may also describe a generic WebPage or Article.
_ARTICLE_TYPES = ("NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle", "Article", "BlogPosting")
_MAX_NODES = 2000  # bounds the walk over a hostile document
_KEYWORD_SEPARATORS = str.maketrans({"،": ",", "؛": ","})


def find(page: Page) -> Found:
    article = _article(page)
    if article is None:
        return Found()
    image_url, caption = _image(article.get("image"), page.url)
    return Found(
        title=_text(article.get("headline")) or _text(article.get("name")),
        summary=_text(article.get("description")),
        author=_author(article.get("author")),
        section=_first_text(article.get("articleSection")),
        tags=_keywords(article.get("keywords")),
        image_url=image_url,
        image_caption=caption,
        published=_date(article.get("datePublished"), page),
        modified=_date(article.get("dateModified"), page),
        canonical_url=_url(_id(article.get("mainEntityOfPage")) or article.get("url"), page.url),
        language=_first_text(article.get("inLanguage")),
    )


def _article(page: Page) -> dict[str, Any] | None:
    best: tuple[int, dict[str, Any]] | None = None
    for node in page.tree.css("script"):
        if (node.attributes.get("type") or "").strip().lower() != "application/ld+json":
            continue
        for candidate in _objects(_load(node.text())):
            rank = _rank(candidate.get("@type"))
            if rank is not None and (best is None or rank < best[0]):
                best = (rank, candidate)
    return None if best is None else best[1]


def _load(text: str) -> object:
    try:
        # strict=False: raw newlines inside strings are common in hand-built JSON-LD.
        return json.loads(text, strict=False)
    except (ValueError, RecursionError):
        return None


def _objects(document: object) -> Iterator[dict[str, Any]]:
    """Every JSON object in the document, breadth first, at most ``_MAX_NODES``."""
    queue: deque[object] = deque([document])
    seen = 0
    while queue and seen < _MAX_NODES:
        value = queue.popleft()
        seen += 1
        if isinstance(value, dict):
            yield value
            queue.extend(v for v in value.values() if isinstance(v, dict | list))
        elif isinstance(value, list):
            queue.extend(value)


def _rank(kind: object) -> int | None:
    kinds = kind if isinstance(kind, list) else [kind]
    ranks = [_ARTICLE_TYPES.index(k) for k in kinds if isinstance(k, str) and k in _ARTICLE_TYPES]
    return min(ranks) if ranks else None


def _text(value: object) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return clean_text(str(value)) or None
    return None


def _first_text(value: object) -> str | None:
    if isinstance(value, list):
        return next((t for t in map(_text, value) if t), None)
    return _text(value)


def _id(value: object) -> object:
    return value.get("@id") if isinstance(value, dict) else value


def _url(value: object, base: str) -> str | None:
    return absolute_url(value, base) if isinstance(value, str) else None


def _date(value: object, page: Page) -> datetime | None:
    return dates.parse_machine(value, page.site_tz) if isinstance(value, str) else None


def _image(value: object, base: str) -> tuple[str | None, str | None]:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str):
        return _url(value, base), None
    if isinstance(value, dict):
        return _url(value.get("url") or value.get("contentUrl"), base), _text(value.get("caption"))
    return None, None


def _author(value: object) -> str | None:
    """Names of the Person authors; an Organization author (the site itself) credits nobody."""
    people = value if isinstance(value, list) else [value]
    names: list[str] = []
    for person in people:
        if isinstance(person, dict) and person.get("@type") in ("Person", None):
            name = _text(person.get("name"))
        else:
            name = _text(person)
        if name and name not in names:
            names.append(name)
    return "، ".join(names) or None


def _keywords(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        items: list[object] = list(value.translate(_KEYWORD_SEPARATORS).split(","))
    elif isinstance(value, list):
        items = list(value)
    else:
        items = []
    names: list[str] = []
    for item in items:
        name = _text(item)
        if name and name not in names:
            names.append(name)
    return tuple(names)
