"""Read settings: TOML file, then ``FEEDSVC_*`` environment, then validation.

Every problem is collected and reported at once as ``file:line: key: reason``,
so an operator fixes a broken file in one pass. The file is read within limits
(``MAX_SETTINGS_BYTES``, and the nesting depth of ``feedsvc.tomlfile``), values are
echoed short, and no problem line shows the user or password of a URL.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, get_type_hints

from feedsvc.config.durations import parse_duration
from feedsvc.config.settings import TABLES, TOP_LEVEL_KEYS, Settings, SourceSettings
from feedsvc.config.validate import validate
from feedsvc.errors import ConfigError
from feedsvc.extract.selectors import Selectors, selectors_from_mapping
from feedsvc.policy import setting_fields
from feedsvc.tomlfile import (
    Fault,
    one_line,
    parse_toml,
    read_toml_text,
    redact,
    short,
    shown,
)

ENV_PREFIX = "FEEDSVC_"
# The shipped file is under 1 KB and a hundred sources would fit in 50 KB; the limit
# only stops a wrong file (a log, a database) from being read into memory whole.
MAX_SETTINGS_BYTES = 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*[=.]")


def default_config_path() -> Path:
    """``FEEDSVC_CONFIG`` if set, else ``config/feedsvc.toml``."""
    return Path(os.environ.get("FEEDSVC_CONFIG", "config/feedsvc.toml"))


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Load, override from the environment, resolve relative paths and validate."""
    path = path or default_config_path()
    environ = os.environ if environ is None else environ
    text = read_toml_text(path, MAX_SETTINGS_BYTES, "for a settings file")
    document = text if isinstance(text, Fault) else parse_toml(text)
    if isinstance(document, Fault):
        lines = KeyLines(text if isinstance(text, str) else "")
        raise ConfigError(one_line(redact(_fault_problem(path, document, lines))))
    assert isinstance(text, str)
    lines = KeyLines(text)
    problems: list[str] = []
    settings = _build(document, path, lines, problems)
    settings = _apply_environment(settings, environ, path, problems)
    settings = _resolve_paths(settings, path, problems)
    problems.extend(f"{path}:{lines.find(table, index, key)}: {where}: {reason}"
                    for table, index, key, where, reason in validate(settings))
    if problems:
        raise ConfigError([one_line(redact(problem)) for problem in problems])
    return settings


def _fault_problem(path: Path, fault: Fault, lines: KeyLines) -> str:
    """``file:line[:column]: reason`` for a file that could not be read as TOML at all."""
    if fault.line is not None:
        return f"{path}:{fault.line}:{fault.column or 1}: {fault.reason}"
    if not fault.keys:
        return f"{path}: {fault.reason}"
    where = short(".".join(str(key) for key in fault.keys[:4])) + "…"
    line = _line_of_keys(fault.keys, lines)
    return f"{path}:{line}: {where}: {fault.reason}" if line else f"{path}: {where}: {fault.reason}"


def _line_of_keys(keys: tuple[str | int, ...], lines: KeyLines) -> int:
    """The line of the deepest header or key of a path that the file names (a document
    too deep has no line of its own)."""
    if keys[0] == "sources" and len(keys) > 2 and isinstance(keys[1], int):
        return lines.find("sources", keys[1], str(keys[2]))
    names = [str(key) for key in keys]
    for split in range(len(names), 0, -1):  # [a.b.c] then [a.b] c then [a] b
        table, key = ".".join(names[:split]), names[split] if split < len(names) else ""
        if line := lines.find(table, 0, key):
            return line
    return lines.find("", 0, names[0])


