"""The layout is a contract: the layers of the README hold, the web layer only serves, and
``feedsvc poll`` runs without loading any web module."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest

from feedsvc.replica import ReplicaSite
from tests.conftest import ROOT
from tests.e2e.test_process import write_config

pytestmark = [pytest.mark.slow, pytest.mark.dates]


async def test_the_import_contracts_hold() -> None:
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint, "lint-imports is not installed: pip install -e '.[test]'"
    process = await asyncio.create_subprocess_exec(
        lint, cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()[-3000:]


async def test_poll_loads_no_web_module(replica: ReplicaSite, tmp_path: Path,
                                        unused_tcp_port: int) -> None:
    config = write_config(tmp_path, replica.base_url, unused_tcp_port)
    # -X importtime lists every module the process imports, on stderr
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-X", "importtime", "-m", "feedsvc", "poll", "--config", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, imports = await process.communicate()
    assert process.returncode == 0, imports.decode()[-2000:]
    loaded = {line.rsplit("|", 1)[-1].strip() for line in imports.decode().splitlines()
              if line.startswith("import time:")}
    assert "feedsvc.pipeline" in loaded and "feedsvc.service" in loaded
    assert not {m for m in loaded if m == "feedsvc.web" or m.startswith("feedsvc.web.")}
    assert not {m for m in loaded if m.startswith("feedsvc.render")}, "a poll renders nothing"
