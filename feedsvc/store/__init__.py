"""Storage stage: the :class:`Store` contract and its backends.

``open_store(url)`` picks the backend from the settings' storage URL.
"""

from __future__ import annotations

from pathlib import Path

from feedsvc.errors import ConfigError
from feedsvc.store.base import ALL_TOPIC, Cursor, PageState, SaveOutcome, Store, TopicStats
from feedsvc.store.sqlite import SQLiteStore


def store_for_url(url: str) -> Store:
    """The backend named by a storage URL (not yet opened)."""
    if url.startswith("sqlite:///"):
        return SQLiteStore(Path(url.removeprefix("sqlite:///")))
    raise ConfigError(f"storage.url: {url!r}: no backend for this URL")


__all__ = ["ALL_TOPIC", "Cursor", "PageState", "SQLiteStore", "SaveOutcome", "Store",
           "TopicStats", "store_for_url"]