class KeyLines:
    """Maps ``(table, index, key)`` to the line it is written on, for error messages."""

    def __init__(self, text: str) -> None:
        self._lines: dict[tuple[str, int, str], int] = {}
        table, counts = "", {"": 0}
        for number, line in enumerate(text.splitlines(), start=1):
            if header := _HEADER.match(line):
                table = header.group(2)
                parent, _, child = table.partition(".")
                if child and parent in counts:  # [sources.selectors] inside [[sources]]
                    self._lines.setdefault((parent, counts[parent], child), number)
                counts[table] = counts.get(table, -1) + 1 if header.group(1) == "[[" else 0
                self._lines.setdefault((table, counts[table], ""), number)
            elif key := _KEY.match(line):
                self._lines.setdefault((table, counts.get(table, 0), key.group(1)), number)

    def find(self, table: str, index: int, key: str) -> int:
        return self._lines.get((table, index, key)) or self._lines.get((table, index, ""), 0)


def _build(document: dict[str, Any], path: Path, lines: KeyLines, problems: list[str]) -> Settings:
    values: dict[str, Any] = {}
    for key, raw in document.items():
        if key in TOP_LEVEL_KEYS:
            values[key] = _convert_field(Settings, key, raw, f"{path}:{lines.find('', 0, key)}: {key}", problems)
            if values[key] is _INVALID:
                del values[key]
        elif key == "sources":
            if (sources := _build_sources(raw, path, lines, problems)) is not None:
                values["sources"] = sources
        elif key in TABLES:
            if not isinstance(raw, dict):
                line = lines.find("", 0, key) or lines.find(key, 0, "")
                problems.append(f"{path}:{line}: {key}: expected a [{key}] table")
                continue
            values[key] = _build_table(TABLES[key], key, 0, raw, path, lines, problems)
        else:
            problems.append(f"{path}:{lines.find('', 0, key) or lines.find(key, 0, '')}: {short(key)}: unknown key")
    return Settings(config_path=path, **values)


def _build_sources(raw: Any, path: Path, lines: KeyLines, problems: list[str]
                   ) -> tuple[SourceSettings, ...] | None:
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        line = lines.find("", 0, "sources") or lines.find("sources", 0, "")
        problems.append(f"{path}:{line}: sources: expected [[sources]] tables")
        return None
    return tuple(
        _build_table(SourceSettings, "sources", index, item, path, lines, problems)
        for index, item in enumerate(raw)
    )


def _build_table(cls: type, table: str, index: int, raw: dict[str, Any], path: Path,
                 lines: KeyLines, problems: list[str]) -> Any:
    known = {f.name for f in setting_fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"{table}[{index}].{short(key)}" if table == "sources" else f"{table}.{short(key)}"
        where = f"{path}:{lines.find(table, index, key)}: {name}"
        if key not in known:
            problems.append(f"{where}: unknown key")
            continue
        converted = _convert_field(cls, key, value, where, problems)
        if converted is not _INVALID:
            values[key] = converted
    try:
        return cls(**values)
    except ConfigError as exc:  # a table that checks itself (DedupePolicy): "table.key: …"
        for problem in exc.problems:
            key = problem.split(":", 1)[0].rpartition(".")[2]
            problems.append(f"{path}:{lines.find(table, index, key)}: {problem}")
            values.pop(key, None)
        try:  # keep reading with defaults in place of the bad values
            return cls(**values)
        except ConfigError:
            return cls()


_INVALID = object()


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    """The field types of a settings class (evaluating annotations is slow; do it once)."""
    return get_type_hints(cls)


def _convert_field(cls: type, key: str, value: Any, where: str, problems: list[str]) -> Any:
    try:
        return convert(_hints(cls)[key], value)
    except ValueError as exc:
        problems.append(f"{where}: {shown(value)}: {exc}")
        return _INVALID


def convert(kind: Any, value: Any) -> Any:
    """Turn a TOML (or environment) value into the field's type, or raise ValueError."""
    if kind is bool:
        if isinstance(value, str) and value.lower() in {"true", "false", "1", "0", "yes", "no"}:
            return value.lower() in {"true", "1", "yes"}
        if not isinstance(value, bool):
            raise ValueError("expected true or false")
        return value
    if kind is int:
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("expected a whole number")
        if not -(2**63) <= value < 2**63:  # TOML's integers are 64-bit
            raise ValueError("a whole number out of range")
        return value
    if kind is float:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ValueError("expected a number") from None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("expected a number")
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise ValueError("a number out of range")
        if not math.isfinite(value):
            raise ValueError("expected a finite number")
        return float(value)
    if kind is timedelta:
        return parse_duration(value)
    if kind == tuple[timedelta, ...]:
        if isinstance(value, str):  # a comma-separated environment value
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list):
            raise ValueError("expected a list of durations such as ['15m', '1h']")
        return tuple(parse_duration(item) for item in value)
    if kind is Selectors:
        if not isinstance(value, dict):
            raise ValueError("expected a table of CSS selectors")
        try:
            return selectors_from_mapping(value)
        except ConfigError as exc:
            raise ValueError(str(exc)) from None
    if kind is Path:
        if not isinstance(value, str) or not value:
            raise ValueError("expected a file path")
        return Path(_plain(value))
    if kind is str:
        if not isinstance(value, str):
            raise ValueError("expected a string")
        return _plain(value)
    # tuple[str, ...]: a TOML array, or a comma-separated environment value
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValueError("expected a list of strings")
    return tuple(_plain(item) for item in value)


