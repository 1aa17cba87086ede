"""What short bursts of CPU work beside a server do to its p99 latency.

    python bench/bursts.py [--rounds 3] [--seconds 2] [--connections 10] [--rate 6]
                           [--cases loop:2.5,thread:2.5,native:2.5,sliced:2.5,...]
                           [--switch-interval 0.001] [--worker-nice 0]

A poll shares its process, and on a small machine its core, with the requests being
answered. This bench isolates that: a server in a subprocess answers ``GET /feed``
with a fixed 20 KB body held in memory, as feedsvc answers a cached feed, and while
wrk loads it, a task of the server starts a burst of CPU work ``--rate`` times a
second (after each burst it waits ``1/rate`` s). A case is ``place:ms``, the place
being one of:

- ``loop``    Python code on the event loop itself;
- ``thread``  Python code in a worker thread (``asyncio.to_thread``): it holds the GIL
              but for the turns the interpreter forces every switch interval;
- ``native``  hashing in a worker thread: C code that releases the GIL, as SQLite's
              work does;
- ``sliced``  the work of ``thread`` in pieces of ``SLICE_MS``, each a thread hop of its
              own, so that the event loop runs between any two.

Each case runs ``--rounds`` pairs of wrk runs back to back, bursts off then on; the
report gives the medians of each side's p99, their ratio and their difference.
``--worker-nice`` lowers the worker threads' priority while they burst. With
two or more CPUs the server runs on CPU 1 and wrk on CPU 0 (taskset), as in
``scale.py``: the server's threads share one core, as feedsvc's do there. The server
logs nothing; every step is bounded, and the server is stopped on errors and Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from statistics import median

from aiohttp import web
from support import (
    ROOT,
    WrkResult,
    answers,
    free_port,
    pinned,
    run_wrk,
    split_cpus,
    stop_process,
)

BODY = bytes(range(256)) * 80  # 20 KB, about a compressed topic feed
SLICE_MS = 0.05
PLACES = ("loop", "thread", "native", "sliced")
DEFAULT_CASES = "loop:2.5,thread:2.5,native:2.5,sliced:2.5,loop:0.5,thread:0.5"
START_TIMEOUT = 20.0
HASHED = bytes(64 * 1024)  # hashlib releases the GIL for inputs over 2 KB


# --- the server -------------------------------------------------------------------


def python_burn(ms: float) -> int:
    """Python bytecode for ``ms`` milliseconds."""
    deadline = time.perf_counter() + ms / 1000
    total = 0
    while time.perf_counter() < deadline:
        total += sum(range(40))
    return total


def native_burn(ms: float) -> None:
    """C code with the GIL released for ``ms`` milliseconds (but for the checks between)."""
    deadline = time.perf_counter() + ms / 1000
    while time.perf_counter() < deadline:
        hashlib.sha256(HASHED).digest()


def lowered(work: Callable[[float], object], nice: int) -> Callable[[float], object]:
    """``work`` run with this worker thread's nice value raised to ``nice`` (Linux: each
    thread has its own), then put back."""
    def run(ms: float) -> object:
        if not nice:
            return work(ms)
        thread = threading.get_native_id()
        before = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, nice)
        try:
            return work(ms)
        finally:
            with contextlib.suppress(PermissionError):  # raising it back needs CAP_SYS_NICE
                os.setpriority(os.PRIO_PROCESS, thread, before)
    return run


async def burst(place: str, ms: float, nice: int = 0) -> None:
    if place == "loop":
        python_burn(ms)
    elif place == "thread":
        await asyncio.to_thread(lowered(python_burn, nice), ms)
    elif place == "native":
        await asyncio.to_thread(lowered(native_burn, nice), ms)
    else:  # sliced
        for _ in range(max(1, round(ms / SLICE_MS))):
            await asyncio.to_thread(lowered(python_burn, nice), SLICE_MS)


def serve(port: int, switch_interval: float, nice: int) -> None:
    """The server in this process (``--serve``), until SIGINT or SIGTERM."""
    sys.setswitchinterval(switch_interval)
    plan: dict[str, str | float] = {}  # place, ms, rate; empty: no bursts

    async def feed(request: web.Request) -> web.Response:
        return web.Response(body=BODY, content_type="application/atom+xml")

    async def bursts(request: web.Request) -> web.Response:
        plan.clear()
        plan.update(await request.json())
        return web.Response(text="ok")

    async def background(app: web.Application) -> AsyncIterator[None]:
        async def run() -> None:
            while True:
                now = dict(plan)  # as it stands: a POST may change it while this sleeps
                await asyncio.sleep(1 / float(now["rate"]) if now else 0.05)
                if now and now == plan:
                    await burst(str(now["place"]), float(now["ms"]), nice)

        task = asyncio.ensure_future(run())
        yield
        task.cancel()

    app = web.Application()
    app.router.add_get("/feed", feed)
    app.router.add_post("/_bursts", bursts)
    app.cleanup_ctx.append(background)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None,
                handle_signals=True)


# --- the bench --------------------------------------------------------------------


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def bursts(self, place: str | None, ms: float = 0.0, rate: float = 0.0) -> None:
        body = json.dumps({"place": place, "ms": ms, "rate": rate} if place else {}).encode()
        request = urllib.request.Request(self.url("/_bursts"), body, method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        stop_process(self.process, signal.SIGTERM, timeout=10)


def start(cpu: int | None, switch_interval: float, nice: int) -> Server:
    port = free_port()
    argv = pinned([sys.executable, __file__, "--serve", "--port", str(port),
                   "--switch-interval", str(switch_interval), "--worker-nice", str(nice)], cpu)
    server = Server(port, subprocess.Popen(argv, cwd=ROOT))
    if answers(server.url("/feed"), server.process, START_TIMEOUT):
        return server
    server.stop()
    raise SystemExit(f"the server did not answer within {START_TIMEOUT:g}s "
                     f"(exit status {server.process.returncode})")


@dataclass(frozen=True)
class Case:
    place: str
    ms: float

    @property
    def name(self) -> str:
        return f"{self.place} {self.ms:g} ms"


def parse_cases(text: str) -> list[Case]:
    cases = []
    for part in text.split(","):
        place, _, ms = part.strip().partition(":")
        if place not in PLACES:
            raise argparse.ArgumentTypeError(f"{place!r}: a place is one of {', '.join(PLACES)}")
        try:
            value = float(ms)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r}: not place:milliseconds") from None
        if not 0 < value <= 100:
            raise argparse.ArgumentTypeError(f"{part!r}: milliseconds from 0 to 100")
        cases.append(Case(place, value))
    return cases


def bench(args: argparse.Namespace) -> None:
    server_cpu, wrk_cpu = split_cpus()
    pinning = (f"server on CPU {server_cpu}, wrk on CPU {wrk_cpu}" if server_cpu is not None
               else "unpinned")
    print(f"bench/bursts.py: {pinning}; wrk -t1 -c{args.connections} -d{args.seconds:g}s; "
          f"bursts {args.rate:g} times a second; switch interval {args.switch_interval * 1000:g} ms;"
          f" worker threads at nice {args.worker_nice};"
          f" {args.rounds} rounds of (off, on) per case", flush=True)
    server = start(server_cpu, args.switch_interval, args.worker_nice)
    results: dict[Case, tuple[list[WrkResult], list[WrkResult]]] = {}
    try:
        for case in args.cases:
            off: list[WrkResult] = []
            on: list[WrkResult] = []
            for _ in range(args.rounds):
                server.bursts(None)
                off.append(run_wrk(server.url("/feed"), {}, args.seconds, args.connections, wrk_cpu))
                server.bursts(case.place, case.ms, args.rate)
                on.append(run_wrk(server.url("/feed"), {}, args.seconds, args.connections, wrk_cpu))
            server.bursts(None)
            results[case] = (off, on)
            print(f"  .. {case.name}: p99 off {' '.join(f'{r.p99_ms:.2f}' for r in off)}; "
                  f"on {' '.join(f'{r.p99_ms:.2f}' for r in on)}", flush=True)
    finally:
        server.stop()
    print("\nmedians; p99 and p50 in ms")
    print(f"{'burst':<16} {'p99 off':>8} {'p99 on':>8} {'ratio':>6} {'added':>6}"
          f" {'p50 off':>8} {'p50 on':>7} {'req/s off':>10} {'req/s on':>9}")
    for case, (off, on) in results.items():
        p99_off, p99_on = median(r.p99_ms for r in off), median(r.p99_ms for r in on)
        print(f"{case.name:<16} {p99_off:>8.2f} {p99_on:>8.2f} {p99_on / p99_off:>6.2f}"
              f" {p99_on - p99_off:>6.2f} {median(r.p50_ms for r in off):>8.2f}"
              f" {median(r.p50_ms for r in on):>7.2f}"
              f" {median(r.requests_per_second for r in off):>10.0f}"
              f" {median(r.requests_per_second for r in on):>9.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--cases", type=parse_cases, default=parse_cases(DEFAULT_CASES),
                        help=f"place:ms, comma-separated (default {DEFAULT_CASES})")
    parser.add_argument("--rate", type=float, default=6.0, help="bursts a second (default 6)")
    parser.add_argument("--rounds", type=int, default=3, help="(off, on) pairs per case")
    parser.add_argument("--seconds", type=float, default=2.0, help="each wrk run (default 2)")
    parser.add_argument("--connections", type=int, default=10, help="wrk connections (default 10)")
    parser.add_argument("--switch-interval", type=float, default=0.001,
                        help="the server's sys.setswitchinterval, seconds (feedsvc: 0.001)")
    parser.add_argument("--worker-nice", type=int, default=0, choices=range(20), metavar="0-19",
                        help="nice value of the worker threads while they burst (default 0)")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.port, args.switch_interval, args.worker_nice)
        return
    if not 0 < args.rate <= 100 or args.rounds < 1 or args.seconds <= 0:
        parser.error("--rate from 0 to 100, --rounds at least 1, --seconds more than 0")
    try:
        bench(args)
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
