"""Saved article pages against the expected results written beside them.

``pages/`` holds pages rendered from the replica; ``handmade/`` holds pages
written by hand for cases the replica does not produce (missing blocks, wrong
encoding, hostile markup). Each ``<name>.html`` has a ``<name>.expected.json``.
Hand-made expectations may add ``charset`` (what the HTTP header claimed),
``provenance`` (a subset of field → step) and ``error`` (a fragment of the
``ExtractError`` message, when the page must be refused).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from feedsvc.errors import ExtractError
from feedsvc.extract import extract_article
from feedsvc.models import RawArticle
from feedsvc.normalize.html import clean_body

HERE = Path(__file__).parent
PAGES = sorted((HERE / "pages").glob("*.html")) + sorted((HERE / "handmade").glob("*.html"))
# Hand-made pages include a future date that must be clamped to this moment;
# replica pages may be dated up to today, so they are read as of a later one.
NOW_HANDMADE = datetime(2025, 12, 31, 12, 0, tzinfo=UTC)
NOW_REPLICA = datetime(2100, 1, 1, tzinfo=UTC)


def _expected(page: Path) -> dict[str, Any]:
    return json.loads(page.with_suffix(".expected.json").read_text(encoding="utf-8"))


def _extract(page: Path, expected: dict[str, Any]) -> RawArticle:
    now = NOW_HANDMADE if page.parent.name == "handmade" else NOW_REPLICA
    return extract_article(page.read_bytes(), expected["url"], now=now, charset=expected.get("charset"))


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_saved_page(page: Path) -> None:
    expected = _expected(page)
    if "error" in expected:
        with pytest.raises(ExtractError, match=expected["error"]):
            _extract(page, expected)
        return
    raw = _extract(page, expected)
    assert raw.url == expected["url"]
    assert str(expected["id"]).rpartition(":")[2] in raw.url
    assert raw.title == expected["title"]
    assert raw.summary == expected["summary"]
    assert raw.section == expected["section_name"]
    assert raw.credit == expected["credit"]
    assert raw.author == expected["author"]
    assert list(raw.tags) == expected["tags"]
    _check_image(raw, expected["image"])
    _check_times(raw, expected)
    body_text = clean_body(raw.body_html or "", raw.url).text
    assert body_text.split("\n\n") == expected["body_text"]
    provenance = dict(raw.provenance)
    for field, step in expected.get("provenance", {}).items():
        assert provenance.get(field) == step, field


def _check_image(raw: RawArticle, image: dict[str, str] | None) -> None:
    if image is None:
        assert raw.image is None
        return
    assert raw.image is not None
    assert raw.image.url == image["url"]
    assert raw.image.caption == (image.get("caption") or "")


def _check_times(raw: RawArticle, expected: dict[str, Any]) -> None:
    assert raw.published == _when(expected["published"])
    assert raw.modified == _when(expected["modified"])
    for moment in (raw.published, raw.modified):
        assert moment is None or moment.utcoffset() is not None


def test_pages_were_found() -> None:
    assert len(PAGES) >= 11
    for page in PAGES:
        assert page.with_suffix(".expected.json").exists(), page.name