def _plain(text: str) -> str:
    """``text`` if it holds no control character (a NUL or a newline has no use in any
    setting, and would break a path, a header or an XML document later)."""
    if (found := _CONTROL.search(text)) is not None:
        raise ValueError(f"contains the control character U+{ord(found.group()):04X}")
    return text


def _apply_environment(settings: Settings, environ: Mapping[str, str], path: Path,
                       problems: list[str]) -> Settings:
    """``FEEDSVC_<TABLE>_<KEY>`` overrides one key of a table; ``FEEDSVC_TOPICS_FILE`` the top level."""
    changes: dict[str, Any] = {}
    hints = _hints(Settings)
    for key in TOP_LEVEL_KEYS:
        name = f"{ENV_PREFIX}{key.upper()}"
        if name in environ:
            changes[key] = _convert_env(hints[key], environ[name], name, problems)
    for table, cls in TABLES.items():
        if table == "sources":
            continue  # an array of tables has no unambiguous variable name; edit the file
        section = getattr(settings, table)
        table_hints = _hints(cls)
        overrides = {
            f.name: _convert_env(table_hints[f.name], environ[name], name, problems)
            for f in setting_fields(cls)
            if (name := f"{ENV_PREFIX}{table.upper()}_{f.name.upper()}") in environ
        }
        overrides = {k: v for k, v in overrides.items() if v is not _INVALID}
        if overrides:
            try:
                changes[table] = replace(section, **overrides)
            except ConfigError as exc:  # a table that checks itself (dedupe, topics)
                problems.extend(f"environment:0: {ENV_PREFIX}{table.upper()}_"
                                f"{problem.split(':', 1)[0].rpartition('.')[2].upper()}:"
                                f"{problem.split(':', 1)[1]}" for problem in exc.problems)
    changes = {k: v for k, v in changes.items() if v is not _INVALID}
    return replace(settings, **changes) if changes else settings


def _convert_env(kind: Any, raw: str, name: str, problems: list[str]) -> Any:
    try:
        return convert(kind, raw)
    except ValueError as exc:
        problems.append(f"environment:0: {name}: {raw!r}: {exc}")
        return _INVALID


def _resolve_paths(settings: Settings, path: Path, problems: list[str]) -> Settings:
    """Relative paths inside a config file are relative to that file's folder."""
    folder = path.parent
    topics_file = settings.topics_file if settings.topics_file.is_absolute() else folder / settings.topics_file
    url = settings.storage.url
    try:
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            db = folder / url.removeprefix("sqlite:///")
            url = "sqlite:///" + str(db.resolve())
        topics_file = topics_file.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop (3.12 and older raise RuntimeError)
        problems.append(f"{path}: cannot resolve a path: {exc}")
        return settings
    return replace(settings, topics_file=topics_file, storage=replace(settings.storage, url=url))
