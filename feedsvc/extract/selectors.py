"""Step 3: the site's own markup, read with CSS selectors kept in configuration.

The selectors describe RT Arabic's "article" template (``docs/site-markup.md``).
They come after JSON-LD and OpenGraph because markup changes with every
redesign while structured data is meant for machines; they come before the
generic fallback because they know exactly which paragraphs are the body.
Every selector is a setting (``[sources.selectors]``), so a redesign on the
site is a configuration edit; ``DEFAULT_SELECTORS`` is what is known today.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from urllib.parse import unquote, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from feedsvc.errors import ConfigError
from feedsvc.extract import credit, dates
from feedsvc.extract.found import Found, Page, absolute_url, node_text

__all__ = ["DEFAULT_SELECTORS", "Selectors", "find", "selectors_from_mapping"]

_CSS_FIELDS = ("headline", "lead", "body", "date", "tags", "image", "caption", "author")


@dataclass(frozen=True, slots=True)
class Selectors:
    """CSS selectors (and two small tables) for one site's article template."""

    headline: str = "div.article h1.heading"
    lead: str = "div.article div.article__summary"
    body: str = "div.text.js-text.js-mediator-article > p"
    date: str = "div.time-public span.date"
    date_format: str = "%d.%m.%Y | %H:%M"  # strptime; "15.12.2015 | 21:34"
    tags: str = "div.news-tags.news-tags_article a"
    # The tag block opens with a label link ("الوسوم" → /tags/): not a tag.
    tag_labels: tuple[str, ...] = ("الوسوم", "وسوم", "الكلمات المفتاحية")
    image: str = "div.article__cover img"
    caption: str = "div.article__cover-caption"
    author: str = "div.article__author"
    # Path section → the Arabic name the site prints; used when the page names no section.
    section_names: tuple[tuple[str, str], ...] = (
        ("news", "أخبار"), ("middle_east", "الشرق الأوسط"), ("world", "العالم"),
        ("russia", "روسيا"), ("sport", "رياضة"), ("business", "اقتصاد"),
        ("culture", "ثقافة وفن"), ("technology", "علوم وتكنولوجيا"), ("health", "صحة"),
    )
    title_suffix: str = " - RT Arabic"

    def __post_init__(self) -> None:
        # A bad selector would otherwise fail on every page, deep inside extraction.
        probe = LexborHTMLParser("<p></p>")
        for name in _CSS_FIELDS:
            try:
                probe.css(getattr(self, name))
            except (SelectolaxError, TypeError) as exc:
                raise ConfigError(f"selectors.{name}: {getattr(self, name)!r}: not a CSS selector") from exc


DEFAULT_SELECTORS = Selectors()


def selectors_from_mapping(settings: Mapping[str, object]) -> Selectors:
    """Selectors from a config table (``[sources.selectors]``); bad keys or values are ConfigErrors."""
    known = [f.name for f in fields(Selectors)]
    values: dict[str, object] = {}
    for key, value in settings.items():
        if key not in known:
            raise ConfigError(f"selectors.{key}: unknown key (known: {', '.join(known)})")
        values[key] = _coerce(key, value)
    return Selectors(**values)  # type: ignore[arg-type]


def _coerce(key: str, value: object) -> object:
    """Config values as the dataclass holds them: lists → tuples, a table → pairs."""
    if key == "tag_labels" and isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    if key == "section_names" and isinstance(value, Mapping):
        return tuple((str(path), str(name)) for path, name in value.items())
    if key not in ("tag_labels", "section_names") and isinstance(value, str):
        return value
    expected = {"tag_labels": "a list of strings", "section_names": "a table"}.get(key, "a string")
    raise ConfigError(f"selectors.{key}: {value!r}: expected {expected}")


def find(page: Page) -> Found:
    sel, tree = page.selectors, page.tree
    body, credit_line = _body(tree, sel.body)
    image = tree.css_first(sel.image)
    date_node = tree.css_first(sel.date)
    return Found(
        title=_first_text(tree, sel.headline),
        summary=_first_text(tree, sel.lead),
        body=body,
        credit=credit_line,
        author=_first_text(tree, sel.author),
        section=_section_from_url(page.url, sel.section_names),
        tags=_tags(tree, sel),
        image_url=_image_url(image, page.url),
        image_caption=_first_text(tree, sel.caption),
        published=None if date_node is None else dates.parse_visible(
            node_text(date_node), sel.date_format, page.site_tz),
    )


def _first_text(tree: LexborHTMLParser, selector: str) -> str | None:
    for node in tree.css(selector):
        text = node_text(node)
        if text:
            return text
    return None


def _body(tree: LexborHTMLParser, selector: str) -> tuple[tuple[str, ...], str | None]:
    paragraphs, credit_line = credit.split_credit(tree.css(selector))
    if not any(node_text(p) for p in paragraphs):
        return (), None
    return tuple(p.html or "" for p in paragraphs), credit_line


def _tags(tree: LexborHTMLParser, sel: Selectors) -> tuple[str, ...]:
    names: list[str] = []
    for link in tree.css(sel.tags):
        name = node_text(link)
        if name and name not in sel.tag_labels and not _is_tag_index(link) and name not in names:
            names.append(name)
    return tuple(names)


def _is_tag_index(link: LexborNode) -> bool:
    """The label link points at the tag index itself (``/tags/``), not at one tag."""
    try:
        path = urlsplit(link.attributes.get("href") or "").path.rstrip("/")
    except ValueError:  # e.g. a malformed IPv6 host
        return False
    return path.endswith("/tags") or path == "tags"


def _image_url(image: LexborNode | None, page_url: str) -> str | None:
    if image is None:
        return None
    # Lazy-loading templates keep the real source in data-src.
    src = image.attributes.get("data-src") or image.attributes.get("src") or ""
    return absolute_url(src, page_url)


def _section_from_url(url: str, names: tuple[tuple[str, str], ...]) -> str | None:
    try:
        first = unquote(urlsplit(url).path).strip("/").split("/")[0]
    except ValueError:
        return None
    return dict(names).get(first)
