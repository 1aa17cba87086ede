"""Operator tools: check-config validates topic queries; topics test explains matches."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from feedsvc.replica import ReplicaSite
from tests.conftest import SHIPPED_TOPICS


async def run(*args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "feedsvc", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


def write_config(tmp_path: Path, topics: Path, base_url: str = "http://127.0.0.1:9") -> Path:
    config = tmp_path / "feedsvc.toml"
    config.write_text(f"""topics_file = "{topics}"
[storage]
url = "sqlite:///{tmp_path / 'feedsvc.db'}"
[[sources]]
name = "rt-arabic"
base_url = "{base_url}"
[fetch]
min_host_delay = 0
respect_robots = false
""", encoding="utf-8")
    return config


async def test_check_config_reports_every_bad_query_with_line_and_column(tmp_path: Path) -> None:
    topics = tmp_path / "topics.toml"
    topics.write_text('''[[topics]]
slug = "syria"
title = "سوريا"
description = "..."
query = "سوريا AND (دمشق"

[[topics]]
slug = "Bad Slug"
title = "x"
description = "y"
query = "body:غزة OR colour:red"
''', encoding="utf-8")
    code, output = await run("check-config", "--config", str(write_config(tmp_path, topics)))
    assert code == 1
    lines = output.strip().splitlines()
    assert lines[0].startswith(f"{topics}:5:") and "(" in lines[0]
    assert any(line.startswith(f"{topics}:8:") and "slug" in line for line in lines)
    assert any(line.startswith(f"{topics}:11:") and "colour" in line for line in lines)


async def test_check_config_accepts_the_shipped_files(tmp_path: Path) -> None:
    code, output = await run("check-config", "--config", str(write_config(tmp_path, SHIPPED_TOPICS)))
    assert code == 0, output
    assert "6 topic(s)" in output


async def test_topics_test_lists_matches_and_the_terms_that_matched(
        replica: ReplicaSite, tmp_path: Path) -> None:
    config = write_config(tmp_path, SHIPPED_TOPICS, replica.base_url)
    code, output = await run("poll", "--config", str(config))
    assert code == 0, output
    code, output = await run("topics", "test", "gaza", "--config", str(config))
    assert code == 0, output
    matches = [line for line in output.splitlines() if line.startswith("    matched: ")]
    assert matches and all(line.strip() != "matched:" for line in matches)
    assert output.strip().endswith("match 'gaza'")
    code, output = await run("topics", "test", "no-such-topic", "--config", str(config))
    assert code == 1 and "no topic 'no-such-topic'" in output
