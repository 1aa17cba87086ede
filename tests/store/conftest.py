"""Fixtures that run the store tests on each backend: SQLite, and a real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.store.support import (
    UNREACHABLE,
    create_database,
    drop_database,
    server_url,
    truncate,
    unreachable_message,
)

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """URL of a database made for this pytest run, dropped at its end.

    Synchronous, on a loop of its own, so any test's loop may use the database. An
    unreachable server fails the test: a silent skip would hide the missing backend.
    """
    server = server_url()
    loop = asyncio.new_event_loop()
    try:
        try:
            url = loop.run_until_complete(create_database(server))
        except UNREACHABLE as exc:
            problem = unreachable_message(server, exc)
        else:
            problem = ""
        if problem:
            pytest.fail(problem, pytrace=False)
        yield url
        loop.run_until_complete(drop_database(url))
    finally:
        loop.close()


@pytest.fixture
async def postgres_url(postgres_database: str) -> str:
    """The run's database with every table emptied."""
    await truncate(postgres_database)
    return postgres_database


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A storage URL for each backend (the PostgreSQL one is emptied when opened)."""
    if request.param == "sqlite":
        return "sqlite:///" + str(tmp_path / "store.db")
    return str(request.getfixturevalue("postgres_database"))

