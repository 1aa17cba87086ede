"""A process that cannot start says why in one line and exits 1; it never hangs and
never prints a traceback. Each case runs the real command."""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import SHIPPED_TOPICS
from tests.store.support import admin, database_url, server_url

pytestmark = pytest.mark.slow
NO_HANG = 60.0  # a bound on a hang, not a measure of speed


def config(tmp_path: Path, *, port: int, storage: str | None = None,
           topics: Path = SHIPPED_TOPICS, extra: str = "") -> Path:
    path = tmp_path / "feedsvc.toml"
    storage = storage or f"sqlite:///{tmp_path / 'feedsvc.db'}"
    path.write_text(f"""topics_file = "{topics}"
[server]
port = {port}
public_url = "http://127.0.0.1:{port}"
[storage]
url = "{storage}"
[[sources]]
base_url = "http://127.0.0.1:9"
interval = "1h"
{extra}""", encoding="utf-8")
    return path


async def run(*args: str) -> tuple[int, list[str]]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "feedsvc", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        _, err = await asyncio.wait_for(process.communicate(), NO_HANG)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError(f"feedsvc {' '.join(args)} hung") from None
    assert process.returncode is not None
    return process.returncode, err.decode().splitlines()


def assert_one_line(status: int, lines: list[str], *expected: str) -> None:
    assert status == 1, lines
    assert len(lines) == 1, lines
    assert "Traceback" not in lines[0]
    for part in expected:
        assert part in lines[0], lines


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize("command", ["serve", "poll"])
async def test_invalid_settings(tmp_path: Path, command: str, unused_tcp_port: int) -> None:
    path = config(tmp_path, port=unused_tcp_port, extra='[fetch]\nread_timeout = "soon"\n')
    status, lines = await run(command, "--config", str(path))
    assert status == 1 and lines and "Traceback" not in "\n".join(lines)
    assert all(line.startswith(f"{path}:") for line in lines), lines
    assert any("fetch.read_timeout" in line for line in lines)


@pytest.mark.parametrize("command", ["serve", "poll"])
async def test_invalid_topics(tmp_path: Path, command: str, unused_tcp_port: int) -> None:
    topics = tmp_path / "topics.toml"
    topics.write_text('[[topics]]\nslug = "syria"\ntitle = "سوريا"\ndescription = "سوريا"\n'
                      'query = "سوريا AND ("\n', encoding="utf-8")
    status, lines = await run(command, "--config", str(config(tmp_path, port=unused_tcp_port,
                                                               topics=topics)))
    assert_one_line(status, lines, f"{topics}:5:")


async def test_serve_on_a_port_in_use(tmp_path: Path, taken_port: int) -> None:
    status, lines = await run("serve", "--config", str(config(tmp_path, port=taken_port)))
    assert_one_line(status, lines, f"127.0.0.1:{taken_port}", "in use")


@pytest.mark.parametrize("which", ["feedsvc", "the replica"])
async def test_demo_on_a_port_in_use(tmp_path: Path, taken_port: int, unused_tcp_port: int,
                                     which: str) -> None:
    ports = (taken_port, unused_tcp_port) if which == "feedsvc" else (unused_tcp_port, taken_port)
    status, lines = await run("demo", "--port", str(ports[0]), "--replica-port", str(ports[1]),
                              "--data", str(tmp_path / "demo"))
    assert_one_line(status, lines, f"127.0.0.1:{taken_port}", which, "in use")


@pytest.mark.parametrize("command", ["serve", "poll"])
async def test_a_missing_data_folder(tmp_path: Path, command: str, unused_tcp_port: int) -> None:
    missing = tmp_path / "no-such-folder"
    path = config(tmp_path, port=unused_tcp_port, storage=f"sqlite:///{missing / 'feedsvc.db'}")
    status, lines = await run(command, "--config", str(path))
    assert_one_line(status, lines, str(missing), "does not exist")
    assert not missing.exists(), "a mistyped path must not create a store elsewhere"


@pytest.mark.parametrize("command", ["serve", "poll"])
async def test_a_file_that_is_not_a_database(tmp_path: Path, command: str,
                                             unused_tcp_port: int) -> None:
    db = tmp_path / "feedsvc.db"
    db.write_bytes(b"these are not the bytes of a SQLite database\n" * 100)
    status, lines = await run(command, "--config", str(config(tmp_path, port=unused_tcp_port)))
    assert_one_line(status, lines, str(db))
    assert db.read_bytes().startswith(b"these are not"), "nothing is overwritten"


@pytest.mark.parametrize("command", ["serve", "poll"])
async def test_an_unreachable_database(tmp_path: Path, command: str, unused_tcp_port_factory: object
                                       ) -> None:
    closed = unused_tcp_port_factory()  # type: ignore[operator]
    path = config(tmp_path, port=unused_tcp_port_factory(),  # type: ignore[operator]
                  storage=f"postgresql://feedsvc:secret@127.0.0.1:{closed}/feedsvc")
    status, lines = await run(command, "--config", str(path))
    assert_one_line(status, lines, f"127.0.0.1:{closed}")
    assert "secret" not in lines[0], "the password is never shown"


@pytest.mark.postgres
async def test_a_database_that_is_not_writable(tmp_path: Path, unused_tcp_port: int) -> None:
    """A role that may connect but not create anything: the migrations fail."""
    server = server_url()
    name = f"feedsvc_readonly_{unused_tcp_port}"
    await admin(server, f'DROP DATABASE IF EXISTS "{name}"')
    await admin(server, f'DROP ROLE IF EXISTS "{name}"')
    await admin(server, f'CREATE ROLE "{name}" LOGIN')
    await admin(server, f'CREATE DATABASE "{name}"')
    try:
        await admin(database_url(server, name),
                    f'REVOKE CREATE ON SCHEMA public FROM PUBLIC, "{name}"')
        url = urlsplit(database_url(server, name))
        url = url._replace(netloc=f"{name}@{url.hostname}:{url.port or 5432}").geturl()
        status, lines = await run("poll", "--config", str(config(tmp_path, port=unused_tcp_port,
                                                                  storage=url)))
        assert_one_line(status, lines, "permission denied")
    finally:
        await admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin(server, f'DROP ROLE IF EXISTS "{name}"')
