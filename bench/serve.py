"""Serving speed of a cached topic feed, against a bare aiohttp handler sending the same bytes.

    python bench/serve.py [--seconds 3] [--connections 50] [--rounds 7] [--path /feeds/all.atom]

Polls the offline replica once into a temporary database, then runs two servers in
subprocesses on 127.0.0.1:

- ``feedsvc``  the real app (``open_service`` without the scheduler, ``http_server``) on
               that database;
- ``bare``     a bare aiohttp handler that sends the same body and the same headers
               (ETag, Last-Modified, Cache-Control, Vary, CORS), and answers 304 with
               them when If-None-Match equals the ETag: the least any handler does to
               send feedsvc's exact response.

wrk loads each with the same settings for each case (``200``: a plain GET; ``304``: a
GET with If-None-Match); in every round the two servers run back to back, in
alternating order. Prints the medians of requests/s, p50 and p99 latency, and the
median of the rounds' ratios feedsvc/bare (paired runs share the machine's load of
the moment). It also prints requests per second of the server's own CPU time
(/proc), with its ratio: on a machine busy with other work, wall-clock figures swing
with the neighbours, while CPU time per request stays what the server itself costs. With two or more
CPUs the servers run on CPU 1 and wrk on CPU 0 (taskset), so they do not compete.
Both servers log no access lines. Every step is bounded; the bench stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from statistics import median

from aiohttp import web
from support import (
    ROOT,
    answers,
    cpu_seconds,
    free_port,
    pinned,
    run_wrk,
    split_cpus,
    stop_process,
)

from feedsvc.config import (
    FetchSettings,
    SchedulerSettings,
    ServerSettings,
    Settings,
    SourceSettings,
    StorageSettings,
)

TOPICS = ROOT / "config" / "topics.toml"
START_TIMEOUT = 20.0


def settings(data: Path, source_url: str, public_url: str) -> Settings:
    return Settings(
        config_path=data / "feedsvc.toml", topics_file=TOPICS,
        server=ServerSettings(public_url=public_url),
        storage=StorageSettings(url=f"sqlite:///{data / 'feedsvc.db'}"),
        fetch=replace(FetchSettings(), min_host_delay=0.0, respect_robots=False),
        scheduler=SchedulerSettings(tick=timedelta(seconds=1)),
        sources=(replace(SourceSettings(), base_url=source_url),),
    )


# --- the data: one poll of the replica ---------------------------------------------


async def poll_replica(data: Path) -> int:
    from feedsvc.replica import ReplicaSite, serve_replica
    from feedsvc.service import open_service

    site = ReplicaSite()
    async with serve_replica(site):
        config = settings(data, site.base_url, "http://127.0.0.1:8080")
        async with open_service(config, serving=False, scheduling=False) as service:
            report = await service.poller.poll(config.sources[0])
    return report.new


# --- the two servers (run as subprocesses of this script) ---------------------------


def serve_feedsvc(data: Path, port: int) -> None:
    from feedsvc.service import open_service
    from feedsvc.web.server import http_server, listen

    config = settings(data, "http://127.0.0.1:9", f"http://127.0.0.1:{port}")

    async def serve() -> None:
        with listen("127.0.0.1", port) as sock:
            async with open_service(config, scheduling=False) as service, \
                    http_server(service, sock):
                await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


def serve_bare(body_file: Path, headers_file: Path, port: int) -> None:
    """The least any server does to send feedsvc's response: the same body and headers."""
    body = body_file.read_bytes()
    full = dict(line.split(": ", 1) for line in headers_file.read_text("utf-8").splitlines())
    not_modified = {k: v for k, v in full.items() if k != "Content-Type"}
    etag = full["ETag"]

    async def handler(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers=not_modified)
        return web.Response(body=body, headers=full)

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        stop_process(self.process, signal.SIGINT, timeout=10)


def start(name: str, args: list[str], cpu: int | None) -> Server:
    port = free_port()
    argv = pinned([sys.executable, __file__, "--serve", name, "--port", str(port), *args], cpu)
    process = subprocess.Popen(argv, cwd=ROOT)
    server = Server(name, port, process)
    if answers(server.url("/readyz" if name == "feedsvc" else "/"), process, START_TIMEOUT):
        return server
    server.stop()
    raise SystemExit(f"{name} server did not start within {START_TIMEOUT}s")


# --- load ------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx_3xx: int
    per_cpu_second: float  # requests served per second of the server's own CPU time


