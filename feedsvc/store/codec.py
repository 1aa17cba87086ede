"""Articles and states to and from the bytes a backend stores.

Timestamps that are sorted or compared in SQL are kept as integer microseconds
since the epoch (UTC): exact, index-friendly and the same in every backend.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import orjson

from feedsvc.models import Article, FeedItem, Image, PollState


def to_micros(moment: datetime) -> int:
    return int(moment.timestamp() * 1_000_000) if moment.tzinfo else _naive(moment)


def _naive(moment: datetime) -> int:
    raise ValueError(f"naive datetime {moment!r}: every time in feedsvc is UTC-aware")


def from_micros(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1_000_000, tz=UTC)


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def encode_article(article: Article) -> bytes:
    image = {"url": article.image.url, "caption": article.image.caption} if article.image else None
    return _dumps({
        "id": article.id, "source": article.source, "url": article.url, "title": article.title,
        "summary": article.summary, "content_html": article.content_html,
        "content_text": article.content_text, "published": article.published.isoformat(),
        "updated": article.updated.isoformat(), "fetched_at": article.fetched_at.isoformat(),
        "content_hash": article.content_hash, "author": article.author, "section": article.section,
        "tags": list(article.tags), "image": image, "language": article.language,
        "credit": article.credit, "aliases": list(article.aliases),
    })


def _dumps(value: dict[str, Any]) -> bytes:
    """orjson refuses lone surrogates; the stdlib escapes them (``\\ud800``) and reads them back.

    The renderers drop them on the way out, so an article carrying one must still be storable.
    """
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, ensure_ascii=True).encode("ascii")


def decode_article(blob: bytes, alias_keys: Iterable[str] | None = None) -> Article:
    """The stored article; with ``alias_keys`` (the alias table's keys naming it), its
    ``aliases`` are the URLs among them other than its own, sorted: what is served."""
    try:
        data: dict[str, Any] = orjson.loads(blob)
    except orjson.JSONDecodeError:  # written by _dumps' fallback
        data = json.loads(blob)
    image = data.get("image")
    return Article(
        id=data["id"], source=data["source"], url=data["url"], title=data["title"],
        summary=data["summary"], content_html=data["content_html"],
        content_text=data["content_text"], published=datetime.fromisoformat(data["published"]),
        updated=datetime.fromisoformat(data["updated"]),
        fetched_at=datetime.fromisoformat(data["fetched_at"]), content_hash=data["content_hash"],
        author=data.get("author"), section=data.get("section"), tags=tuple(data.get("tags", ())),
        image=Image(image["url"], image.get("caption", "")) if image else None,
        language=data.get("language", "ar"), credit=data.get("credit"),
        aliases=tuple(data.get("aliases", ())) if alias_keys is None else tuple(sorted(
            {key for key in alias_keys if "://" in key and key != data["url"]})),
    )


def encode_feed_item(item: FeedItem) -> bytes:
    """What the feed said of an article, kept in its page state."""
    image = {"url": item.image.url, "caption": item.image.caption} if item.image else None
    return _dumps({
        "source": item.source, "native_id": item.native_id, "url": item.url,
        "title": item.title, "summary": item.summary, "published": _iso(item.published),
        "image": image, "section": item.section, "categories": list(item.categories),
        "author": item.author,
    })


def decode_feed_item(blob: bytes) -> FeedItem:
    try:
        data: dict[str, Any] = orjson.loads(blob)
    except orjson.JSONDecodeError:  # written by _dumps' fallback
        data = json.loads(blob)
    image = data.get("image")
    return FeedItem(
        source=data["source"], native_id=data["native_id"], url=data["url"],
        title=data.get("title", ""), summary=data.get("summary", ""),
        published=_time(data.get("published")),
        image=Image(image["url"], image.get("caption", "")) if image else None,
        section=data.get("section"), categories=tuple(data.get("categories", ())),
        author=data.get("author"),
    )


def encode_poll_state(state: PollState) -> bytes:
    return orjson.dumps({
        "next_poll_at": _iso(state.next_poll_at), "last_success_at": _iso(state.last_success_at),
        "last_attempt_at": _iso(state.last_attempt_at), "last_error": state.last_error,
        "consecutive_failures": state.consecutive_failures,
        "validators": [list(v) for v in state.validators],
        "feed_items": [[url, list(ids)] for url, ids in state.feed_items],
        "last_backfill_at": _iso(state.last_backfill_at),
    })


def decode_poll_state(source: str, blob: bytes) -> PollState:
    data: dict[str, Any] = orjson.loads(blob)
    return PollState(
        source=source, next_poll_at=_time(data.get("next_poll_at")),
        last_success_at=_time(data.get("last_success_at")),
        last_attempt_at=_time(data.get("last_attempt_at")), last_error=data.get("last_error"),
        consecutive_failures=int(data.get("consecutive_failures", 0)),
        validators=tuple((v[0], v[1], v[2]) for v in data.get("validators", ())),
        feed_items=tuple((url, tuple(ids)) for url, ids in data.get("feed_items", ())),
        last_backfill_at=_time(data.get("last_backfill_at")),
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
