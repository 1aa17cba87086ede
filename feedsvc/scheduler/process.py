"""Polls in a process of their own: ``feedsvc serve`` with ``scheduler.poller_process``.

::

    feedsvc serve (readers first)               feedsvc schedule --child (nice 19)
    PollerProcess ── starts, restarts, stops ──▶ scheduler ─ pipeline ─ store
         ▲                                              │
         └── standard output: one line of changed ──────┘  (SQLite; on PostgreSQL
             topics per publish, to the render cache        the child NOTIFYs)

Why: on one core, every uninterrupted step of a poll (a page read, a topic match, a
commit) delays a request that arrives during it by up to its own length, on the
event loop, in a thread or in C without the GIL alike (docs/benchmarks.md, "Bursts
of work beside a server"). The kernel preempts a process of lower priority at once
for a request that is waiting; nothing inside one Python process can.

The child (:func:`lower_priority`, :class:`ParentPipe`):

- lowers its own priority first thing, before any thread exists, so that every
  thread it starts (page reads, SQLite) inherits it. It stays in the server's session:
  with the kernel's autogroup scheduling (``/proc/sys/kernel/sched_autogroup_enabled``,
  on in most distributions) a process in a session of its own shares the CPU with
  the server as an equal, whatever its nice value (measured: the server's requests a
  second fell by 60 % during an ingest, and its p99 rose 5 to 9 times);
- ignores SIGINT: a terminal's Ctrl-C reaches the whole group, and the server stops
  its child itself;
- exits when its standard input closes: the server stopped or died, even by SIGKILL;
- on SQLite, writes each change it publishes to standard output as a JSON array of
  topic slugs, one line each;
- every ``METRICS_SECONDS``, writes the samples of its poll metrics that moved as one
  line, ``{"metrics": [[family, sample, labels, value], ...]}`` (:class:`MetricsToServer`).

The server (:class:`PollerProcess`):

- hands each line of slugs to its change channel, as it would a notification from
  another replica, and reads the change counters after each start (what a dead child
  stored and did not say; the periodic catch-up would find it too, later);
- keeps the child's metrics for its own ``/metrics``, the counters adding up across
  children (``feedsvc.metrics.FromPoller``);
- restarts a child that exited after ``BACKOFF_FIRST`` seconds, doubling to
  ``BACKOFF_MOST``, and from the first again once a child has run ``STEADY_SECONDS``;
  ``problem`` says why no child runs, for ``/healthz``;
- stops the child with itself: standard input closed and SIGTERM, then SIGKILL after
  ``stop_seconds`` (the child's polls in flight get their grace first).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import BinaryIO

import orjson

from feedsvc.background import background
from feedsvc.errors import StoreError
from feedsvc.logsetup import get_log
from feedsvc.metrics import Metrics, Sample
from feedsvc.store.channel import Arrived

log = get_log("feedsvc.scheduler")

BACKOFF_FIRST = 1.0
BACKOFF_MOST = 30.0
STEADY_SECONDS = 60.0  # a child that ran this long starts the back-off afresh
LINE_LIMIT = 1 << 24  # bytes of one line: every slug of a large topics file
METRICS_SECONDS = 5.0  # how often the child sends its metrics that moved


def lower_priority(nice: int) -> int:
    """Set this process's nice value to ``nice``, never below the one it has; returns it.

    On Linux the value is per thread and inherited by the threads a thread starts, so
    this must run before the process starts any.
    """
    wanted = max(nice, os.getpriority(os.PRIO_PROCESS, 0))
    os.setpriority(os.PRIO_PROCESS, 0, wanted)
    return wanted


class ParentPipe:
    """The child's change transport on SQLite: each publish, a line on standard output.

    A :class:`feedsvc.store.channel.Transport` that only sends: the child renders
    nothing, so it listens to nobody.
    """

    problem: str | None = None

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self.stream = stream or sys.stdout.buffer

    async def send(self, topics: frozenset[str]) -> None:
        # a pipe the server reads all the time: the write does not wait
        try:
            self.stream.write(orjson.dumps(sorted(topics)) + b"\n")
            self.stream.flush()
        except OSError as exc:  # the server is gone: this process ends when its input closes
            raise StoreError(f"cannot tell the server of a change: {exc}") from exc

    def listening(self, arrived: Arrived, connected: Callable[[], Awaitable[None]]
                  ) -> contextlib.AbstractAsyncContextManager[None]:
        return contextlib.nullcontext()


class MetricsToServer:
    """The child's poll metrics to its server: the samples that moved, one line at a time.

    Sent every ``every`` seconds while :meth:`running`; a server scraped between two
    lines shows the figures of the last one.
    """

    def __init__(self, metrics: Metrics, stream: BinaryIO | None = None,
                 every: float = METRICS_SECONDS) -> None:
        self.metrics = metrics
        self.stream = stream or sys.stdout.buffer
        self.every = every
        self._sent: dict[tuple[str, Sample], float] = {}

    def send(self) -> None:
        now = self.metrics.poller_samples()
        moved = [[family, name, dict(labels), value]
                 for (family, (name, labels)), value in now.items()
                 if self._sent.get((family, (name, labels))) != value]
        if moved:
            self.stream.write(orjson.dumps({"metrics": moved}) + b"\n")
            self.stream.flush()
        self._sent = now

    def running(self) -> contextlib.AbstractAsyncContextManager[None]:
        return background(self._sending(), "metrics-to-server")

    async def _sending(self) -> None:
        while True:
            try:
                self.send()
            except OSError as exc:  # the server is gone: this process ends when its input closes
                log.warning("schedule.metrics_unsent", error=str(exc))
                return
            await asyncio.sleep(self.every)


class PollerProcess:
    """Keeps one child polling while the context of :meth:`running` is open."""

    def __init__(self, argv: Sequence[str], *, heard: Arrived,
                 started: Callable[[], Awaitable[None]], metrics: Metrics,
                 stop_seconds: float, backoff: tuple[float, float] = (BACKOFF_FIRST, BACKOFF_MOST)
                 ) -> None:
        self.argv = tuple(argv)
        self.backoff = backoff
        self.heard = heard
        self.started = started
        self.metrics = metrics
        self.stop_seconds = stop_seconds
        self.pid: int | None = None
        self.problem: str | None = "the polling process is starting"

    def running(self) -> contextlib.AbstractAsyncContextManager[None]:
        return background(self._supervise(), "poller-process")

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        first, most = self.backoff
        delay = first
        while True:
            began = loop.time()
            try:
                reason = _ended(await self._run_once())
            except OSError as exc:  # cannot start it: no such interpreter, no processes left
                reason = f"could not be started: {exc.strerror or exc}"
            except Exception as exc:  # a bug here must not end the polling for good
                log.error("poller.supervise_failed", error=repr(exc), exc_info=exc)
                reason = f"was stopped after an error in the server: {type(exc).__name__}"
            if loop.time() - began >= STEADY_SECONDS:
                delay = first
            self.metrics.poller_process_exits.inc()
            self.problem = f"the polling process {reason}; starting it again in {delay:g}s"
            log.error("poller.exited", reason=reason, restart_in=delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, most)

    async def _run_once(self) -> int:
        child = await asyncio.create_subprocess_exec(
            *self.argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            limit=LINE_LIMIT)  # in the server's session: see the module's docstring
        try:
            self.pid, self.problem = child.pid, None
            self.metrics.poller_process_up.set(1)
            log.info("poller.started", pid=child.pid)
            await self.started()
            assert child.stdout is not None
            await self._read(child.stdout)
            return await child.wait()
        finally:
            self.pid = None
            self.metrics.poller_process_up.set(0)
            self.metrics.registry.from_poller.child_ended()
            if child.returncode is None:
                await self._stop(child)

    async def _read(self, stdout: asyncio.StreamReader) -> None:
        """Each line, to the change channel or the metrics, until the child closes its end."""
        while line := await stdout.readline():
            try:
                message = orjson.loads(line)
                if isinstance(message, dict) and "metrics" in message:
                    self.metrics.registry.from_poller.heard(message["metrics"])
                    continue
                if not isinstance(message, list) or not all(isinstance(s, str) for s in message):
                    raise ValueError("not a list of topic slugs")
            except ValueError as exc:  # a stray print: said once, never taken for a change
                log.warning("poller.bad_line", line=line[:200].decode("utf-8", "replace"),
                            error=str(exc))
                continue
            self.heard(frozenset(message))

    async def _stop(self, child: asyncio.subprocess.Process) -> None:
        """Standard input closed and SIGTERM; SIGKILL if it is still there after the grace."""
        if child.stdin is not None:
            child.stdin.close()
        with contextlib.suppress(ProcessLookupError):
            child.terminate()
        try:
            await asyncio.wait_for(asyncio.shield(child.wait()), self.stop_seconds)
        except TimeoutError:
            log.warning("poller.killed", pid=child.pid, after=self.stop_seconds)
            with contextlib.suppress(ProcessLookupError):
                child.kill()
            await child.wait()
        log.info("poller.stopped", pid=child.pid, status=child.returncode)


def _ended(returncode: int) -> str:
    if returncode < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-returncode).name}"
    return f"exited with status {returncode}"
