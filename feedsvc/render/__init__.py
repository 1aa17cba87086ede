"""Rendering: pure functions from articles to the bytes the web layer serves.

Rendering never queries storage and never reads the clock: the web layer
looks up a page of articles, calls a renderer when a topic's content
changes, and caches the bytes. The same input always gives the same bytes.

::

    FeedPage        → render_atom        Atom 1.0 (RFC 4287), paging per RFC 5005
    FeedPage        → render_json_feed   JSON Feed 1.1
    FeedPage        → render_topic_page  the topic's Arabic, right-to-left HTML page
    [TopicSummary]  → render_opml        OPML 2.0 list of every topic feed
    [TopicSummary]  → render_index       the Arabic, right-to-left index page
    [FeedChange]    → render_changes     the change stream's answer (JSON)

Identity: feed and entry ids are ``tag:`` URIs minted from the host of the
configured public URL (:func:`feed_id_for`, :func:`entry_id_for`); see
:mod:`.ids` for why and what changing that host means.

Hostile text: every string is passed through :func:`xml_text` on the way
out, so control characters and lone surrogates cannot make a document
ill-formed; markup in plain-text fields is escaped, never interpreted. The
HTML pages link and show only http(s) URLs.
``Article.content_html`` is trusted to be sanitized already (normalize stage)
and is carried as escaped HTML (Atom ``type="html"``, JSON ``content_html``).

Errors: only :class:`feedsvc.errors.ConfigError`, from the id helpers, when
the public URL has no usable host.
"""

from __future__ import annotations

from .atom import render_atom
from .changes import render_changes
from .ids import anchor_for, entry_id_for, feed_id_for
from .index_page import render_index
from .jsonfeed import render_json_feed
from .model import FeedMeta, FeedPage, IndexPaging, TopicSummary
from .opml import render_opml
from .topic_page import render_topic_page
from .xmlsafe import xml_line, xml_text

__all__ = [
    "FeedMeta",
    "FeedPage",
    "IndexPaging",
    "TopicSummary",
    "anchor_for",
    "entry_id_for",
    "feed_id_for",
    "render_atom",
    "render_changes",
    "render_index",
    "render_json_feed",
    "render_opml",
    "render_topic_page",
    "xml_line",
    "xml_text",
]
