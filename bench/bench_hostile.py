"""What hostile clients cost a running ``feedsvc serve``: memory, and /healthz for everyone else.

    python bench/bench_hostile.py [--seconds 10] [--connections 20] [--stallers 2000]

Polls the offline replica once into a temporary database (and stores ``--copies``
older copies of each article, for a store of a few thousand), then runs ``feedsvc serve``
on it as a subprocess (default settings; the source points nowhere, so nothing is
polled meanwhile) and puts it through three loads in turn:

- ``forged``   ``--connections`` clients send feed requests with cursors nobody
               issued, each one different (base64 of ``[n, "x"]``);
- ``pages``    the same clients walk distinct real pages: every ``?limit=`` from 1
               to 200, following each page's ``next`` link;
- ``stallers`` ``--stallers`` sockets send half a request head and then nothing.

During each load a probe asks for ``/healthz`` every 0.1 s (5 s timeout) and the
figures printed are its median and worst latency and its failures, the server's
resident memory before and after (``/proc``), the statuses the load got, and for the
stallers how many of their sockets the server still held open ``--seconds`` later.
Run it on two checkouts to compare them; every step is bounded and it stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import signal
import socket
import sys
import tempfile
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from statistics import median

import aiohttp
import orjson

ROOT = Path(__file__).resolve().parent.parent
TOPICS = ROOT / "feedsvc" / "topics" / "shipped.toml"
START_TIMEOUT = 60.0
PROBE_TIMEOUT = 5.0


async def poll_replica(data: Path, copies: int) -> int:
    """Poll the replica, then store ``copies`` older copies of each article under new ids:
    a store of a few thousand articles, matched to the topics like the originals."""
    from feedsvc.config import FetchSettings, Settings, SourceSettings, StorageSettings
    from feedsvc.replica import ReplicaSite, serve_replica
    from feedsvc.service import open_service

    site = ReplicaSite()
    async with serve_replica(site):
        config = Settings(
            config_path=data / "feedsvc.toml", topics_file=TOPICS,
            storage=StorageSettings(url=f"sqlite:///{data / 'feedsvc.db'}"),
            fetch=replace(FetchSettings(), min_host_delay=0.0, respect_robots=False),
            sources=(replace(SourceSettings(), base_url=site.base_url),))
        async with open_service(config, serving=False, scheduling=False) as service:
            await service.poller.poll(config.sources[0])
            originals = [article async for article in service.store.iter_articles()]
            for copy in range(1, copies + 1):
                for article in originals:
                    older = replace(
                        article, id=f"{article.id}{copy:04d}", url=f"{article.url}?copy={copy}",
                        published=article.published - timedelta(hours=copy),
                        updated=article.updated - timedelta(hours=copy))
                    await service.store.save_article(older, service.topics.match(older))
            return await service.store.count_articles()


def write_config(data: Path, port: int) -> Path:
    config = data / "feedsvc.toml"
    config.write_text(f"""topics_file = "{TOPICS}"
[server]
port = {port}
public_url = "http://127.0.0.1:{port}"
[storage]
url = "sqlite:///{data / 'feedsvc.db'}"
[[sources]]
name = "rt-arabic"
base_url = "http://127.0.0.1:9"
interval = "1h"
[logging]
level = "WARNING"
""", encoding="utf-8")
    return config


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Probe:
    """Asks for /healthz every 0.1 s on fresh connections until stopped."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.latencies: list[float] = []
        self.failures = 0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT)
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                async with aiohttp.ClientSession(timeout=timeout) as http, \
                        http.get(self.base + "/healthz") as response:
                    await response.read()
                    ok = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            if ok:
                self.latencies.append(time.perf_counter() - started)
            else:
                self.failures += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 0.1)

    def stop(self) -> None:
        self._stop.set()

    def summary(self) -> str:
        if not self.latencies:
            return f"/healthz: no answer ({self.failures} failed)"
        ordered = sorted(self.latencies)
        return (f"/healthz: median {median(ordered) * 1000:.0f} ms, worst {ordered[-1] * 1000:.0f} ms, "
                f"{len(ordered)} answered, {self.failures} failed or timed out")


