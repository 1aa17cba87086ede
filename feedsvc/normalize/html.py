"""Article HTML for serving: sanitize, absolutize, tidy, wrap.

Entry points:

- ``clean_body(body_html, base_url) -> CleanContent``: the article body as safe
  HTML wrapped in ``<div dir="rtl" lang="ar">`` plus its plain text.
- ``clean_text(s) -> str``: the character-level cleanup on its own, for titles,
  summaries, captions and tags.

Sanitizing is nh3's job (ammonia, an allowlist sanitizer); this module only
chooses the allowlist and tidies what nh3 returns. The order matters:

1. characters nh3 cannot take (lone surrogates) or XML cannot carry are removed
   from the input first;
2. nh3 drops everything outside the allowlist (scripts, styles, iframes, event
   handlers, unknown URL schemes);
3. the sanitized fragment is parsed once more (selectolax) to clean each text
   node and attribute, make URLs absolute, and drop empty paragraphs. This runs
   after nh3, so entities such as ``&nbsp;`` or ``&#x200f;`` are already
   characters and nothing is rewritten in markup that is about to be dropped.

``clean_body`` is idempotent: ``clean_body(clean_body(x, b).html, b) ==
clean_body(x, b)``. Its own wrapper needs no special case: ``div`` is not in the
allowlist, so nh3 unwraps it and the same content is wrapped again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import nh3
from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = ["ALLOWED_TAGS", "CleanContent", "clean_body", "clean_text"]

WRAPPER_OPEN = '<div dir="rtl" lang="ar">'
WRAPPER_CLOSE = "</div>"

ALLOWED_TAGS = frozenset({
    "p", "br", "a", "img", "figure", "figcaption", "blockquote", "q", "cite",
    "ul", "ol", "li", "em", "strong", "b", "i", "sub", "sup", "span",
})
_ALLOWED_ATTRIBUTES = {
    "*": {"dir", "lang"},
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "blockquote": {"cite"},
    "q": {"cite"},
}
# Removed with their content: their text is code, or a page inside the page.
_DROP_WITH_CONTENT = {
    "script", "style", "iframe", "object", "embed", "noscript", "template",
    "svg", "math", "form", "select", "textarea", "button",
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
_URL_ATTRIBUTES = ("href", "src", "cite")
_MAY_BE_EMPTY = ALLOWED_TAGS - {"img", "br"}
_BLOCKS = frozenset({"p", "li", "blockquote", "figure", "figcaption", "ul", "ol", "div"})

# Not allowed in XML 1.0 (C0 controls but tab/LF/CR, surrogates, U+FFFE/U+FFFF).
_XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Zero-width and direction controls: invisible, and they break matching and
# bidi layout of the reader's own page. The wrapper's dir attribute carries direction.
_INVISIBLE = re.compile("[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_SPACES = re.compile(r"\s+")
_LANG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
_DIRS = frozenset({"rtl", "ltr", "auto"})


@dataclass(frozen=True, slots=True)
class CleanContent:
    html: str  # sanitized, wrapped in <div dir="rtl" lang="ar">
    text: str  # plain text, paragraphs separated by blank lines


def clean_text(s: str) -> str:
    """One line of plain text: invisible and XML-invalid characters removed, whitespace collapsed."""
    return _SPACES.sub(" ", _strip_chars(s)).strip()


def clean_body(body_html: str, base_url: str) -> CleanContent:
    """Sanitize an article body fragment; relative URLs are resolved against ``base_url``."""
    sanitized = nh3.clean(
        # nh3 cannot take lone surrogates; the other XML-invalid characters go with them.
        _XML_INVALID.sub("", body_html),
        tags=set(ALLOWED_TAGS),
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes=_ALLOWED_ATTRIBUTES,
        attribute_filter=_filter_attribute,
        url_schemes=set(URL_SCHEMES),
        # No target attribute is allowed, so rel=noopener would guard nothing.
        link_rel=None,
        strip_comments=True,
    )
    # div is not in the allowlist, so nh3's output cannot close this wrapper early.
    tree = LexborHTMLParser(f"<div>{sanitized}</div>", is_fragment=True)
    root = tree.css_first("div")
    if root is None:  # pragma: no cover - the wrapper is always there
        return CleanContent(WRAPPER_OPEN + WRAPPER_CLOSE, "")
    _tidy(root, base_url)
    inner = root.inner_html or ""
    return CleanContent(WRAPPER_OPEN + inner + WRAPPER_CLOSE, _plain_text(root))


def _strip_chars(s: str) -> str:
    return _INVISIBLE.sub("", _XML_INVALID.sub("", s))


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    """Keep ``dir`` and ``lang`` only with values a browser understands."""
    if attribute == "dir":
        lowered = value.strip().lower()
        return lowered if lowered in _DIRS else None
    if attribute == "lang":
        return value.strip() if _LANG.fullmatch(value.strip()) else None
    return value


def _tidy(root: LexborNode, base_url: str) -> None:
    for node in root.traverse():
        if node != root:  # selectolax hands out a new wrapper per visit: compare, not `is`
            _clean_attributes(node, base_url)
    for node in root.css("img"):
        if not node.attributes.get("src"):
            node.decompose()
    _drop_empty(root)
    # Removals leave neighbouring text nodes; merged first so whitespace collapses
    # across the seam and a second pass finds nothing to change.
    root.merge_text_nodes()
    for node in list(root.traverse(include_text=True)):
        if node.is_text_node:
            _clean_text_node(node)
    # Whitespace beside top-level blocks is source formatting, not content;
    # between two inline elements it separates words and stays.
    for node in list(root.iter(include_text=True)):
        if node.is_text_node and not (node.text_content or "").strip():
            if _is_block_or_edge(node.prev) or _is_block_or_edge(node.next):
                node.decompose()


def _is_block_or_edge(node: LexborNode | None) -> bool:
    return node is None or node.tag in _BLOCKS


def _clean_text_node(node: LexborNode) -> None:
    raw = node.text_content or ""
    cleaned = _SPACES.sub(" ", _strip_chars(raw))
    if cleaned != raw:
        node.replace_with(cleaned)


def _clean_attributes(node: LexborNode, base_url: str) -> None:
    for name, value in list(node.attributes.items()):
        if value is None:
            continue
        cleaned = _SPACES.sub(" ", _strip_chars(value)).strip()
        if name in _URL_ATTRIBUTES:
            absolute = _absolute_url(cleaned, base_url)
            if absolute is None:
                del node.attrs[name]
                continue
            cleaned = absolute
        if cleaned != value:
            node.attrs[name] = cleaned


def _absolute_url(value: str, base_url: str) -> str | None:
    """The URL resolved against the page; None when it is unusable or not an allowed scheme."""
    try:
        absolute = urljoin(base_url, value)
        scheme = urlsplit(absolute).scheme.lower()
    except ValueError:  # e.g. a malformed IPv6 host
        return None
    # Checked again after joining: a base or value could still yield another scheme.
    return absolute if scheme in URL_SCHEMES else None


def _drop_empty(root: LexborNode) -> None:
    """Remove elements with neither visible text nor an image, in one bottom-up pass.

    Reverse document order meets children before their parent, so a list whose
    items all went empty goes too, and each node is looked at once (a per-node
    subtree scan would be quadratic on deeply nested input).
    """
    holds_content: set[int] = set()
    for node in reversed(list(root.traverse())):
        if node == root:
            continue
        if node.tag == "img" or any(_is_content(child, holds_content) for child in node.iter(include_text=True)):
            holds_content.add(node.mem_id)
        elif node.tag in _MAY_BE_EMPTY:
            node.decompose()


def _is_content(child: LexborNode, holds_content: set[int]) -> bool:
    if child.is_text_node:
        return bool(_strip_chars(child.text_content or "").strip())
    return child.mem_id in holds_content


def _plain_text(root: LexborNode) -> str:
    """Text of the fragment, one paragraph per block element, blank line between paragraphs."""
    paragraphs: list[str] = []
    current: list[str] = []
    # Iterative walk with enter/leave events: hostile nesting must not hit the recursion limit.
    stack: list[tuple[LexborNode, bool]] = [(root, True)]
    while stack:
        node, entering = stack.pop()
        if node.is_text_node:
            current.append(node.text_content or "")
            continue
        if node.tag == "br":  # a line break inside a paragraph, not a new paragraph
            current.append(" ")
            continue
        if node.tag in _BLOCKS:
            _flush(current, paragraphs)
        if entering:
            stack.append((node, False))
            children = list(node.iter(include_text=True))
            stack.extend((child, True) for child in reversed(children))
    _flush(current, paragraphs)
    return "\n\n".join(paragraphs)


def _flush(current: list[str], paragraphs: list[str]) -> None:
    text = clean_text("".join(current))
    if text:
        paragraphs.append(text)
    current.clear()
