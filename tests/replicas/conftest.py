"""The PostgreSQL fixtures of the store tests, for the replica tests."""

from tests.store.conftest import postgres_database, postgres_url, store_url

__all__ = ["postgres_database", "postgres_url", "store_url"]
