"""Configuration: the typed, frozen settings object and the topics file.

``load_settings(path)`` reads the TOML file, applies ``FEEDSVC_*`` environment
overrides and returns a :class:`~feedsvc.config.settings.Settings`, or raises
:class:`~feedsvc.errors.ConfigError` listing every problem as
``file:line: key: reason``.
"""

from feedsvc.config.durations import parse_duration
from feedsvc.config.loader import default_config_path, load_settings
from feedsvc.config.settings import (
    ChangesSettings,
    DedupeSettings,
    FetchSettings,
    LoggingSettings,
    SchedulerSettings,
    ServerSettings,
    Settings,
    SourceSettings,
    StorageSettings,
    TopicsSettings,
    iter_documented_keys,
)

__all__ = [
    "ChangesSettings",
    "DedupeSettings",
    "FetchSettings",
    "LoggingSettings",
    "SchedulerSettings",
    "ServerSettings",
    "Settings",
    "SourceSettings",
    "StorageSettings",
    "TopicsSettings",
    "default_config_path",
    "iter_documented_keys",
    "load_settings",
    "parse_duration",
]
