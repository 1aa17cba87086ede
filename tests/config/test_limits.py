"""The settings file is read within limits, and every fault is one ``file:line[:column]`` line."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.config import load_settings
from feedsvc.config.loader import MAX_SETTINGS_BYTES
from feedsvc.errors import ConfigError
from feedsvc.tomlfile import MAX_NESTING


def write(tmp_path: Path, data: bytes | str) -> Path:
    path = tmp_path / "feedsvc.toml"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def problems_of(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ or {})
    return caught.value.problems


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "# padding\n" * (MAX_SETTINGS_BYTES // 10 + 1))
    size = path.stat().st_size
    assert problems_of(path) == [
        f"{path}: {size} bytes: larger than the limit of {MAX_SETTINGS_BYTES} for a settings file"]


def test_a_file_at_the_size_limit_is_read(tmp_path: Path) -> None:
    padding = "#" * (MAX_SETTINGS_BYTES - len("[server]\nport = 9000\n") - 1) + "\n"
    path = write(tmp_path, "[server]\nport = 9000\n" + padding)
    assert path.stat().st_size == MAX_SETTINGS_BYTES
    assert load_settings(path, {}).server.port == 9000


def test_a_folder_is_not_a_settings_file(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == [f"{tmp_path}: cannot read the file: not a regular file"]


def test_bytes_that_are_not_utf8_are_located(tmp_path: Path) -> None:
    path = write(tmp_path, b'[server]\nsite_title = "caf\xe9"\n')
    assert problems_of(path) == [
        f"{path}:2:18: not UTF-8 text: byte 0xe9 (invalid continuation byte); save the file as UTF-8"]


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeff[server]\nport = 9001\n")
    assert load_settings(path, {}).server.port == 9001


def test_a_nul_byte_is_a_syntax_fault_with_its_position(tmp_path: Path) -> None:
    path = write(tmp_path, b"[server]\nport = 80\x0080\n")
    assert problems_of(path) == [f"{path}:2:10: Expected newline or end of document after a statement"]


@pytest.mark.parametrize(("opening", "closing"), [("[", "]"), ("{ a = ", " }")])
def test_arrays_and_inline_tables_nested_too_deep_stop_before_parsing(
        tmp_path: Path, opening: str, closing: str) -> None:
    path = write(tmp_path, "[server]\nhost = " + opening * 5000 + "1" + closing * 5000 + "\n")
    column = len("host = ") + 1 + MAX_NESTING * len(opening)
    assert problems_of(path) == [
        f"{path}:2:{column}: arrays and tables nested 17 deep: deeper than the limit of 16"]


def test_nesting_within_the_limit_reaches_the_type_check(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nhost = " + "[" * 15 + "1" + "]" * 15 + "\n")
    assert problems_of(path) == [f"{path}:2: server.host: an array of 1: expected a string"]


def test_brackets_inside_strings_and_comments_do_not_count(tmp_path: Path) -> None:
    brackets = "[" * 40
    path = write(tmp_path, f"""# {brackets}
