"""One poll.done event per poll with its counts; JSON or text; an error logged once."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
import pytest

from feedsvc.logsetup import JsonFormatter, configure_logging
from feedsvc.replica import ReplicaSite
from feedsvc.web.keys import POLLER
from tests.conftest import settings_for
from tests.faults.support import SOURCE


def events(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().split(" ", 1)[0] == name]


async def test_one_poll_done_event_per_poll_with_its_counts(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    settings = settings_for(replica.base_url, tmp_path)
    app, _, _ = await serve_feedsvc(settings)
    report = await app[POLLER].poll(settings.sources[0])
    await app[POLLER].poll(settings.sources[0])

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
    app, _, _ = await serve_feedsvc(settings)
    replica.inject("status", "/rss*", times=1, statuses=[503])
    await app[POLLER].poll(settings.sources[0])

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
        logging.getLogger("feedsvc.test").warning("feed.failed source=a url=http://x/?a=b error=x: timed out")
        line = capsys.readouterr().err.strip()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    fields = orjson.loads(line)
    assert (fields["event"], fields["level"], fields["url"], fields["error"]) == (
        "feed.failed", "warning", "http://x/?a=b", "x: timed out")
