"""Step 4: generic main text, for pages the site's selectors do not fit.

Last in the chain because it guesses: it knows nothing of the template and
picks the container whose direct ``<p>`` children hold the most text, skipping
page chrome (navigation, asides, header, footer, comments, "read more" lists).
That is how the legacy template's ``div.article__text`` is found, and how a
redesign keeps producing articles until the selectors are updated. The title is
the first ``<h1>``; the date, a ``<time datetime>`` if there is one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from selectolax.lexbor import LexborHTMLParser, LexborNode

from feedsvc.extract import credit, dates
from feedsvc.extract.found import Found, Page, node_text

__all__ = ["find"]

_CHROME_TAGS = frozenset({"nav", "aside", "header", "footer", "form", "menu", "noscript", "template"})
_CHROME_MARKERS = ("comment", "footer", "sidebar", "related", "read-more", "share", "menu", "breadcrumb")
# Below this, the "body" is a copyright line or a caption, not an article.
_MIN_BODY_CHARS = 50


@dataclass(slots=True)
class _Container:
    paragraphs: list[LexborNode] = field(default_factory=list)
    chars: int = 0


def find(page: Page) -> Found:
    tree = page.tree
    body, credit_line = _body(tree)
    return Found(
        title=_first_h1(tree),
        body=body,
        credit=credit_line,
        published=_time(tree, page),
    )


def _body(tree: LexborHTMLParser) -> tuple[tuple[str, ...], str | None]:
    best = _densest(tree)
    if best is None or best.chars < _MIN_BODY_CHARS:
        return (), None
    paragraphs, credit_line = credit.split_credit(best.paragraphs)
    return tuple(p.html or "" for p in paragraphs), credit_line


def _densest(tree: LexborHTMLParser) -> _Container | None:
    containers: dict[int, _Container] = {}
    chrome: dict[int, bool] = {}
    for paragraph in tree.css("p"):
        parent = paragraph.parent
        if parent is None or _inside_chrome(parent, chrome):
            continue
        container = containers.setdefault(parent.mem_id, _Container())
        container.paragraphs.append(paragraph)
        container.chars += len(node_text(paragraph))
    return max(containers.values(), key=lambda c: c.chars, default=None)


def _inside_chrome(node: LexborNode, known: dict[int, bool]) -> bool:
    """Whether ``node`` or an ancestor is page chrome; ``known`` caches every node
    on the way up, so a deeply nested page costs one walk, not one per paragraph."""
    path: list[int] = []
    verdict = False
    current: LexborNode | None = node
    while current is not None and current.is_element_node and current.tag not in ("body", "html"):
        key = current.mem_id
        if key in known:
            verdict = known[key]
            break
        path.append(key)
        if _is_chrome(current):
            verdict = True
            break
        current = current.parent
    for key in path:
        known[key] = verdict
    return verdict


def _is_chrome(node: LexborNode) -> bool:
    if node.tag in _CHROME_TAGS:
        return True
    marks = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}".lower()
    return any(marker in marks for marker in _CHROME_MARKERS)


def _first_h1(tree: LexborHTMLParser) -> str | None:
    for node in tree.css("h1"):
        text = node_text(node)
        if text:
            return text
    return None


def _time(tree: LexborHTMLParser, page: Page) -> datetime | None:
    node = tree.css_first("time[datetime]")
    if node is None:
        return None
    return dates.parse_machine(node.attributes.get("datetime") or "", page.site_tz)
