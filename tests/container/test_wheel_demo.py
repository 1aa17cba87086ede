"""``feedsvc demo`` from an installed wheel, away from the checkout.

The wheel is built from the same files the image's build stage copies (pyproject.toml,
README.md, feedsvc/), installed into a fresh virtual environment, and run from a folder
outside the checkout: the feeds fill only if everything the demo reads ships inside the
package. No network: the build uses the backend installed here (--no-isolation), the
wheel goes in with --no-index --no-deps, and the new environment sees this one's
dependencies through a .pth line added after the install.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import signal
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import aiohttp
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.dates]
ROOT = Path(__file__).resolve().parents[2]
STEP_TIMEOUT = 120  # seconds for one build or install step; each takes a few seconds


def run(*command: str | Path, cwd: Path) -> str:
    done = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True,
                          text=True, timeout=STEP_TIMEOUT)
    assert done.returncode == 0, f"{command[:4]} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One wheel for the module: building it is the slow part."""
    tmp_path = tmp_path_factory.mktemp("wheel")
    source = tmp_path / "src"
    shutil.copytree(ROOT / "feedsvc", source / "feedsvc",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", tmp_path / "dist",
        source, cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("feedsvc-*.whl")
    return wheel


def install(wheel: Path, tmp_path: Path) -> Path:
    """A new venv holding only the wheel; then it sees this venv's dependencies too."""
    env = tmp_path / "venv"
    venv.create(env, with_pip=False)
    python = env / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-index",
        "--no-deps", wheel, cwd=tmp_path)
    site_packages = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                             cwd=tmp_path).strip())
    # A plain path line: this venv's own .pth files (the editable checkout) are not run.
    (site_packages / "test-dependencies.pth").write_text(
        sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    return env


async def topic_counts(http: aiohttp.ClientSession, base: str) -> dict[str, int]:
    try:
        async with http.get(f"{base}/api/topics") as response:
            if response.status != 200:
                return {}
            body = await response.json()
    except aiohttp.ClientConnectionError:
        return {}
    return {topic["slug"]: topic["count"] for topic in body["topics"]}


async def wait_for_articles(process: asyncio.subprocess.Process, base: str,
                            timeout: float = 60.0) -> dict[str, int]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        while loop.time() < deadline and process.returncode is None:
            counts = await topic_counts(http, base)
            if any(counts.values()):
                return counts
            await asyncio.sleep(0.2)
    return {}


def test_the_wheel_ships_the_demo_topics(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        shipped = archive.read("feedsvc/topics/shipped.toml")
    assert shipped == (ROOT / "config" / "topics.toml").read_bytes()


async def test_demo_fills_feeds_from_an_installed_wheel(
        wheel: Path, tmp_path: Path, unused_tcp_port_factory) -> None:
    env = install(wheel, tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    where = run(env / "bin" / "python", "-c", "import feedsvc.demo as d; print(d.SHIPPED_TOPICS)",
                cwd=outside).strip()
    assert Path(where).is_relative_to(env), f"the demo came from {where}, not the wheel"

    port, replica_port = unused_tcp_port_factory(), unused_tcp_port_factory()
    log = (tmp_path / "demo.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        env / "bin" / "feedsvc", "demo", "--port", str(port), "--replica-port", str(replica_port),
        "--data", str(outside / "data"), cwd=outside, stdout=log, stderr=subprocess.STDOUT)
    try:
        counts = await wait_for_articles(process, f"http://127.0.0.1:{port}")
        with contextlib.suppress(ProcessLookupError):  # it may have exited on its own
            process.send_signal(signal.SIGTERM)
        returncode = await asyncio.wait_for(process.wait(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        log.close()
    output = (tmp_path / "demo.log").read_text(encoding="utf-8", errors="replace")
    assert any(counts.values()), f"no topic feed filled (exit status {returncode}):\n{output}"
    assert returncode == 0, output
