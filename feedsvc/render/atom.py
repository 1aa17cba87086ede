"""Atom (RFC 4287) rendering of one page of a topic feed, with feedgen.

feedgen writes almost everything. Two things it cannot express go through
its extension hook, which hands over the lxml element being built:

* entry links: feedgen 1.0 drops ``rel`` and ``type`` from entry links, which
  would turn an image enclosure into a second ``alternate`` link;
* ``fh:archive`` (RFC 5005 section 4) on archive documents, and ``xml:lang``
  on an entry whose language differs from the feed's;
* ``at:deleted-entry`` (RFC 6721) for each article that left the feed lately: its
  entry id as ``ref`` and when it left as ``when``.

Paging links are written as given (see :class:`.model.FeedPage`).
"""

from __future__ import annotations

from typing import Any

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator
from lxml import etree

import feedsvc
from feedsvc.models import Article

from . import fields
from .ids import category_scheme_for, entry_id_for
from .model import FeedMeta, FeedPage
from .xmlsafe import xml_line, xml_text

ATOM_TYPE = "application/atom+xml"
JSON_FEED_TYPE = "application/feed+json"
HISTORY_NS = "http://purl.org/syndication/history/1.0"
TOMBSTONES_NS = "http://purl.org/atompub/tombstones/1.0"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EXTENSION = "feedsvc"


class _FeedExtension:
    """feedgen feed hook: ``fh:archive`` on archive documents, deleted entries."""

    def __init__(self) -> None:
        self.archive = False
        self.deleted: list[tuple[str, str]] = []  # (entry id, RFC 3339 time)

    def extend_ns(self) -> dict[str, str]:
        namespaces = {"fh": HISTORY_NS} if self.archive else {}
        if self.deleted:
            namespaces["at"] = TOMBSTONES_NS
        return namespaces

    def extend_atom(self, feed: Any) -> Any:
        if self.archive:
            etree.SubElement(feed, f"{{{HISTORY_NS}}}archive")
        for ref, when in self.deleted:
            etree.SubElement(feed, f"{{{TOMBSTONES_NS}}}deleted-entry", {"ref": ref, "when": when})
        return feed

    def extend_rss(self, feed: Any) -> Any:
        return feed


class _EntryExtension:
    """feedgen entry hook: links with their attributes, and ``xml:lang``."""

    def __init__(self) -> None:
        self.links: list[dict[str, str]] = []
        self.language: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {}

    def extend_atom(self, entry: Any) -> Any:
        if self.language:
            entry.set(XML_LANG, self.language)
        for attributes in self.links:
            etree.SubElement(entry, "link", attributes)
        return entry

    def extend_rss(self, entry: Any) -> Any:
        return entry


def render_atom(page: FeedPage) -> bytes:
    """The Atom document of ``page``, UTF-8 encoded, same bytes for the same page."""
    generator = _feed_generator(page)
    for article in page.articles:
        _add_entry(generator, page.meta, article)
    document = generator.atom_str(pretty=True, encoding="UTF-8", xml_declaration=True)
    return bytes(document)


def _feed_generator(page: FeedPage) -> FeedGenerator:
    meta = page.meta
    generator = FeedGenerator()
    generator.register_extension(EXTENSION, _FeedExtension, _EntryExtension, atom=True, rss=False)
    extension: _FeedExtension = getattr(generator, EXTENSION)
    extension.archive = page.archive
    extension.deleted = [(entry_id_for(meta.public_url, deleted.article_id),
                          fields.rfc3339(deleted.when)) for deleted in page.deleted]
    generator.id(xml_text(meta.feed_id))
    generator.title(fields.feed_title(meta))
    generator.updated(fields.feed_updated(page))
    generator.language(fields.feed_language(meta))
    generator.author(name=fields.feed_author(meta))
    generator.generator("feedsvc", version=feedsvc.__version__)
    if description := xml_text(meta.description).strip():
        generator.subtitle(description)
    if meta.icon:
        generator.icon(xml_text(meta.icon))
    for link in _feed_links(page):
        generator.link(link)
    return generator


def _feed_links(page: FeedPage) -> list[dict[str, str]]:
    meta = page.meta
    # The HTML alternate comes last: some readers (newsboat) take the last alternate
    # link as the feed's web page; feedparser and most others pick the text/html one.
    links = [
        {"rel": "self", "type": ATOM_TYPE, "href": meta.self_url},
        {"rel": "alternate", "type": JSON_FEED_TYPE, "href": meta.json_url},
        {"rel": "alternate", "type": "text/html", "href": meta.alternate_url},
    ]
    if meta.hub:
        links.append({"rel": "hub", "href": meta.hub})
    links += [{"rel": rel, "type": ATOM_TYPE, "href": href} for rel, href in page.paging_links()]
    return [{**link, "href": xml_text(link["href"])} for link in links]


def _add_entry(generator: FeedGenerator, meta: FeedMeta, article: Article) -> None:
    entry: FeedEntry = generator.add_entry(order="append")
    entry.id(entry_id_for(meta.public_url, article.id))
    entry.title(fields.entry_title(article))
    entry.updated(fields.utc(article.updated))
    entry.published(fields.utc(article.published))
    entry.author(name=fields.entry_author(article, meta))
    entry.content(xml_text(article.content_html), type="html")
    if summary := fields.entry_summary(article):
        entry.summary(summary)
    for scheme, term in _categories(meta, article):
        entry.category(term=term, scheme=scheme)
    hook: _EntryExtension = getattr(entry, EXTENSION)
    hook.links = _entry_links(article)
    language = fields.entry_language(article, meta)
    if language != fields.feed_language(meta):
        hook.language = language


def _categories(meta: FeedMeta, article: Article) -> list[tuple[str, str]]:
    """Section and tags as categories, told apart by their scheme."""
    section_scheme = category_scheme_for(meta.public_url, "section")
    tag_scheme = category_scheme_for(meta.public_url, "tag")
    section = fields.entry_section(article)
    sections = [(section_scheme, section)] if section else []
    return sections + [(tag_scheme, tag) for tag in fields.entry_tags(article)]


def _entry_links(article: Article) -> list[dict[str, str]]:
    links = [{"rel": "alternate", "type": "text/html", "href": xml_text(article.url)}]
    if article.image and (image_url := xml_text(article.image.url).strip()):
        enclosure = {"rel": "enclosure", "href": image_url}
        if media_type := fields.image_type(image_url):
            enclosure["type"] = media_type
        if caption := xml_line(article.image.caption):
            enclosure["title"] = caption
        links.append(enclosure)
    return links
