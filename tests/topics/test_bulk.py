"""The collector pause around bulk builds (counted, restored, never left off), and the
freeze at start-up, which only an index without cycles makes safe."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feedsvc import livetopics
from feedsvc.service import open_service
from feedsvc.topics import compile_topics, load_topics, snapshot
from feedsvc.topics.bulk import collector_paused, freeze_start_up
from tests.conftest import SHIPPED_TOPICS, Clock, settings_for
from tests.factories import make_article


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    (gc.enable if enabled else gc.disable)()


def test_the_collector_is_off_inside_and_on_again_after() -> None:
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_pauses_end_with_the_last_one() -> None:
    gc.enable()
    first, second = collector_paused(), collector_paused()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not gc.isenabled(), "the second build still runs"
    second.__exit__(None, None, None)
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with collector_paused():
        pass
    assert not gc.isenabled()


def test_a_failing_build_ends_the_pause() -> None:
    gc.enable()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("bad topic")
    assert gc.isenabled()


def test_pauses_from_many_threads_leave_it_on() -> None:
    gc.enable()
    start = threading.Barrier(8)

    def build() -> None:
        start.wait()
        for _ in range(200):
            with collector_paused():
                pass

    threads = [threading.Thread(target=build) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gc.isenabled()


def test_freezing_at_start_up_leaves_objects_out_of_collections() -> None:
    alive = [object() for _ in range(3)]
    try:
        freeze_start_up()
        assert gc.get_freeze_count() >= len(alive)
    finally:
        gc.unfreeze()  # this test process goes on opening services


async def test_a_start_up_freezes_its_build_before_the_collector_walks_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ending the parse's pause would start a collection of all it built, before the
    compile's pause began: the start-up keeps one pause until the freeze."""
    parsed = threading.Event()
    parse = livetopics.parse_topics

    def parse_and_tell(*args: Any) -> Any:
        topics = parse(*args)
        parsed.set()
        return topics

    monkeypatch.setattr(livetopics, "parse_topics", parse_and_tell)
    walks_of_the_build: list[dict[str, int]] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and parsed.is_set() and gc.get_freeze_count() == 0:
            walks_of_the_build.append(info)

    gc.enable()
    gc.collect()
    gc.callbacks.append(seen)
    try:
        async with open_service(settings_for("http://127.0.0.1:9", tmp_path), clock=Clock(),
                                serving=False, scheduling=False, freeze=True):
            assert parsed.is_set() and gc.get_freeze_count() > 0
            assert gc.isenabled()
    finally:
        gc.callbacks.remove(seen)
        gc.unfreeze()  # this test process goes on opening services
    assert walks_of_the_build == []


@pytest.mark.parametrize("from_snapshot", [False, True])
def test_a_compiled_index_is_freed_by_reference_counting_alone(from_snapshot: bool) -> None:
    """The heap is frozen at start-up, so a cycle in the index would never be freed
    when a reload replaces it."""
    topics = load_topics(SHIPPED_TOPICS)
    index = compile_topics(topics)
    if from_snapshot:
        index = snapshot.loads(snapshot.dumps(index))[1]
    for number in range(1, 30):  # fill the memos: tokens, spellings, keywords
        article = make_article(number)
        index.match(article)
        index.explain(topics[0].slug, article)
    gc.collect()
    gc.disable()
    try:
        ref = weakref.ref(index)
        del index
        assert ref() is None, "the index is in a reference cycle"
    finally:
        gc.enable()
