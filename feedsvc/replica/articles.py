"""The replica's article data: values, URLs, loading, and what extraction should find.

The data file (``data/articles.json``, described in ``data/README.md``) holds a ``site``
object (time zone, Arabic section names) and the list of ``articles``. Everything
here is pure apart from ``load_articles``, which reads that file.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

IMAGE_HOST = "https://mf.b37mrtl.ru/media/pics"

@dataclass(frozen=True, slots=True)
class Tag:
    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class Picture:
    hex: str
    caption: str
    ext: str = "jpg"


@dataclass(frozen=True, slots=True)
class ReplicaArticle:
    """One article of the replica as its data file describes it (times are aware)."""

    id: int
    section: str
    slug: str
    title: str
    lead: str
    paragraphs: tuple[str, ...]
    published: datetime
    modified: datetime
    credit: str | None = None
    credit_quoted: bool = False
    tags: tuple[Tag, ...] = ()
    image: Picture | None = None
    author: str | None = None
    template: str = "article"
    held: bool = False
    republish_of: int | None = None
    similar_to: int | None = None


@dataclass(frozen=True, slots=True)
class Markup:
    """Which machine-readable blocks an article page carries, and whether they say when
    it was modified (older templates carry only the publication time)."""

    jsonld: bool = True
    opengraph: bool = True
    modified_time: bool = True


@dataclass(frozen=True, slots=True)
class Frame:
    """What every document needs to know about the site that serves it."""

    base_url: str
    timezone: tzinfo
    section_names: Mapping[str, str]


def article_path(article: ReplicaArticle, *, encoded: bool = True, slash: bool = True) -> str:
    slug = quote(article.slug, safe="-") if encoded else article.slug
    return f"/{article.section}/{article.id}-{slug}" + ("/" if slash else "")


def canonical_url(frame: Frame, article: ReplicaArticle) -> str:
    return frame.base_url + article_path(article)


def image_url(frame: Frame, picture: Picture, published: datetime, size: str) -> str:
    month = published.astimezone(frame.timezone).strftime("%Y.%m")
    return f"{IMAGE_HOST}/{month}/{size}/{picture.hex}.{picture.ext}"


def paragraph_text(paragraph_html: str) -> str:
    """The plain text a reader sees in one body paragraph: no tags, NBSP as a space."""
    text = html.unescape(re.sub(r"<[^>]*>", "", paragraph_html)).replace("\u00a0", " ")
    return " ".join(text.split())


def credit_line(article: ReplicaArticle) -> str | None:
    if not article.credit:
        return None
    agency = f'"{article.credit}"' if article.credit_quoted else article.credit
    return f"المصدر: {agency}"


def load_articles(path: Path) -> tuple[tzinfo, dict[str, str], dict[int, ReplicaArticle]]:
    """The site's time zone, its Arabic section names and the articles by id."""
    document = json.loads(path.read_text(encoding="utf-8"))
    site = document.get("site", {})
    section_names = dict(site.get("section_names") or site.get("sections") or {})
    articles = [parse_article(raw) for raw in document["articles"]]
    return _zone(site.get("timezone", "Europe/Moscow")), section_names, {a.id: a for a in articles}


def parse_article(raw: Mapping[str, Any]) -> ReplicaArticle:
    image = raw.get("image")
    return ReplicaArticle(
        id=int(raw["id"]),
        section=raw["section"],
        slug=raw["slug"],
        title=raw["title"],
        lead=raw.get("lead", ""),
        paragraphs=tuple(raw.get("paragraphs", ())),
        published=_aware(raw["published"]),
        modified=_aware(raw.get("modified") or raw["published"]),
        credit=raw.get("credit") or None,
        credit_quoted=bool(raw.get("credit_quoted", False)),
        tags=tuple(Tag(t["name"], t["slug"]) for t in raw.get("tags", ())),
        image=Picture(image["hex"], image.get("caption", ""), image.get("ext", "jpg")) if image else None,
        author=raw.get("author") or None,
        template=raw.get("template", "article"),
        held=bool(raw.get("held", False)),
        republish_of=raw.get("republish_of"),
        similar_to=raw.get("similar_to"),
    )


def _aware(iso: str) -> datetime:
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        raise ValueError(f"time without an offset in the replica data: {iso!r}")
    return moment


def _zone(name: str) -> tzinfo:
    if name[:1] in "+-":
        sign = -1 if name[0] == "-" else 1
        hours, _, minutes = name[1:].partition(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))
    return ZoneInfo(name)


def expected_extraction(frame: Frame, article: ReplicaArticle, markup: Markup) -> dict[str, Any]:
    """The fields a correct extractor reads from the page ``render_page`` makes.

    Only the JSON-LD and OpenGraph blocks say when an article was modified; a page
    without both (the legacy template, or the blocks switched off) shows only the
    visible date, to the minute, so ``modified`` is then None and ``published`` is
    cut to the minute. Blocks without a modified time (``Markup.modified_time`` off)
    give a None ``modified`` too.
    """
    blocks = article.template != "legacy" and (markup.jsonld or markup.opengraph)
    declares_modified = blocks and markup.modified_time
    published = article.published if blocks else article.published.replace(second=0, microsecond=0)
    image = None
    if article.image:
        url = image_url(frame, article.image, article.published, "article")
        image = {"url": url, "caption": article.image.caption}
    return {
        "id": article.id,
        "url": canonical_url(frame, article),
        "section": article.section,
        "section_name": frame.section_names.get(article.section, article.section),
        "title": article.title,
        "summary": article.lead,
        "body_text": [t for t in map(paragraph_text, article.paragraphs) if t],
        "credit": article.credit,
        "author": article.author,
        "tags": [tag.name for tag in article.tags],
        "image": image,
        "published": published.astimezone(UTC).isoformat(),
        "modified": article.modified.astimezone(UTC).isoformat() if declares_modified else None,
    }
