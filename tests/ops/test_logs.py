"""One poll.done event per poll with its counts; JSON or text; an error logged once."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
import pytest

from feedsvc.logsetup import JsonFormatter, configure_logging, get_log
from feedsvc.replica import ReplicaSite
from tests.conftest import settings_for
from tests.faults.support import SOURCE


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().split(" ", 1)[0] == name]


async def test_one_poll_done_event_per_poll_with_its_counts(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    settings = settings_for(replica.base_url, tmp_path)
    service, _, _ = await serve_feedsvc(settings)
    report = await service.poller.poll(settings.sources[0])
    await service.poller.poll(settings.sources[0])

    first, second = events(caplog, "poll.done")
    fields = orjson.loads(JsonFormatter().format(first))
    assert fields["event"] == "poll.done" and fields["logger"] == "feedsvc.scheduler"
    assert (fields["source"], fields["outcome"], fields["new"], fields["duplicate"]) == (
        SOURCE, "ok", report.new, report.duplicates)
    assert isinstance(fields["took"], float) and fields["failures"] == 0
    assert fields["next_poll_at"]
    assert orjson.loads(JsonFormatter().format(second))["feeds_not_modified"] == 1
    text = first.getMessage()
    assert f"source={SOURCE} outcome=ok items={report.items} new={report.new} " in text


async def test_an_upstream_error_is_logged_once_where_it_is_handled(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    settings = settings_for(replica.base_url, tmp_path)
    service, _, _ = await serve_feedsvc(settings)
    replica.inject("status", "/rss*", times=1, statuses=[503])
    await service.poller.poll(settings.sources[0])

    mentions = [r for r in caplog.records if "HTTP 503" in r.getMessage()]
    assert [(r.name, r.levelname) for r in mentions] == [("feedsvc.pipeline", "WARNING")]
    fields = orjson.loads(JsonFormatter().format(mentions[0]))
    assert fields["event"] == "feed.failed" and "HTTP 503" in fields["error"]
    [done] = events(caplog, "poll.done")
    assert orjson.loads(JsonFormatter().format(done))["outcome"] == "failed"


def test_json_format_writes_one_object_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("INFO", "json")
        log = get_log("feedsvc.test").bind(source="a")
        log.warning("feed.failed", url="http://x/?a=b", error="x: timed out", failures=3)
        logging.getLogger("aiohttp.server").warning("a library's own line: %s", "as text")
        lines = capsys.readouterr().err.strip().splitlines()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    event, library = map(orjson.loads, lines)
    assert (event["event"], event["level"], event["source"], event["url"], event["error"],
            event["failures"]) == ("feed.failed", "warning", "a", "http://x/?a=b", "x: timed out", 3)
    assert (library["event"], library["message"]) == ("log", "a library's own line: as text")


def test_text_format_writes_the_event_and_its_pairs(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure_logging("INFO", "text")
        get_log("feedsvc.test").info("poll.done", source="rt-arabic", error="a b", next=None)
        line = capsys.readouterr().err.strip()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    assert line.endswith('INFO feedsvc.test poll.done source=rt-arabic error="a b" next=-')
