"""Policy values: each stage's frozen settings type, one field a key, each with a help line.

A stage declares what it can be told (``FetchPolicy``, ``DedupePolicy``) with
:func:`setting`; the settings layer maps a TOML table onto that very type (or a
subclass adding keys of its own), so a key is declared once, with one default and
one help line, and ``docs/configuration.md`` is checked against those lines.

:func:`derived` marks a field the service fills in from other settings (the fetch
allow-list comes from the sources): it has a help line but is not a key of the file.
"""

from __future__ import annotations

from dataclasses import Field, field, fields
from typing import Any


def setting(default: Any, help: str) -> Any:
    """A dataclass field that is a setting: its default and its one-line help."""
    if isinstance(default, list | dict | set):
        raise TypeError("use tuples for sequence defaults")
    return field(default=default, metadata={"help": help})


def derived(default: Any, help: str) -> Any:
    """A field the service computes from other settings; never read from the file."""
    return field(default=default, metadata={"help": help, "derived": True})


def setting_fields(cls: type) -> list[Field[Any]]:
    """The fields of a policy type that the settings file may set, in declaration order."""
    return [f for f in fields(cls) if not f.metadata.get("derived")]


def help_lines(cls: type) -> dict[str, str]:
    """Each setting's help line, keyed by field name."""
    return {f.name: str(f.metadata["help"]) for f in setting_fields(cls)}
