"""A compiled topics file kept as a snapshot: the same index, loaded without parsing or
compiling; refused whole when its bytes are anything but plain values of this format."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedsvc.topics import compile_topics, load_topics, snapshot
from feedsvc.topics.model import DEFAULT_LIMITS, TopicLimits
from tests.conftest import SHIPPED_TOPICS
from tests.topics.test_index import random_queries, random_texts, topic
from tests.topics.topic_articles import make_article, replica_articles


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(random_queries(), st.one_of(st.none(), random_queries()), st.booleans()),
             min_size=1, max_size=12),
    random_texts(8), random_texts(40), st.lists(random_texts(3), max_size=3),
    st.sampled_from(["news", "sport", "middle_east"]),
)
def test_a_loaded_snapshot_matches_as_the_compiled_index(
        specs: list[tuple[str, str | None, bool]], title: str, body: str, tags: list[str],
        section: str) -> None:
    topics = [topic(f"t{n}", query, exclude=exclude, sections=("news",) if scoped else ())
              for n, (query, exclude, scoped) in enumerate(specs)]
    index = compile_topics(topics)
    loaded_topics, loaded = snapshot.loads(snapshot.dumps(index))
    assert loaded_topics == tuple(topics)
    article = make_article(title, body, section=section, tags=tuple(tags))
    assert loaded.match(article) == index.match(article)
    for slug in index.slugs:
        assert loaded.explain(slug, article) == index.explain(slug, article)


def test_the_replica_articles_match_alike_after_a_round_trip() -> None:
    index = compile_topics(load_topics(SHIPPED_TOPICS))
    _, loaded = snapshot.loads(snapshot.dumps(index))
    for article in replica_articles():
        assert loaded.match(article) == index.match(article)


def test_anything_but_plain_values_is_refused() -> None:
    class Sneaky:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (print, ("never called",))

    forged = snapshot.FORMAT + pickle.dumps(Sneaky(), protocol=5)
    with pytest.raises(snapshot.SnapshotError, match="plain values only"):
        snapshot.loads(forged)
    with pytest.raises(snapshot.SnapshotError):
        snapshot.loads(b"not a snapshot")
    with pytest.raises(snapshot.SnapshotError):
        snapshot.loads(snapshot.FORMAT + pickle.dumps((1, 2), protocol=5))


def test_the_digest_names_the_bytes_and_the_limits() -> None:
    text = b'[[topics]]\nslug = "a"\ntitle = "a"\nquery = "a"\n'
    assert snapshot.digest(text, DEFAULT_LIMITS) == snapshot.digest(text, DEFAULT_LIMITS)
    assert snapshot.digest(text, DEFAULT_LIMITS) != snapshot.digest(text + b" ", DEFAULT_LIMITS)
    assert snapshot.digest(text, DEFAULT_LIMITS) != snapshot.digest(text, TopicLimits(max_topics=5))
