"""Small builders of model values for tests (all times aware UTC)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from feedsvc.models import Article, Image

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def make_article(n: int = 1, **changes: Any) -> Article:
    published = changes.pop("published", T0 + timedelta(minutes=n))
    title = changes.pop("title", f"خبر رقم {n}")
    text = changes.pop("content_text", f"نص الخبر رقم {n} عن سوريا والمفاوضات.")
    article = Article(
        id=f"rt-arabic:{1_900_000 + n}",
        source="rt-arabic",
        url=f"https://arabic.rt.com/news/{1_900_000 + n}-slug/",
        title=title,
        summary=f"ملخص {n}",
        content_html=f'<div dir="rtl" lang="ar"><p>{text}</p></div>',
        content_text=text,
        published=published,
        updated=published,
        fetched_at=published + timedelta(minutes=1),
        content_hash=hashlib.blake2b(f"{title}|{text}".encode(), digest_size=16).hexdigest(),
        section="news",
        tags=("سوريا",),
        image=Image(f"https://mf.b37mrtl.ru/media/pics/2026.11/article/{n:024x}.jpg", "تعليق"),
    )
    return replace(article, **changes) if changes else article
