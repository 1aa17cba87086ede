"""The identity ladder against a small in-memory store."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from feedsvc.dedupe.fingerprint import signature
from feedsvc.dedupe.ladder import KnownArticle, identity_keys, resolve
from feedsvc.dedupe.near import NearDuplicateIndex
from feedsvc.dedupe.policy import DedupePolicy

BASE = "https://arabic.rt.com/"
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
BODY = "\n\n".join(
    f"قال وزير الخارجية الروسي سيرغي لافروف في المؤتمر رقم {i} إن المحادثات حول سوريا كانت بناءة ومثمرة"
    for i in range(5)
)


@dataclass
class MemoryStore:
    articles: dict[str, KnownArticle] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    near: NearDuplicateIndex = field(default_factory=NearDuplicateIndex)

    def by_id(self, article_id: str) -> KnownArticle | None:
        return self.articles.get(article_id)

    def by_alias(self, url: str) -> KnownArticle | None:
        found = self.aliases.get(url)
        return None if found is None else self.articles[found]

    def by_fingerprint(self, fingerprint: str) -> KnownArticle | None:
        found = self.fingerprints.get(fingerprint)
        return None if found is None else self.articles[found]

    def put(self, url: str, text: str, published: datetime) -> str:
        keys = identity_keys("rt", url, "عنوان", text, published, base_url=BASE)
        self.articles[keys.article_id] = KnownArticle(keys.article_id, keys.canonical_url, published)
        self.aliases[keys.canonical_url] = keys.article_id
        if keys.fingerprint:
            self.fingerprints[keys.fingerprint] = keys.article_id
        self.near.add(keys.article_id, signature(text), text, published)
        return keys.article_id


def keys(url: str, text: str = BODY, published: datetime = T0, title: str = "عنوان"):  # type: ignore[no-untyped-def]
    return identity_keys("rt", url, title, text, published, base_url=BASE, mirror_hosts=["ar.rt.com"])


def test_same_id_under_another_url_is_the_id_rung_and_records_an_alias() -> None:
    store = MemoryStore()
    store.put("/news/100-a/", BODY, T0)
    resolution = resolve(keys("https://ar.rt.com/world/100-b?utm_source=rss", "آخر"), store)
    assert (resolution.article_id, resolution.rung) == ("rt:100", "id")
    assert resolution.aliases_to_add == ("https://arabic.rt.com/world/100-b/",)
    assert resolve(keys("/news/100-a"), store).aliases_to_add == ()


def test_url_without_id_is_named_by_its_canonical_url() -> None:
    store = MemoryStore()
    article_id = store.put("/features/longread/", BODY, T0)
    resolution = resolve(keys("http://www.arabic.rt.com/features/longread?fbclid=1", "نص"), store)
    assert article_id.startswith("rt:u")
    assert resolve(keys("http://www.arabic.rt.com/features/longread/?fbclid=1", "نص"), store).rung == "id"
    assert resolution.rung == "new"  # no trailing slash on a non-article path: another URL


def test_alias_recorded_by_a_merge_resolves_by_url() -> None:
    store = MemoryStore()
    store.put("/news/100-a/", BODY, T0)
    store.aliases["https://arabic.rt.com/features/longread/"] = "rt:100"
    resolution = resolve(keys("https://ar.rt.com/features/longread/#x", "نص"), store)
    assert (resolution.article_id, resolution.rung) == ("rt:100", "url")


def test_same_body_under_a_new_id_is_the_fingerprint_rung() -> None:
    store = MemoryStore()
    store.put("/news/100-a/", BODY, T0)
    resolution = resolve(keys("/news/400-b/", BODY.replace("لافروف", "لاڤروف"), T0 + timedelta(hours=1), "جديد"), store)
    assert (resolution.article_id, resolution.rung) == ("rt:100", "fingerprint")
    assert resolution.aliases_to_add == ("https://arabic.rt.com/news/400-b/",)
    assert resolution.absorbed is None


def test_edited_republish_is_the_near_rung() -> None:
    store = MemoryStore()
    store.put("/news/100-a/", BODY, T0)
    edited = BODY.replace("بناءة ومثمرة", "بناءة جدا", 1)
    resolution = resolve(keys("/news/400-b/", edited, T0 + timedelta(hours=1)), store)
    assert (resolution.article_id, resolution.rung) == ("rt:100", "near")


def test_an_earlier_candidate_survives_and_absorbs_the_stored_copy() -> None:
    store = MemoryStore()
    store.put("/news/400-b/", BODY, T0)
    resolution = resolve(keys("/news/100-a/", BODY, T0 - timedelta(hours=1)), store)
    assert (resolution.article_id, resolution.absorbed) == ("rt:100", "rt:400")
    assert resolution.aliases_to_add == ("https://arabic.rt.com/news/400-b/",)


def test_short_items_with_one_title_stay_apart() -> None:
    store = MemoryStore()
    store.put("/news/100-a/", "انفجار في العاصمة", T0)
    resolution = resolve(keys("/news/101-b/", "انفجار في العاصمة", T0, "عاجل"), store)
    assert (resolution.article_id, resolution.rung) == ("rt:101", "new")


def test_unrelated_story_is_new_and_policy_is_honoured() -> None:
    store = MemoryStore()
    store.put("/news/100-a/", BODY, T0)
    other = "\n\n".join(
        f"ارتفعت أسعار النفط في الجلسة {i} مع تراجع المخزونات الأمريكية وترقب اجتماع أوبك" for i in range(6)
    )
    assert resolve(keys("/news/500-c/", other, T0), store).rung == "new"
    late = keys("/news/400-b/", BODY.replace("بناءة", "جيدة"), T0 + timedelta(days=30))
    assert resolve(late, store, DedupePolicy(window=timedelta(days=1))).rung == "new"
