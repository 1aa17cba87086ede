"""What Atom and JSON Feed say alike about a feed and its articles.

Every string leaves here cleaned by :mod:`.xmlsafe`, and every date as UTC
with whole seconds, so both formats show the same values for the same data.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from feedsvc.models import Article

from .model import FeedMeta, FeedPage
from .xmlsafe import xml_line, xml_text

UNTITLED = "بدون عنوان"  # "untitled": Atom requires a non-empty title
TITLE_EXCERPT = 80
SUMMARY_EXCERPT = 300

# BCP 47 in its general shape: enough to keep a broken value out of xml:lang.
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")


def utc(moment: datetime) -> datetime:
    """``moment`` in UTC to the second. A naive value is read as UTC, never as
    local time, so output does not depend on the machine's zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def rfc3339(moment: datetime) -> str:
    """``2026-01-02T03:04:05+00:00``, the form feedgen writes too."""
    return utc(moment).isoformat()


def feed_updated(page: FeedPage) -> datetime:
    """The newest entry's ``updated`` or deletion, whichever is later; for a page with
    neither, the caller's fixed value."""
    moments = [utc(article.updated) for article in page.articles]
    moments += [utc(deleted.when) for deleted in page.deleted]
    return max(moments, default=utc(page.meta.empty_updated))


def feed_title(meta: FeedMeta) -> str:
    return xml_line(meta.title) or xml_line(meta.slug) or UNTITLED


def excerpt(text: str, limit: int) -> str:
    """The first ``limit`` characters of one-line ``text``, cut at a space."""
    line = xml_line(text)
    if len(line) <= limit:
        return line
    cut = line[:limit].rsplit(" ", 1)[0] or line[:limit]
    return cut.rstrip() + "…"


def entry_title(article: Article) -> str:
    """The title, or the start of the summary or text when the title is empty."""
    return (
        xml_line(article.title)
        or excerpt(article.summary, TITLE_EXCERPT)
        or excerpt(article.content_text, TITLE_EXCERPT)
        or UNTITLED
    )


def entry_summary(article: Article) -> str:
    """The summary, or the start of the text; empty only when both are."""
    return xml_text(article.summary).strip() or excerpt(article.content_text, SUMMARY_EXCERPT)


def entry_author(article: Article, meta: FeedMeta) -> str:
    return xml_line(article.author or "") or feed_author(meta)


def feed_language(meta: FeedMeta) -> str:
    return language_tag(meta.language) or "ar"


def entry_language(article: Article, meta: FeedMeta) -> str:
    return language_tag(article.language) or feed_language(meta)


def language_tag(value: str) -> str | None:
    """``value`` when it is shaped like a language tag, else None."""
    tag = value.strip()
    return tag if _LANGUAGE_TAG.fullmatch(tag) else None


def feed_author(meta: FeedMeta) -> str:
    return xml_line(meta.author_name) or "RT Arabic"


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    cleaned = (xml_line(value) for value in values)
    return tuple(dict.fromkeys(value for value in cleaned if value))


def entry_section(article: Article) -> str | None:
    return xml_line(article.section or "") or None


def entry_tags(article: Article) -> tuple[str, ...]:
    """The article's tags, cleaned, without empties or repeats, in order."""
    return _unique(article.tags)


def flat_tags(article: Article) -> tuple[str, ...]:
    """Section first, then tags: the one list formats without schemes get."""
    return _unique(((article.section or ""), *article.tags))


def image_type(url: str) -> str | None:
    """The image media type told by the URL's extension, when it is a known one.

    A fixed table rather than :mod:`mimetypes`, whose answers depend on the
    machine's mime.types files.
    """
    path = url.split("?", 1)[0].split("#", 1)[0].lower()
    for suffix, media_type in _IMAGE_TYPES:
        if path.endswith(suffix):
            return media_type
    return None


_IMAGE_TYPES = (
    (".jpg", "image/jpeg"),
    (".jpeg", "image/jpeg"),
    (".png", "image/png"),
    (".webp", "image/webp"),
    (".gif", "image/gif"),
    (".avif", "image/avif"),
    (".svg", "image/svg+xml"),
)
