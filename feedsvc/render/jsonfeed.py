"""JSON Feed 1.1 rendering of one page of a topic feed, with orjson.

Item ids are the Atom entry ids, so a reader switching formats keeps its
read state. ``feed_url`` is always the subscription URL (the feed's
identity in JSON Feed), also on later pages; ``next_url`` is the only paging
JSON Feed has. Keys are written in a fixed order and absent values are left
out, so the same page gives the same bytes. Articles that left the feed lately are
listed at the top level, ``"_feedsvc": {"deleted": [{"id", "when"}, …]}`` (an
extension: JSON Feed readers ignore ``_`` keys they do not know), with the same ids as
Atom's ``at:deleted-entry``.
"""

from __future__ import annotations

from typing import Any

import orjson

from feedsvc.models import Article

from . import fields
from .ids import entry_id_for
from .model import FeedMeta, FeedPage
from .xmlsafe import xml_line, xml_text

VERSION = "https://jsonfeed.org/version/1.1"

JsonObject = dict[str, Any]


def render_json_feed(page: FeedPage) -> bytes:
    """The JSON Feed document of ``page``, UTF-8 encoded, same bytes for the same page."""
    document = _feed_object(page)
    if page.deleted:  # feedsvc's extension, before the items: what to remove first
        document["_feedsvc"] = {"deleted": [
            {"id": entry_id_for(page.meta.public_url, deleted.article_id),
             "when": fields.rfc3339(deleted.when)} for deleted in page.deleted]}
    document["items"] = [json_feed_item(page.meta, article) for article in page.articles]
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def _feed_object(page: FeedPage) -> JsonObject:
    meta = page.meta
    document: JsonObject = {
        "version": VERSION,
        "title": fields.feed_title(meta),
        "home_page_url": xml_text(meta.home_page_url),
        "feed_url": xml_text(meta.json_url),
    }
    _put(document, "description", xml_text(meta.description).strip())
    _put(document, "next_url", xml_text(page.next_url or ""))
    _put(document, "icon", xml_text(meta.icon or ""))
    _put(document, "favicon", xml_text(meta.favicon or ""))
    document["authors"] = [{"name": fields.feed_author(meta)}]
    document["language"] = fields.feed_language(meta)
    if meta.hub:
        document["hubs"] = [{"type": "WebSub", "url": xml_text(meta.hub)}]
    return document


def json_feed_item(meta: FeedMeta, article: Article) -> JsonObject:
    """One article as a JSON Feed item, exactly as the feeds of ``meta`` show it."""
    item: JsonObject = {
        "id": entry_id_for(meta.public_url, article.id),
        "url": xml_text(article.url),
        "title": fields.entry_title(article),
    }
    _put(item, "content_html", xml_text(article.content_html))
    item["content_text"] = xml_text(article.content_text)
    _put(item, "summary", fields.entry_summary(article))
    if article.image:
        _put(item, "image", xml_text(article.image.url).strip())
    item["date_published"] = fields.rfc3339(article.published)
    item["date_modified"] = fields.rfc3339(article.updated)
    _put(item, "tags", list(fields.flat_tags(article)))
    item["authors"] = [{"name": fields.entry_author(article, meta)}]
    item["language"] = fields.entry_language(article, meta)
    item["_feedsvc"] = _extension_object(article)
    return item


def _extension_object(article: Article) -> JsonObject:
    """What feedsvc knows beyond JSON Feed; readers ignore ``_``-keys they do not know."""
    extension: JsonObject = {
        "article_id": xml_text(article.id),
        "source": xml_text(article.source),
    }
    _put(extension, "section", fields.entry_section(article) or "")
    _put(extension, "credit", xml_line(article.credit or ""))
    if article.image:
        _put(extension, "image_caption", xml_line(article.image.caption))
    _put(extension, "aliases", [xml_text(alias) for alias in article.aliases if alias])
    return extension


def _put(target: JsonObject, key: str, value: str | list[str]) -> None:
    """Set ``key`` unless ``value`` is empty: JSON Feed leaves out what is absent."""
    if value:
        target[key] = value
