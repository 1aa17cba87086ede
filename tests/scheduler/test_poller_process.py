"""PollerProcess with real child processes: what it hears, how it restarts, how it stops.

The children here are small Python programs standing in for ``feedsvc schedule
--child``; the whole service with its real child is in tests/e2e/test_poller_process.py.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from feedsvc.metrics import Metrics
from feedsvc.scheduler.process import ParentPipe, PollerProcess

pytestmark = pytest.mark.slow


def program(source: str) -> list[str]:
    return [sys.executable, "-c", textwrap.dedent(source)]


def numbered(runs: Path) -> str:
    """Lines of a child program (at its indentation) that set ``run`` to the number of
    this start, 1 for the first, counted in the file ``runs``."""
    return (f"with open({str(runs)!r}, 'a') as out:\n"
            f"            out.write('run\\n')\n"
            f"        run = open({str(runs)!r}).read().count('run')")


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"not so after {timeout}s")
        await asyncio.sleep(0.02)


class Heard:
    def __init__(self) -> None:
        self.sets: list[frozenset[str]] = []
        self.starts = 0

    def __call__(self, topics: frozenset[str]) -> None:
        self.sets.append(topics)

    async def started(self) -> None:
        self.starts += 1


def supervisor(argv: list[str], heard: Heard, metrics: Metrics, *,
               stop_seconds: float = 10.0) -> PollerProcess:
    return PollerProcess(argv, heard=heard, started=heard.started, metrics=metrics,
                         stop_seconds=stop_seconds, backoff=(0.05, 0.2))


async def test_each_line_reaches_the_channel_and_a_stray_line_is_skipped() -> None:
    heard, metrics = Heard(), Metrics()
    child = program("""
        import sys
        print('["syria", "all"]', flush=True)
        print('a stray print', flush=True)
        print('{"not": "a list"}', flush=True)
        print('["economy"]', flush=True)
        sys.stdin.read()
    """)
    process = supervisor(child, heard, metrics)
    async with process.running():
        await until(lambda: len(heard.sets) == 2)
        assert heard.sets == [frozenset({"syria", "all"}), frozenset({"economy"})]
        assert process.problem is None and process.pid is not None
        assert heard.starts == 1
        assert metrics.poller_process_up._value.get() == 1


async def test_a_child_that_exits_is_started_again_with_its_reason_said(tmp_path: Path) -> None:
    heard, metrics = Heard(), Metrics()
    runs = tmp_path / "runs"
    # each run leaves a line in ``runs``; the first two exit at once with status 3
    child = program(f"""
        import sys
        {numbered(runs)}
        if run <= 2:
            sys.exit(3)
        print('["after-restart"]', flush=True)
        sys.stdin.read()
    """)
    process = supervisor(child, heard, metrics)
    async with process.running():
        await until(lambda: heard.sets == [frozenset({"after-restart"})])
        assert heard.starts == 3  # the counters are read after every start
        assert metrics.poller_process_exits._value.get() == 2
        assert process.problem is None


async def test_the_childs_metrics_lines_add_up_across_restarts(tmp_path: Path) -> None:
    heard, metrics = Heard(), Metrics()
    runs = tmp_path / "runs"
    # each run counts one poll and sends it; the first run exits after it, the second stays
    child = program(f"""
        import sys
        {numbered(runs)}
        line = '["feedsvc_polls", "feedsvc_polls_total", {{"source": "s", "outcome": "ok"}}, 1]'
        print('{{"metrics": [' + line + ']}}', flush=True)
        if run == 1:
            sys.exit(0)
        print('["second"]', flush=True)
        sys.stdin.read()
    """)
    process = supervisor(child, heard, metrics)
    async with process.running():
        await until(lambda: heard.sets == [frozenset({"second"})])
        polls = metrics.registry.get_sample_value(
            "feedsvc_polls_total", {"source": "s", "outcome": "ok"})
        assert polls == 2


async def test_problem_names_the_signal_that_killed_the_child() -> None:
    heard, metrics = Heard(), Metrics()
    process = PollerProcess(program("import sys; print('[]', flush=True); sys.stdin.read()"),
                            heard=heard, started=heard.started, metrics=metrics,
                            stop_seconds=10.0, backoff=(60.0, 60.0))
    async with process.running():
        await until(lambda: heard.sets == [frozenset()])
        assert process.pid is not None
        os.kill(process.pid, 9)
        await until(lambda: process.problem is not None)
        assert process.problem == ("the polling process was killed by SIGKILL; "
                                   "starting it again in 60s")
        assert process.pid is None and metrics.poller_process_up._value.get() == 0


async def test_stopping_closes_input_and_a_child_deaf_to_it_is_killed() -> None:
    heard, metrics = Heard(), Metrics()
    stubborn = program("""
        import signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print('[]', flush=True)
        while True:
            time.sleep(1)
    """)
    process = supervisor(stubborn, heard, metrics, stop_seconds=0.5)
    async with process.running():
        await until(lambda: heard.sets == [frozenset()])
        pid = process.pid
    assert pid is not None
    with pytest.raises(ProcessLookupError):  # killed and reaped, not left behind
        os.kill(pid, 0)


async def test_a_polite_child_ends_when_its_input_closes(tmp_path: Path) -> None:
    heard, metrics = Heard(), Metrics()
    done = tmp_path / "done"
    polite = program(f"""
        import signal, sys
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print('[]', flush=True)
        sys.stdin.read()
        open({str(done)!r}, "w").write("input closed")
    """)
    process = supervisor(polite, heard, metrics, stop_seconds=30.0)
    async with process.running():
        await until(lambda: heard.sets == [frozenset()])
    assert done.read_text() == "input closed"


async def test_the_child_side_writes_one_line_per_change(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with out.open("wb") as stream:
        pipe = ParentPipe(stream)
        await pipe.send(frozenset({"b", "a"}))
        await pipe.send(frozenset({"سوريا"}))
    assert out.read_bytes().decode().splitlines() == ['["a","b"]', '["سوريا"]']


def test_lower_priority_never_raises_it() -> None:
    # in a process of its own: a nice value, once raised, cannot be brought back down
    script = ("import os; from feedsvc.scheduler.process import lower_priority; "
              "os.nice(5); print(lower_priority(3), lower_priority(12), "
              "os.getpriority(os.PRIO_PROCESS, 0))")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).parents[2])
    base = os.getpriority(os.PRIO_PROCESS, 0)
    first, second, now = map(int, result.stdout.split())
    assert first == base + 5  # asked for less than it had: kept
    assert second == max(12, base + 5) == now
