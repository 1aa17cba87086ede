"""Small builders of render inputs; every datetime is aware UTC."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from feedsvc.models import Article, Image
from feedsvc.render import FeedMeta, FeedPage, TopicSummary, feed_id_for

PUBLIC_URL = "https://feeds.example.org/"
T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
EMPTY_UPDATED = datetime(2026, 1, 1, tzinfo=UTC)


def make_article(number: int = 1, **overrides: Any) -> Article:
    """Article ``number`` of a plausible RT Arabic topic; later numbers are newer."""
    published = T0 + timedelta(hours=number)
    native_id = str(1512000 + number)
    article = Article(
        id=f"rt-arabic:{native_id}",
        source="rt-arabic",
        url=f"https://arabic.rt.com/world/{native_id}-خبر/",
        title=f"عنوان الخبر رقم {number}",
        summary=f"ملخص الخبر رقم {number}.",
        content_html=f'<div dir="rtl" lang="ar"><p>نص الخبر رقم {number} &amp; تفاصيله.</p></div>',
        content_text=f"نص الخبر رقم {number} & تفاصيله.",
        published=published,
        updated=published + timedelta(minutes=10),
        fetched_at=published + timedelta(minutes=11),
        content_hash=f"sha256:{number:064x}",
        author=None,
        section="العالم",
        tags=("روسيا", "الاقتصاد"),
        image=Image(f"https://cdn.rt.com/images/{native_id}.jpg", "صورة أرشيفية"),
        credit="نوفوستي",
    )
    return replace(article, **overrides)


def make_meta(slug: str = "economy", public_url: str = PUBLIC_URL, **overrides: Any) -> FeedMeta:
    atom_url = f"{public_url}topics/{slug}.atom"
    values: dict[str, Any] = {
        "slug": slug,
        "title": "اقتصاد",
        "description": "أخبار الاقتصاد والطاقة من RT Arabic",
        "feed_id": feed_id_for(public_url, slug),
        "public_url": public_url,
        "self_url": atom_url,
        "alternate_url": f"{public_url}#topic-{slug}",
        "home_page_url": f"{public_url}#topic-{slug}",
        "json_url": f"{public_url}topics/{slug}.json",
        "atom_url": atom_url,
        "empty_updated": EMPTY_UPDATED,
    }
    values.update(overrides)
    return FeedMeta(**values)


def make_page(count: int = 3, meta: FeedMeta | None = None, **overrides: Any) -> FeedPage:
    """A page with ``count`` articles, newest first, as the web layer orders them."""
    values: dict[str, Any] = {
        "meta": meta or make_meta(),
        "articles": tuple(make_article(number) for number in range(count, 0, -1)),
    }
    values.update(overrides)
    return FeedPage(**values)


def make_topic(slug: str = "economy", **overrides: Any) -> TopicSummary:
    values: dict[str, Any] = {
        "slug": slug,
        "title": "اقتصاد",
        "description": "أخبار الاقتصاد والطاقة",
        "count": 12,
        "updated": T0,
        "atom_url": f"{PUBLIC_URL}topics/{slug}.atom",
        "json_url": f"{PUBLIC_URL}topics/{slug}.json",
    }
    values.update(overrides)
    return TopicSummary(**values)
