"""The replica's marked pairs: republished stories merge, look-alikes and «عاجل» items do not."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.dedupe.fingerprint import signature
from feedsvc.dedupe.ladder import KnownArticle, Resolution, identity_keys, resolve
from feedsvc.dedupe.policy import DedupePolicy
from feedsvc.replica.articles import ReplicaArticle, credit_line, load_articles, paragraph_text

from .test_dedupe_ladder import MemoryStore

DATA = Path(__file__).resolve().parents[2] / "feedsvc" / "replica" / "data" / "articles.json"
BASE = "https://arabic.rt.com/"
POLICY = DedupePolicy()

pytestmark = pytest.mark.skipif(not DATA.exists(), reason="replica content not present")


def body_text(article: ReplicaArticle) -> str:
    paragraphs = [paragraph_text(p) for p in article.paragraphs]
    credit = credit_line(article)
    return "\n\n".join([*paragraphs, credit] if credit else paragraphs)


def ingest(store: MemoryStore, article: ReplicaArticle) -> Resolution:
    """What the pipeline does with one fetched article, in publication order."""
    text = body_text(article)
    url = f"/{article.section}/{article.id}-{article.slug}/"
    keys = identity_keys("rt", url, article.title, text, article.published, base_url=BASE, policy=POLICY)
    resolution = resolve(keys, store, POLICY)
    if resolution.rung == "new":
        store.articles[keys.article_id] = KnownArticle(keys.article_id, keys.canonical_url, keys.published)
        store.aliases[keys.canonical_url] = keys.article_id
        if keys.fingerprint:
            store.fingerprints[keys.fingerprint] = keys.article_id
        store.near.add(keys.article_id, signature(text, num_perm=POLICY.num_perm), text, keys.published)
    for alias in resolution.aliases_to_add:
        store.aliases[alias] = resolution.article_id
    return resolution


@pytest.fixture(scope="module")
def survivors() -> dict[int, str]:
    _, _, articles = load_articles(DATA)
    store = MemoryStore()
    result: dict[int, str] = {}
    rungs: dict[str, int] = {}
    for article in sorted(articles.values(), key=lambda a: (a.published, a.id)):
        resolution = ingest(store, article)
        result[article.id] = resolution.article_id
        rungs[resolution.rung] = rungs.get(resolution.rung, 0) + 1
    print(f"\nreplica: {len(articles)} articles, outcome by rung {dict(sorted(rungs.items()))}")
    return result


def replica() -> dict[int, ReplicaArticle]:
    return load_articles(DATA)[2]


def test_republished_pairs_merge(survivors: dict[int, str]) -> None:
    pairs = [(a.id, a.republish_of) for a in replica().values() if a.republish_of]
    merged = [(a, b) for a, b in pairs if b in survivors and survivors[a] == survivors[b]]
    print(f"republish_of pairs merged: {len(merged)} of {len(pairs)}")
    assert merged == [(a, b) for a, b in pairs if b in survivors]


def test_similar_pairs_stay_apart(survivors: dict[int, str]) -> None:
    pairs = [(a.id, a.similar_to) for a in replica().values() if a.similar_to]
    merged = [(a, b) for a, b in pairs if b in survivors and survivors[a] == survivors[b]]
    print(f"similar_to pairs merged: {len(merged)} of {len(pairs)}")
    assert merged == []


def test_urgent_items_stay_apart(survivors: dict[int, str]) -> None:
    urgent = [a.id for a in replica().values() if "عاجل" in a.title]
    print(f"«عاجل» items: {len(urgent)}, distinct survivors: {len({survivors[a] for a in urgent})}")
    assert len({survivors[a] for a in urgent}) == len(urgent)


def test_nothing_else_merges(survivors: dict[int, str]) -> None:
    marked = {a.id for a in replica().values() if a.republish_of}
    unexpected = [aid for aid, survivor in survivors.items() if survivor != f"rt:{aid}" and aid not in marked]
    assert unexpected == []
