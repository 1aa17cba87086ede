"""The near-duplicate index: candidates, confirmation, window, earliest survivor."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from feedsvc.dedupe.fingerprint import shingles, signature
from feedsvc.dedupe.near import NearDuplicateIndex
from feedsvc.dedupe.policy import DedupePolicy, policy_help
from feedsvc.errors import ConfigError

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
VOCAB = "سوريا روسيا مجلس الأمن وزير الخارجية أعلن اليوم المحادثات جنيف قرار النفط الأسعار الجيش مدينة غزة".split()
POLICY = DedupePolicy()


def story(seed: int, words: int = 120) -> str:
    rng = random.Random(seed)
    return " ".join(rng.choice(VOCAB) + str(rng.randrange(50)) for _ in range(words))


def edited(text: str, every: int = 25) -> str:
    words = text.split()
    return " ".join("تعديل" if i % every == 0 else w for i, w in enumerate(words))


def find(index: NearDuplicateIndex, text: str, at: datetime = T0, **overrides: object):  # type: ignore[no-untyped-def]
    options: dict[object, object] = {
        "window": POLICY.window, "threshold": POLICY.threshold, "min_tokens": POLICY.min_tokens
    }
    options.update(overrides)
    return index.find(text, at, **options)  # type: ignore[arg-type]


def indexed(*texts: tuple[str, str, datetime]) -> NearDuplicateIndex:
    index = NearDuplicateIndex(POLICY)
    for article_id, text, published in texts:
        assert index.add(article_id, signature(text), text, published)
    return index


def test_republished_story_is_found() -> None:
    index = indexed(("rt:1", story(1), T0), ("rt:2", story(2), T0))
    match = find(index, edited(story(1)), T0 + timedelta(hours=2))
    assert match is not None and match.article_id == "rt:1" and match.similarity >= POLICY.threshold


def test_unrelated_story_is_not_found() -> None:
    assert find(indexed(("rt:1", story(1), T0)), story(3)) is None


def test_earliest_published_wins() -> None:
    index = indexed(("rt:late", story(1), T0 + timedelta(hours=5)), ("rt:early", edited(story(1), 30), T0))
    match = find(index, story(1), T0 + timedelta(hours=6))
    assert match is not None and match.article_id == "rt:early"


def test_window_limits_candidates() -> None:
    index = indexed(("rt:1", story(1), T0))
    assert find(index, story(1), T0 + POLICY.window + timedelta(seconds=1)) is None
    assert find(index, story(1), T0 - POLICY.window) is not None


def test_short_bodies_never_match() -> None:
    index = indexed(("rt:1", "انفجار في العاصمة", T0))
    assert find(index, "انفجار في العاصمة") is None
    assert find(index, "انفجار في العاصمة", min_tokens=1) is not None  # the guard is the only reason


def test_boilerplate_only_pages_never_match() -> None:
    page = "مباشر\n\nأين يمكنك متابعتنا\n\nأقسام مهمة\n\nالتعليقات\n\nالمصدر: نوفوستي"
    index = NearDuplicateIndex(POLICY)
    assert not index.add("rt:1", signature(page), page, T0)
    assert find(index, page, min_tokens=1) is None


def test_remove_prune_exclude_and_shingle_input() -> None:
    index = NearDuplicateIndex(POLICY)
    index.add("rt:1", signature(story(1)), shingles(story(1)), T0)
    index.add("rt:2", signature(story(2)), story(2), T0 + timedelta(days=1))
    assert find(index, story(1), exclude="rt:1") is None
    index.remove("rt:1")
    index.remove("rt:unknown")
    assert find(index, story(1)) is None and len(index) == 1
    assert index.prune(T0 + timedelta(days=2)) == 1 and len(index) == 0


def test_shared_buckets_survive_removal() -> None:
    index = indexed(("rt:1", story(1), T0), ("rt:2", story(1), T0 + timedelta(hours=1)))
    index.remove("rt:1")
    match = find(index, story(1))
    assert match is not None and match.article_id == "rt:2"


def test_signature_size_must_match() -> None:
    with pytest.raises(ValueError):
        NearDuplicateIndex(POLICY).add("rt:1", signature(story(1), num_perm=64), story(1), T0)


def test_policy_validation_and_help() -> None:
    with pytest.raises(ConfigError, match="dedupe.bands"):
        DedupePolicy(bands=7)
    assert set(policy_help()) == {"min_tokens", "threshold", "window", "num_perm", "bands"}
    assert all(policy_help().values())