def measure(server: Server, path: str, headers: dict[str, str], seconds: int,
            connections: int, cpu: int | None) -> Result:
    cpu_before = cpu_seconds(server.process.pid)
    run = run_wrk(server.url(path), headers, seconds, connections, cpu)
    cpu_used = cpu_seconds(server.process.pid) - cpu_before
    return Result(run.requests_per_second, run.p50_ms, run.p99_ms, run.non_2xx_3xx,
                  run.requests / max(cpu_used, 0.01))


ADDED_BY_AIOHTTP = {"Date", "Server", "Content-Length", "Connection", "Keep-Alive",
                    "Transfer-Encoding"}


def fetch_response(server: Server, path: str) -> tuple[bytes, dict[str, str]]:
    """The body and the headers feedsvc sends (but those aiohttp adds to every response)."""
    request = urllib.request.Request(server.url(path), headers={"Accept-Encoding": "identity"})
    with urllib.request.urlopen(request, timeout=5) as response:
        headers = {k: v for k, v in response.headers.items() if k not in ADDED_BY_AIOHTTP}
        return response.read(), headers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=3, help="wrk duration of each run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--path", default="/feeds/all.atom", help="the feed to request")
    parser.add_argument("--serve", choices=("feedsvc", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--body", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--headers", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve == "feedsvc":
        return serve_feedsvc(args.data, args.port)
    if args.serve == "bare":
        return serve_bare(args.body, args.headers, args.port)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run tests/peers/install.sh")
    bench(args)


def bench(args: argparse.Namespace) -> None:
    server_cpu, load_cpu = split_cpus()
    two_cpus = server_cpu is not None
    with tempfile.TemporaryDirectory(prefix="feedsvc-bench-") as folder:
        data = Path(folder)
        articles = asyncio.run(poll_replica(data))
        servers = [start("feedsvc", ["--data", str(data)], server_cpu)]
        try:
            body, headers = fetch_response(servers[0], args.path)
            etag = headers["ETag"]
            (data / "body").write_bytes(body)
            (data / "headers").write_text("".join(f"{k}: {v}\n" for k, v in headers.items()), "utf-8")
            servers.append(start("bare", ["--body", str(data / "body"), "--headers",
                                          str(data / "headers")], server_cpu))
            print(f"feed {args.path}: {len(body)} bytes, {articles} articles polled, "
                  f"wrk -t1 -c{args.connections} -d{args.seconds}s, median of {args.rounds} rounds, "
                  f"{'servers on CPU 1, wrk on CPU 0' if two_cpus else 'unpinned'}")
            cases = {"200": {}, "304": {"If-None-Match": etag}}
            runs: dict[tuple[str, str], list[Result]] = {}
            for round_number in range(args.rounds):
                # alternate who goes first, so a drift in machine load hits both alike
                order = servers if round_number % 2 == 0 else servers[::-1]
                for case, headers in cases.items():
                    for server in order:
                        result = measure(server, args.path, headers, args.seconds,
                                         args.connections, load_cpu)
                        assert result.non_2xx_3xx == 0, (server.name, case, result)
                        runs.setdefault((server.name, case), []).append(result)
            report(runs)
        finally:
            for server in servers:
                server.stop()


def report(runs: dict[tuple[str, str], list[Result]]) -> None:
    """Medians over the rounds; each ratio is the median of the rounds' paired ratios."""
    print(f"{'case':<6}{'server':<9}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'ratio':>7}"
          f"{'req/cpu-s':>11}{'ratio':>7}")
    for case in ("200", "304"):
        bare, ours = runs[("bare", case)], runs[("feedsvc", case)]
        wall = [o.requests_per_second / b.requests_per_second for o, b in zip(ours, bare, strict=True)]
        cpu = [o.per_cpu_second / b.per_cpu_second for o, b in zip(ours, bare, strict=True)]
        for name, results, ratios in (("bare", bare, [1.0]), ("feedsvc", ours, wall)):
            own = [1.0] if name == "bare" else cpu
            print(f"{case:<6}{name:<9}{median(r.requests_per_second for r in results):>9.0f}"
                  f"{median(r.p50_ms for r in results):>8.2f}{median(r.p99_ms for r in results):>8.2f}"
                  f"{median(ratios):>7.2f}{median(r.per_cpu_second for r in results):>11.0f}"
                  f"{median(own):>7.2f}")
        print(f"{'':<6}req/s ratios by round:     {' '.join(f'{r:.2f}' for r in wall)}")
        print(f"{'':<6}req/cpu-s ratios by round: {' '.join(f'{r:.2f}' for r in cpu)}")


if __name__ == "__main__":
    main()
