"""The near-duplicate check compares a copy with what was published around it, whenever
feedsvc runs: after a restart, a week or a month later, the original is still found."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from feedsvc.config import DedupeSettings, SourceSettings
from feedsvc.pipeline.identity import Identity
from feedsvc.store import SQLiteStore
from tests.factories import T0, make_article

# about sixty words: above the near-duplicate check's minimum, the same story twice
STORY = " ".join(f"قالت وزارة الخارجية إن الجولة {n} من المحادثات في جنيف ستتناول ملف المعتقلين"
                 for n in range(6))
SOURCE = SourceSettings(base_url="https://arabic.rt.com")


@pytest.mark.parametrize("later", [timedelta(0), timedelta(days=7), timedelta(days=30)])
async def test_a_copy_resolved_after_a_restart_finds_its_original(
        tmp_path: Path, later: timedelta) -> None:
    store = SQLiteStore(tmp_path / "feedsvc.db")
    await store.open()
    try:
        original = make_article(1, content_text=STORY)
        copy = make_article(2, content_text=STORY + " وأضافت", published=T0 + timedelta(hours=7))
        first = Identity(store, DedupeSettings())
        resolution, keys = await first.resolve(original, SOURCE, T0 + timedelta(hours=1))
        assert resolution.article_id == original.id
        await store.save_article(original, (), (), keys.fingerprint, now=T0)

        restarted = Identity(store, DedupeSettings())  # a new process: an empty index
        resolution, _ = await restarted.resolve(copy, SOURCE, T0 + timedelta(hours=8) + later)
        assert (resolution.article_id, resolution.rung) == (original.id, "near")
    finally:
        await store.close()


async def test_an_old_copy_after_recent_ones_still_finds_its_original(tmp_path: Path) -> None:
    """The index is pruned to recent articles; an older copy loads its span again."""
    store = SQLiteStore(tmp_path / "feedsvc.db")
    await store.open()
    try:
        original = make_article(1, content_text=STORY)
        await store.save_article(original, (), now=T0)
        identity = Identity(store, DedupeSettings())
        now = T0 + timedelta(days=40)
        recent = make_article(3, content_text="خبر آخر تماما " * 30, published=now)
        await identity.resolve(recent, SOURCE, now)
        copy = make_article(2, content_text=STORY, published=T0 + timedelta(hours=2))
        resolution, _ = await identity.resolve(copy, SOURCE, now)
        assert resolution.article_id == original.id
    finally:
        await store.close()
