"""OPML 2.0 list of every topic feed, for readers to subscribe to all at once.

Outlines are ``type="rss"``: OPML has no Atom type, and readers use that
type for any feed URL. ``htmlUrl`` is the topic's anchor on the index page,
which is ``owner_url``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urldefrag

from lxml import etree

from . import fields
from .ids import anchor_for
from .model import TopicSummary
from .xmlsafe import xml_line, xml_text

OPML_DOCS = "http://opml.org/spec2.opml"


def render_opml(
    topics: Sequence[TopicSummary], *, title: str, owner_url: str, date_created: datetime
) -> bytes:
    """The OPML document listing ``topics`` in the order given, UTF-8 encoded."""
    root = etree.Element("opml", version="2.0")
    root.append(_head(topics, title=title, owner_url=owner_url, date_created=date_created))
    body = etree.SubElement(root, "body")
    for topic in topics:
        body.append(_outline(topic, owner_url))
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True, pretty_print=True))


def rfc822(moment: datetime) -> str:
    """OPML dates are RFC 822: ``Fri, 02 Jan 2026 03:04:05 GMT``."""
    return format_datetime(fields.utc(moment), usegmt=True)


def _head(
    topics: Sequence[TopicSummary], *, title: str, owner_url: str, date_created: datetime
) -> etree._Element:
    head = etree.Element("head")
    _text(head, "title", xml_line(title))
    _text(head, "dateCreated", rfc822(date_created))
    updates = [topic.updated for topic in topics if topic.updated is not None]
    if updates:
        _text(head, "dateModified", rfc822(max(fields.utc(moment) for moment in updates)))
    _text(head, "ownerId", xml_text(owner_url))
    _text(head, "docs", OPML_DOCS)
    return head


def _outline(topic: TopicSummary, owner_url: str) -> etree._Element:
    title = xml_line(topic.title) or xml_line(topic.slug)
    outline = etree.Element("outline")
    outline.set("type", "rss")
    outline.set("text", title)
    outline.set("title", title)
    outline.set("xmlUrl", xml_text(topic.atom_url))
    outline.set("htmlUrl", xml_text(topic_html_url(owner_url, topic.slug)))
    if description := xml_line(topic.description):
        outline.set("description", description)
    return outline


def topic_html_url(index_url: str, slug: str) -> str:
    """The URL of the topic's entry on the index page."""
    return f"{urldefrag(index_url).url}#{anchor_for(slug)}"


def _text(parent: etree._Element, tag: str, text: str) -> None:
    etree.SubElement(parent, tag).text = text
