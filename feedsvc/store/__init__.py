"""Storage stage: the :class:`Store` contract and its backends.

``store_for_url(url)`` picks the backend from the settings' storage URL. The
PostgreSQL backend (``postgres/``) is imported only when a URL names it, so an
install without the ``postgres`` extra (no asyncpg) runs on SQLite as before.
"""

from __future__ import annotations

from pathlib import Path

from feedsvc.errors import ConfigError
from feedsvc.models import DELETE, UPSERT, FeedChange
from feedsvc.store.base import (
    ALL_TOPIC,
    ChangePage,
    Cursor,
    Lease,
    PageState,
    SaveOutcome,
    Store,
    TopicStats,
)
from feedsvc.store.sqlite import SQLiteStore

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def store_for_url(url: str) -> Store:
    """The backend named by a storage URL (not yet opened)."""
    if url.startswith("sqlite:///"):
        return SQLiteStore(Path(url.removeprefix("sqlite:///")))
    if url.startswith(POSTGRES_SCHEMES):
        return _postgres_store(url)
    raise ConfigError(f"storage.url: {url!r}: no backend for this URL")


def _postgres_store(url: str) -> Store:
    try:
        from feedsvc.store.postgres import PostgresStore
    except ModuleNotFoundError as exc:
        if exc.name != "asyncpg":
            raise
        # the URL is not repeated: it may carry a password
        raise ConfigError("storage.url: a PostgreSQL URL needs asyncpg, which is not "
                          "installed: install feedsvc[postgres]") from exc
    return PostgresStore(url)


__all__ = ["ALL_TOPIC", "DELETE", "POSTGRES_SCHEMES", "UPSERT", "FeedChange", "ChangePage", "Cursor",
           "Lease", "PageState", "SQLiteStore", "SaveOutcome", "Store", "TopicStats",
           "store_for_url"]
