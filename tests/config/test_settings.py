"""Settings: defaults, overrides, errors with file and line, and complete documentation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from feedsvc.config import iter_documented_keys, load_settings, parse_duration
from feedsvc.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "feedsvc.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ or {})
    return caught.value.problems


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [key for key, _, _ in iter_documented_keys() if f"`{key}`" not in doc]
    assert missing == [], f"add these keys to docs/configuration.md: {missing}"


def test_every_setting_has_help() -> None:
    assert all(help_line.strip() for _, _, help_line in iter_documented_keys())


def test_shipped_config_loads_with_contract_values() -> None:
    settings = load_settings(ROOT / "config" / "feedsvc.toml", {})
    assert settings.server.port == 8080
    assert settings.sources[0].interval == timedelta(minutes=5)
    assert settings.topics_file == (ROOT / "config" / "topics.toml").resolve()
    assert settings.storage.url == "sqlite:///" + str((ROOT / "data" / "feedsvc.db").resolve())
    assert settings.scheduler.poller_process  # readers first, as shipped


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = 8080\n")
    settings = load_settings(path, {"FEEDSVC_SERVER_PORT": "9001", "FEEDSVC_LOGGING_FORMAT": "json",
                                    "FEEDSVC_SCHEDULER_TICK": "2s"})
    assert settings.server.port == 9001
    assert settings.logging.format == "json"
    assert settings.scheduler.tick == timedelta(seconds=2)


def test_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    assert problems_of(path, {"FEEDSVC_SERVER_PORT": "http"}) == [
        "environment:0: FEEDSVC_SERVER_PORT: 'http': expected a whole number"]


def test_syntax_error_gives_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\nport = 8080\nhost = "unclosed\n')
    assert problems_of(path) == [f"{path}:3:17: Illegal character '\\n'"]


def test_every_problem_is_reported_at_once_with_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, """topics_file = "t.toml"
[server]
port = 70000
colour = "blue"
[[sources]]
name = "rt-arabic"
interval = "5 minutes"
[[sources]]
name = "rt-arabic"
base_url = "ftp://example.org"
site_timezone = "Mars/Olympus"
""")
    assert problems_of(path) == [
        f"{path}:4: server.colour: unknown key",
        f"{path}:7: sources[0].interval: '5 minutes': '5 minutes' is not a duration; use e.g. '90s', '5m', '1h', '7d'",
        f"{path}:3: server.port: 70000 is not a TCP port (1-65535)",
        f"{path}:9: sources[1].name: 'rt-arabic' is used by another source",
        f"{path}:10: sources[1].base_url: 'ftp://example.org' is not an http(s) URL",
        f"{path}:11: sources[1].site_timezone: 'Mars/Olympus' is not a known time zone",
    ]


def test_unknown_table_and_wrong_types(tmp_path: Path) -> None:
    path = write(tmp_path, '[servre]\nport = 1\n[fetch]\nrespect_robots = "maybe"\nmax_redirects = 1.5\n')
    assert problems_of(path) == [
        f"{path}:1: servre: unknown key",
        f"{path}:4: fetch.respect_robots: 'maybe': expected true or false",
        f"{path}:5: fetch.max_redirects: 1.5: expected a whole number",
    ]


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    [problem] = problems_of(tmp_path / "absent.toml")
    assert problem == f"{tmp_path / 'absent.toml'}: cannot read the file: No such file or directory"


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("7d", 604800), (300, 300), ("45", 45)])
def test_durations(text: str | int, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "5x", "m5", "-5", True, [1], "1h 5q"])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_selectors_table_overrides_defaults_and_bad_selector_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, '[[sources]]\nname = "rt-arabic"\n[sources.selectors]\nheadline = "h1.title"\n')
    selectors = load_settings(path, {}).sources[0].selectors
    assert selectors.headline == "h1.title"
    assert selectors.body == "div.text.js-text.js-mediator-article > p"
    path = write(tmp_path, '[[sources]]\nname = "rt-arabic"\n[sources.selectors]\nbody = "div..x"\n')
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:3: sources[0].selectors:") and "not a CSS selector" in problem


def test_dedupe_table_is_checked_with_its_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "[dedupe]\nthreshold = 1.5\nbands = 33\nretractions = \"hide\"\n")
    assert problems_of(path) == [
        f"{path}:2: dedupe.threshold: 1.5: must be in (0, 1]",
        f"{path}:3: dedupe.bands: 33: must divide num_perm (128)",
        f"{path}:4: dedupe.retractions: 'hide' is not 'remove' or 'keep'",
    ]


def test_the_recheck_schedule_and_the_grace_period_read_and_are_checked(tmp_path: Path) -> None:
    path = write(tmp_path, '[[sources]]\nname = "rt-arabic"\nrecheck_after = ["30m", "2h", "1d"]\n'
                           'feed_only_after = "45m"\nrecheck_max_per_poll = 10\n')
    source = load_settings(path, {}).sources[0]
    assert source.recheck_after == (timedelta(minutes=30), timedelta(hours=2), timedelta(days=1))
    assert (source.feed_only_after, source.recheck_max_per_poll) == (timedelta(minutes=45), 10)
    assert load_settings(write(tmp_path, ""), {}).sources[0].recheck_after == (
        timedelta(minutes=15), timedelta(hours=1), timedelta(hours=6), timedelta(hours=24),
        timedelta(hours=48))
    path = write(tmp_path, '[[sources]]\nname = "rt-arabic"\nrecheck_after = []\n')
    assert load_settings(path, {}).sources[0].recheck_after == ()
    path = write(tmp_path, '[[sources]]\nname = "rt-arabic"\nrecheck_after = ["1h", "15m"]\n'
                           'feed_only_after = "soon"\nrecheck_max_per_poll = -1\n')
    [grace, bound, order] = problems_of(path)
    assert grace == f"{path}:4: sources[0].feed_only_after: 'soon': 'soon' is not a duration; use e.g. '90s', '5m', '1h', '7d'"
    assert order.startswith(f"{path}:3: sources[0].recheck_after: list durations longer than 0 in ascending order")
    assert bound == f"{path}:5: sources[0].recheck_max_per_poll: cannot be negative"
    path = write(tmp_path, '[[sources]]\nname = "rt-arabic"\nrecheck_after = [15]\n')
    assert load_settings(path, {}).sources[0].recheck_after == (timedelta(seconds=15),)
    path = write(tmp_path, '[[sources]]\nname = "rt-arabic"\nrecheck_after = {a = 1}\n')
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:3: sources[0].recheck_after: ")
    assert problem.endswith("expected a list of durations such as ['15m', '1h']")


def test_the_changes_table_reads_and_is_checked(tmp_path: Path) -> None:
    path = write(tmp_path, '[changes]\ndeleted_window = "2d"\nretention = "10d"\n'
                           'deleted_max = 50\npage_size = 20\nmax_page_size = 500\n')
    changes = load_settings(path, {}).changes
    assert (changes.deleted_window, changes.retention) == (timedelta(days=2), timedelta(days=10))
    assert (changes.deleted_max, changes.page_size, changes.max_page_size) == (50, 20, 500)
    path = write(tmp_path, '[changes]\ndeleted_window = "7d"\nretention = "1d"\n'
                           'deleted_max = 20000\npage_size = 0\n')
    found = problems_of(path)
    assert f"{path}:3: changes.retention: must be at least deleted_window (a deletion a feed " \
           "lists must still be in the change stream)" in found
    assert f"{path}:4: changes.deleted_max: must be from 0 to 10000" in found
    assert f"{path}:5: changes.page_size: must be at least 1" in found


def test_the_share_a_poll_takes_while_serving_is_read_and_checked(tmp_path: Path) -> None:
    path = write(tmp_path, "[scheduler]\nshare_while_serving = 0.5\n")
    assert load_settings(path, {}).scheduler.share_while_serving == 0.5
    assert load_settings(path, {"FEEDSVC_SCHEDULER_SHARE_WHILE_SERVING": "1"}
                         ).scheduler.share_while_serving == 1.0
    for bad in ("0", "1.5", "-0.25"):
        path = write(tmp_path, f"[scheduler]\nshare_while_serving = {bad}\n")
        assert problems_of(path) == [
            f"{path}:2: scheduler.share_while_serving: {bad if bad != '0' else '0.0'}: "
            "must be more than 0 and at most 1"]
