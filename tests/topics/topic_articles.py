"""Build ``Article`` values for topic tests: small synthetic ones and the replica's."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from feedsvc.models import Article

REPLICA_DATA = Path(__file__).parents[2] / "feedsvc" / "replica" / "data" / "articles.json"
_WHEN = datetime(2025, 12, 1, tzinfo=UTC)


def make_article(
    title: str,
    body: str = "",
    *,
    section: str | None = "news",
    tags: tuple[str, ...] = (),
    source: str = "rt-arabic",
    summary: str = "",
    article_id: str = "rt-arabic:1",
) -> Article:
    return Article(
        id=article_id,
        source=source,
        url=f"https://arabic.rt.com/{section or 'news'}/1-x/",
        title=title,
        summary=summary,
        content_html="",
        content_text=body,
        published=_WHEN,
        updated=_WHEN,
        fetched_at=_WHEN,
        content_hash="0",
        section=section,
        tags=tags,
    )


def replica_articles() -> list[Article]:
    """The replica's articles as the pipeline would store them (empty if absent)."""
    if not REPLICA_DATA.exists():
        return []
    data = json.loads(REPLICA_DATA.read_text(encoding="utf-8"))
    return [
        make_article(
            raw["title"],
            "\n".join(raw.get("paragraphs", [])),
            summary=raw.get("lead", ""),
            section=raw.get("section"),
            tags=tuple(tag["name"] for tag in raw.get("tags", [])),
            article_id=f"rt-arabic:{raw['id']}",
        )
        for raw in data["articles"]
    ]
