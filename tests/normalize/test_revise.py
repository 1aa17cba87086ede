"""``revise``: what an article stored again keeps, and when ``updated`` moves.

The rule: a change of content moves ``updated`` to the page's declared modified time
when that is newer, else to the time the change was seen; an unchanged page never
moves it; it never goes back and is never later than the fetch that saw it.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from feedsvc.models import Article, FeedItem, RawArticle
from feedsvc.normalize.article import build_article, revise
from tests.factories import T0

MINUTE = timedelta(minutes=1)
ITEM = FeedItem("rt-arabic", "1980001", "https://arabic.rt.com/news/1980001-x/", "عنوان",
                "ملخص", T0)


def page(body: str, *, modified: timedelta | None, fetched: timedelta) -> Article:
    """The article built from a page read at ``T0 + fetched`` declaring ``T0 + modified``."""
    raw = RawArticle(url=ITEM.url, title="عنوان", body_html=f"<p>{body}</p>", published=T0,
                     modified=T0 + modified if modified is not None else None)
    return build_article(ITEM, raw, fetched_at=T0 + fetched)


def test_an_edit_without_a_declared_time_moves_updated_to_when_it_was_seen() -> None:
    first = page("قبل", modified=None, fetched=2 * MINUTE)
    assert first.updated == T0
    edited = revise(first, page("بعد", modified=None, fetched=90 * MINUTE))
    assert edited.updated == T0 + 90 * MINUTE and edited.published == T0


def test_an_edit_with_a_declared_time_takes_that_time() -> None:
    first = page("قبل", modified=timedelta(0), fetched=2 * MINUTE)
    edited = revise(first, page("بعد", modified=40 * MINUTE, fetched=90 * MINUTE))
    assert edited.updated == T0 + 40 * MINUTE


def test_a_declared_time_no_newer_than_the_stored_one_counts_as_none() -> None:
    first = page("قبل", modified=10 * MINUTE, fetched=20 * MINUTE)
    edited = revise(first, page("بعد", modified=10 * MINUTE, fetched=90 * MINUTE))
    assert edited.updated == T0 + 90 * MINUTE


def test_an_unchanged_page_never_moves_updated_whatever_it_declares() -> None:
    first = page("نص", modified=None, fetched=2 * MINUTE)
    again = revise(first, page("نص", modified=50 * MINUTE, fetched=90 * MINUTE))
    assert again.updated == first.updated and again.content_hash == first.content_hash


def test_a_modified_time_in_the_future_is_cut_to_the_fetch() -> None:
    first = page("قبل", modified=None, fetched=2 * MINUTE)
    edited = revise(first, page("بعد", modified=timedelta(days=3), fetched=30 * MINUTE))
    assert edited.updated == T0 + 30 * MINUTE


def test_a_feed_only_version_upgraded_by_its_page_moves_updated() -> None:
    stub = build_article(ITEM, None, fetched_at=T0 + 5 * MINUTE)
    full = revise(stub, page("النص الكامل", modified=None, fetched=35 * MINUTE))
    assert full.updated == T0 + 35 * MINUTE and full.id == stub.id


VERSIONS = st.lists(st.tuples(
    st.sampled_from(["أ", "ب"]),  # a page flipping between two versions
    st.one_of(st.none(), st.integers(-60, 10_000).map(lambda m: m * MINUTE)),  # declared
    st.integers(1, 600).map(lambda m: m * MINUTE),  # minutes until the next fetch
), min_size=1, max_size=12)


@given(VERSIONS)
def test_updated_never_goes_back_never_passes_the_fetch_and_moves_only_on_change(
        versions: list[tuple[str, timedelta | None, timedelta]]) -> None:
    fetched = timedelta(0)
    stored: Article | None = None
    for body, modified, gap in versions:
        fetched += gap
        current = page(body, modified=modified, fetched=fetched)
        if stored is None:
            stored = current
            continue
        revised = revise(stored, current)
        assert stored.updated <= revised.updated <= T0 + fetched
        assert revised.published == stored.published <= revised.updated
        if revised.content_hash == stored.content_hash:
            assert revised.updated == stored.updated
        else:
            assert revised.updated > stored.updated, "every real change is shown"
        stored = revised
