"""The ``[server]`` connection limits and /healthz detail settings: read, checked, not echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.config import load_settings
from feedsvc.errors import ConfigError

TOKEN = "x" * 40


def problems(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ or {})
    return caught.value.problems


def test_limits_and_detail_are_read_from_the_file_and_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "feedsvc.toml"
    path.write_text("[server]\nmax_connections = 50\nhead_timeout = 2\nsend_timeout = 5.5\n"
                    "health_detail_loopback = true\n", encoding="utf-8")
    server = load_settings(path, {"FEEDSVC_SERVER_HEALTH_TOKEN": TOKEN,
                                  "FEEDSVC_SERVER_KEEPALIVE_TIMEOUT": "3"}).server
    assert (server.max_connections, server.head_timeout, server.keepalive_timeout,
            server.send_timeout) == (50, 2.0, 3.0, 5.5)
    assert server.health_detail_loopback and server.health_token == TOKEN
    assert TOKEN not in repr(server)


def test_bad_limits_name_the_key_and_a_short_token_is_not_echoed(tmp_path: Path) -> None:
    path = tmp_path / "feedsvc.toml"
    path.write_text('[server]\nmax_connections = 0\nhead_timeout = -1\n'
                    'health_token = "short-secret"\n', encoding="utf-8")
    found = problems(path)
    assert found == [
        f"{path}:3: server.head_timeout: -1.0: must be greater than 0",
        f"{path}:2: server.max_connections: 0: must be at least 1",
        f"{path}:4: server.health_token: '…': must be at least 16 characters",
    ]
    assert not any("short-secret" in problem for problem in found)
