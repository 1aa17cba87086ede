"""Identifiers minted by feedsvc: feed ids, entry ids, category schemes, anchors.

Ids are ``tag:`` URIs (RFC 4151) whose authority is the host of the
configured public URL, lower-cased and without port::

    tag:feeds.example.org,2026:feedsvc/topic/economy
    tag:feeds.example.org,2026:feedsvc/article/rt-arabic:1512358

They never depend on the request URL, the clock, or anything about an
article but ``Article.id``, so re-rendering, restarts and edits keep them.
Serving over another scheme, port or path prefix keeps them too; moving the
service to another domain changes them, which readers see as new entries, so
treat a domain change as a migration (or keep configuring the old host).
The date is the year the naming scheme was minted and is fixed for good.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from feedsvc.errors import ConfigError

from .xmlsafe import xml_text

TAG_DATE = "2026"

# RFC 3986 "pchar" minus what is already safe: what a tag URI's specific part
# may hold unescaped. Everything else, non-ASCII included, is percent-encoded.
_PCHAR_SAFE = "-._~!$&'()*+,;=:@"


def tag_authority(public_url: str) -> str:
    """The tag authority for ``public_url``: its host, lower-case, IDNA-encoded."""
    host = urlsplit(public_url.strip()).hostname
    if not host:
        raise ConfigError(f"public_url: {public_url!r}: has no host to mint ids from")
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ConfigError(f"public_url: {public_url!r}: host is not a domain name") from exc


def _tag(public_url: str, specific: str) -> str:
    return f"tag:{tag_authority(public_url)},{TAG_DATE}:feedsvc/{specific}"


def _segment(value: str) -> str:
    """``value`` percent-encoded for a tag's specific part (after dropping
    what no UTF-8 encoder accepts, such as lone surrogates)."""
    return quote(xml_text(value), safe=_PCHAR_SAFE)


def feed_id_for(public_url: str, slug: str) -> str:
    """The id of the feed of topic ``slug``, the same for Atom and JSON Feed."""
    return _tag(public_url, "topic/" + _segment(slug))


def entry_id_for(public_url: str, article_id: str) -> str:
    """The id of an article in every feed and format; from ``Article.id`` only."""
    return _tag(public_url, "article/" + _segment(article_id))


def category_scheme_for(public_url: str, kind: str) -> str:
    """The Atom category scheme telling sections (``kind="section"``) from tags."""
    return _tag(public_url, _segment(kind))


def anchor_for(slug: str) -> str:
    """The fragment id of a topic on the index page (usable in ``id`` and ``#…``)."""
    return "topic-" + quote(xml_text(slug), safe="-._~")