async def flood(base: str, paths: list[str], connections: int, seconds: float) -> Counter[int]:
    """``connections`` clients taking paths off the list in turn for ``seconds``."""
    statuses: Counter[int] = Counter()
    deadline = time.monotonic() + seconds
    queue = iter(paths)

    async def client() -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            while time.monotonic() < deadline:
                path = next(queue, None)
                if path is None:
                    return
                try:
                    async with http.get(base + path) as response:
                        await response.read()
                        statuses[response.status] += 1
                except (aiohttp.ClientError, TimeoutError):
                    statuses[0] += 1

    await asyncio.gather(*(client() for _ in range(connections)))
    return statuses


def forged_paths(count: int) -> list[str]:
    """Cursors nobody issued, each naming a different moment of the last weeks: full pages."""
    newest = 1_795_950_000_000_000  # late November 2026, in microseconds
    return ["/feeds/all.json?cursor=" + base64.urlsafe_b64encode(
        orjson.dumps([newest - n * 60_000_000, "x"])).rstrip(b"=").decode() for n in range(count)]


async def walk(base: str, connections: int, seconds: float) -> Counter[int]:
    """Clients walking every page of ``all`` at every limit, following ``next`` links:
    distinct pages the service really links to."""
    statuses: Counter[int] = Counter()
    deadline = time.monotonic() + seconds
    limits = iter(range(1, 201))

    async def client() -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            for limit in limits:
                url: str | None = f"{base}/feeds/all.json?limit={limit}"
                while url is not None and time.monotonic() < deadline:
                    try:
                        async with http.get(url) as response:
                            body = await response.read()
                            statuses[response.status] += 1
                    except (aiohttp.ClientError, TimeoutError):
                        statuses[0] += 1
                        break
                    url = orjson.loads(body).get("next_url") if response.status == 200 else None
                if time.monotonic() >= deadline:
                    return

    await asyncio.gather(*(client() for _ in range(connections)))
    return statuses


async def stall(base: str, count: int, seconds: float) -> str:
    host, port = base.removeprefix("http://").split(":")
    writers = []
    for _ in range(count):
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 5)
        except (OSError, TimeoutError):
            break
        writer.write(b"GET /feeds/all.atom HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        writers.append((reader, writer))
    opened = len(writers)
    await asyncio.sleep(seconds)
    still_open = 0
    for reader, writer in writers:
        try:
            await asyncio.wait_for(reader.read(), 0.01)  # the end (or an answer, then the end)
        except TimeoutError:
            still_open += 1  # nothing came back, not even the end: the server holds it open
        except OSError:
            pass  # reset by the server
        writer.close()
    return f"stallers: {opened} opened, {still_open} still open after {seconds:.0f} s"


async def measure(name: str, pid: int, base: str, load: object) -> None:
    probe = Probe(base)
    probe_task = asyncio.create_task(probe.run())
    before = rss_mib(pid)
    started = time.monotonic()
    outcome = await load  # type: ignore[misc]
    took = time.monotonic() - started
    probe.stop()
    await probe_task
    after = rss_mib(pid)
    print(f"{name}: {outcome} in {took:.1f} s; RSS {before:.0f} -> {after:.0f} MiB "
          f"(+{after - before:.0f}); {probe.summary()}", flush=True)


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        print(f"stored {await poll_replica(data, args.copies)} articles", flush=True)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "feedsvc", "serve", "--config", str(write_config(data, port)),
            cwd=ROOT)
        try:
            await wait_ready(base)
            print(f"idle: RSS {rss_mib(process.pid):.0f} MiB", flush=True)
            await measure("forged", process.pid, base,
                          flood(base, forged_paths(1_000_000), args.connections, args.seconds))
            await measure("pages", process.pid, base, walk(base, args.connections, args.seconds))
            await measure("stallers", process.pid, base, stall(base, args.stallers, args.seconds))
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()


async def wait_ready(base: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(base + "/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"feedsvc did not start within {START_TIMEOUT:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--stallers", type=int, default=2000)
    parser.add_argument("--copies", type=int, default=100, help="older copies of each article")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