[server]
site_title = "{brackets}"   # {brackets}
[[sources]]
name = 'rt-arabic'
selectors = {{ body = '''{brackets}
{brackets}''' }}
""")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:6: sources[0].selectors:")  # the CSS check, past parsing


def test_a_long_dotted_key_stops_before_parsing(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nhost" + ".k" * 100_000 + " = 1\n")
    assert problems_of(path) == [
        f"{path}:2:{len('host') + 1 + 16 * 2}: a dotted key of more than 17 parts: deeper than the limit of 16"]


def test_a_line_of_dots_in_a_string_is_scanned_and_read(tmp_path: Path) -> None:
    """Dots in a string: the line is looked at closely, and found to hold no long key."""
    path = write(tmp_path, '[server]\nsite_title = "' + "." * 40 + '"\n')
    assert load_settings(path, {}).server.site_title == "." * 40


def test_a_nesting_fault_comes_before_a_later_syntax_error(tmp_path: Path) -> None:
    """Seen by the parser first as a syntax error further on, the file is scanned and
    the nesting, earlier, is what is reported, as when the scan ran first."""
    path = write(tmp_path, "[server]\nhost = " + "[" * 20 + "1" + "]" * 20 + "\nport = = 1\n")
    assert problems_of(path) == [
        f"{path}:2:{len('host = ') + 1 + MAX_NESTING}: arrays and tables nested 17 deep: "
        "deeper than the limit of 16"]


def test_depth_built_from_headers_and_keys_is_measured_after_parsing(tmp_path: Path) -> None:
    path = write(tmp_path, "[server" + ".a" * 10 + "]\nb" + ".c" * 10 + " = 1\n")
    assert problems_of(path) == [f"{path}:2: server.a.a.a…: tables nested more than 16 deep"]


def test_a_number_too_long_to_read(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = " + "1" * 5000 + "\n")
    assert problems_of(path) == [f"{path}:2:8: a number with more than 4300 digits"]


@pytest.mark.parametrize(("line", "problem"), [
    ("port = 0x" + "f" * 20, "server.port: a number too large: a whole number out of range"),
    ("port = 9223372036854775808", "server.port: 9223372036854775808: a whole number out of range"),
    ("feed_size = nan", "server.feed_size: nan: expected a whole number"),
    ("host = \"a\\u0000b\"", "server.host: 'a\\x00b': contains the control character U+0000"),
    ("site_title = \"a\\nb\"", "server.site_title: 'a\\nb': contains the control character U+000A"),
    ("host = [1, 2]", "server.host: an array of 2: expected a string"),
    ("host = { a = 1 }", "server.host: a table: expected a string"),
    ("host = " + '"' + "h" * 500 + '"', None),
])
def test_values_of_the_wrong_kind_are_one_short_line(tmp_path: Path, line: str, problem: str | None) -> None:
    path = write(tmp_path, f"[server]\n{line}\n")
    if problem is None:
        assert load_settings(path, {}).server.host == "h" * 500
        return
    assert problems_of(path) == [f"{path}:2: {problem}"]


def test_an_echoed_value_is_cut_short(tmp_path: Path) -> None:
    path = write(tmp_path, '[logging]\nlevel = "' + "X" * 5000 + '"\n')
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}:2: logging.level: 'XXX") and len(problem) < len(str(path)) + 200


@pytest.mark.parametrize(("line", "problem"), [
    ("interval = 1e999", "sources[0].interval: inf: a duration longer than 100 years"),
    ("interval = nan", "sources[0].interval: nan: expected a duration such as '5m', not NaN"),
    ("interval = '99999999999d'", "sources[0].interval: '99999999999d': a duration longer than 100 years"),
    ("interval = " + "9" * 30, "sources[0].interval: a number too large: a duration longer than 100 years"),
    ("site_timezone = 'Europe'", "sources[0].site_timezone: 'Europe' is not a known time zone"),
    ("site_timezone = '" + "a" * 300 + "'", None),
])
def test_durations_and_time_zones_never_raise_anything_else(tmp_path: Path, line: str, problem: str | None) -> None:
    path = write(tmp_path, f"[[sources]]\nname = 'rt-arabic'\n{line}\n")
    [found] = problems_of(path)
    if problem is None:
        assert found.endswith("… is not a known time zone")
    else:
        assert found == f"{path}:3: {problem}"


def test_wrong_types_for_tables_and_the_top_level_key(tmp_path: Path) -> None:
    path = write(tmp_path, 'topics_file = 5\nserver = "x"\nsources = { name = "a" }\n'
                           '[[logging]]\nlevel = "INFO"\n')
    assert problems_of(path) == [
        f"{path}:1: topics_file: 5: expected a file path",
        f"{path}:2: server: expected a [server] table",
        f"{path}:3: sources: expected [[sources]] tables",
        f"{path}:4: logging: expected a [logging] table",
    ]


def test_duplicate_keys_and_tables_are_syntax_faults(tmp_path: Path) -> None:
    path = write(tmp_path, "[server]\nport = 1\nport = 2\n")
    assert problems_of(path) == [f"{path}:3:9: Cannot overwrite a value"]
    path = write(tmp_path, "[server]\n[server]\n")
    assert problems_of(path) == [f"{path}:2:8: Cannot declare ('server',) twice"]


def test_a_quoted_key_with_a_line_break_stays_on_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[server]\n"a\\nb" = 1\n')
    assert problems_of(path) == [f"{path}:1: server.a\\x0ab: unknown key"]  # the table's line


def test_topics_limits_are_settings_checked_like_any_other(tmp_path: Path) -> None:
    path = write(tmp_path, "[topics]\nmax_file_bytes = 1000\nmax_topics = 50\n")
    limits = load_settings(path, {}).topics
    assert (limits.max_file_bytes, limits.max_topics) == (1000, 50)
    path = write(tmp_path, "[topics]\nmax_topics = 0\nmax_file_bytes = -1\n")
    assert problems_of(path) == [
        f"{path}:3: topics.max_file_bytes: -1: must be at least 1",
        f"{path}:2: topics.max_topics: 0: must be at least 1",
    ]
    assert problems_of(write(tmp_path, ""), {"FEEDSVC_TOPICS_MAX_TOPICS": "0"}) == [
        "environment:0: FEEDSVC_TOPICS_MAX_TOPICS: 0: must be at least 1"]
