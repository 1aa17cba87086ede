"""What the whole service costs as topics grow: poll, start-up, memory, index pages, and
cached feeds while a large ingest runs.

    python bench/scale.py [--sizes 10,1000,10000] [--quick] [--ingest-topics 1000]

Everything goes through the public commands and HTTP, so the bench measures any
version of feedsvc that has them. In a temporary folder, against the offline replica
(run by this script in a process of its own, no host delay, robots.txt not read):

*Per topic count N* (``--sizes``): N topics generated with a fixed seed from the
replica's vocabulary (``realistic_topics`` in ``bench/support.py``, the set
``bench/bench_match.py`` times), slugs ``t00001``..., short Arabic titles.

- **first poll**: ``python -m feedsvc poll`` into a fresh SQLite database (the
  replica's 68 published articles), wall time from spawn to exit and the child's peak
  RSS (``ru_maxrss`` from ``wait4``). The store knows no topic yet: the poll reads and
  compiles every query and records every topic's rules first, work done once per
  topics file (every later start of the same file loads the compiled snapshot);
- **poll**: the same poll into a fresh database whose topics are already recorded, as
  they are for every poll after the first: a poll that found the site's feed failing
  (HTTP 503, a fault armed on the replica) made it, so the measured poll stores all 68
  articles (its wall time and peak RSS);
- **ready**: ``python -m feedsvc serve`` on the first poll's database (its source due
  only in a day, so it does not poll), from spawn to the first 200 of ``/readyz``, and its RSS
  then (``/proc/<pid>/status``, VmRSS);
- **GET** ``/``, ``/topics.opml`` and ``/api/topics``: the first request after
  start-up (uncached), then the median of repeated requests (cached, if the version
  caches them), one at a time on one keep-alive connection.

Polls and start-ups are repeated up to 3 times, while the runs fit in a minute (today
the 10,000-topic start-up runs once), and their medians reported. Ratios are against
the smallest size of the same run, with PASS or FAIL against issue 13's targets: at
10,000 topics against 10, one poll and the time to ready at most 2×, the three GETs
(cached) at most 1.5×, and RSS at most 150 MiB. The first poll's ratio is shown
beside them, without a target: compiling N new topics is work in proportion to N.

*Serving while ingesting* (``--ingest-topics``, 1,000 by default): a database polled
as above first thing (the replica's feed asks for 5 minutes between polls, its
``<ttl>``, which the rows above then use up), then ``serve`` on it, polling every 10 s.
wrk (``--latency``) measures the p99 of a cached feed: ``t00001``, a topic of the
health section, which the ingest does not touch (200, and 304 with If-None-Match);
and, without a target, of ``/feeds/all.atom`` (200), which every stored article
changes, so that during the ingest it is rendered again on most reads. First idle
(at least 3 rounds, more while the next poll is far off), then while the service
ingests ``--ingest-articles`` new articles that the bench publishes on the replica at
once; its site feed lists them all. They are made
from the real ones: new ids, titles and slugs, bodies of sentences from different
articles, so that none is a near-duplicate of another. A wrk run counts as "during
the ingest" when the stored count (``/healthz``) grew while it ran; the ingest is over
when that poll has finished. Then idle again (3 rounds).

The baseline is measured in the same minutes as the ingest: each run during the ingest
is followed by one of the same case while the replica holds every answer back (its
``hold`` fault, released after the run), so the poll waits on the network and the
service has only readers. Such a run counts when nothing was stored while it ran. The
machine's other work comes and goes by the minute; a pair seconds apart shares it.
The idle rounds before and after the ingest are shown beside it. Target (the cached
feed): the median p99 during the ingest at most 2× that of its held pairs.

Every request sends ``Accept-Encoding: gzip``, as feed readers and browsers do.

With two or more CPUs the feedsvc processes run on CPU 1 and everything else (this
script, the replica, wrk) on CPU 0 (taskset). Every step has a timeout; servers and
the replica are stopped, and the folder removed, on errors and on Ctrl-C. Benchmarks
print; this one never fails on a target.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import html
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

from aiohttp import web
from support import (
    ROOT,
    WrkResult,
    free_port,
    pinned,
    realistic_topics,
    replica_articles,
    run_wrk,
    split_cpus,
    stop_process,
)

from feedsvc.normalize.arabic import tokenize
from feedsvc.replica import DEFAULT_DATA, ReplicaSite, create_replica_app
from feedsvc.replica.articles import paragraph_text

SIZES = (10, 1_000, 10_000)
INDEX_PATHS = ("/", "/topics.opml", "/api/topics")
ACCEPT = {"Accept-Encoding": "gzip"}  # what feed readers and browsers send
UNTOUCHED_SECTION = "health"  # the ingest adds no article here: its topic stays cached
TARGETS = {"poll": 2.0, "ready": 2.0, "get": 1.5, "ingest_p99": 2.0}
RSS_TARGET_MIB = 150
INGEST_INTERVAL = "10s"  # the shortest interval feedsvc accepts
REPEAT_BUDGET_SECONDS = 60.0  # a poll or a start-up is repeated while the runs fit in this
QUIET_SECONDS = 15.0  # without /healthz "polling": the ingest is over after this long without growth
IDLE_MOST_SECONDS = 90.0  # idle wrk rounds go on this long at most while the next poll is far
IDLE_MARGIN_SECONDS = 20.0  # ... and stop this long before it
HOLD_SETTLE_SECONDS = 1.5  # after the replica holds: the page in hand stored, the cache warmed
HOLD_MOST_SECONDS = 15.0  # a hold ends by itself by then, within the fetch's read timeout


class BenchError(Exception):
    """A step failed or timed out; the bench stops with this message (and a log's tail)."""


# --- the replica and its data ---------------------------------------------------------


def serve_replica_process(data: Path, port: int, feed_size: int) -> None:
    """The replica in this process (``--replica``), until SIGINT or SIGTERM."""
    site = ReplicaSite(data_path=data, base_url=f"http://127.0.0.1:{port}", feed_size=feed_size)
    web.run_app(create_replica_app(site), host="127.0.0.1", port=port, access_log=None,
                print=None, shutdown_timeout=1.0)


def sentences(article: dict[str, Any]) -> list[str]:
    """The article's body sentences of six words or more, as plain text."""
    found = []
    for paragraph in article["paragraphs"]:
        found += [s for s in re.split(r"(?<=[.!؟])\s+", paragraph_text(paragraph))
                  if len(s.split()) >= 6]
    return found


def ingest_articles(document: dict[str, Any], count: int, seed: int = 13) -> list[dict[str, Any]]:
    """``count`` new, held articles in the data file's format, made from the real ones.

    Each takes its lead and 4 to 7 body sentences from as many different articles, so
    two of them share a sentence rarely and never most of their text (the near-duplicate
    check merges bodies at a word-trigram Jaccard of 0.5). Titles join halves of two
    titles; ids follow the data's last; each is published a minute after the previous,
    all after the newest real article; none is in ``UNTOUCHED_SECTION``."""
    rng = random.Random(seed)
    real = [a for a in document["articles"] if not a.get("held")]
    pool = {a["id"]: sentences(a) for a in real}
    donors_pool = [a for a in real if pool[a["id"]]]
    sections = sorted({a["section"] for a in real} - {UNTOUCHED_SECTION})
    first_id = max(a["id"] for a in document["articles"]) + 1
    newest = max(datetime.fromisoformat(a["published"]) for a in document["articles"])
    titles = {a["title"] for a in document["articles"]}
    made = []
    for n in range(count):
        donors = rng.sample(donors_pool, k=rng.randint(5, 8))
        lead, *body = (rng.choice(pool[d["id"]]) for d in donors)
        head, tail = donors[0]["title"].split(), donors[1]["title"].split()
        title = " ".join(head[: max(2, len(head) // 2)] + tail[len(tail) // 2:])
        if title in titles:
            title = f"{title} {n + 1}"
        titles.add(title)
        paragraphs = [html.escape(" ".join(body[i:i + 2]), quote=False) for i in range(0, len(body), 2)]
        tags = {t["slug"]: t for d in donors[:2] for t in d.get("tags", ())}
        published = (newest + timedelta(minutes=n + 1)).isoformat()
        made.append({
            "id": first_id + n, "section": sections[n % len(sections)],
            "slug": "-".join(re.findall(r"[^\W_]+", title)), "title": title, "lead": lead,
            "paragraphs": paragraphs, "credit": donors[0].get("credit"),
            "tags": list(tags.values())[:4], "image": donors[0].get("image"),
            "author": donors[0].get("author"), "published": published, "modified": published,
            "template": "article", "held": True,
        })
    return made


# --- topics and settings ------------------------------------------------------------


def toml_string(text: str) -> str:
    # a JSON string without ASCII escapes is a valid TOML basic string
    return json.dumps(text, ensure_ascii=False)


def reference_topic() -> str:
    """A topic of the health articles only: no new article of the ingest reaches it."""
    document = json.loads(DEFAULT_DATA.read_text("utf-8"))
    titles = [a["title"] for a in document["articles"]
              if a["section"] == UNTOUCHED_SECTION and not a.get("held")]
    words = [max(tokenize(title), key=len) for title in titles]
    return (f'query = {toml_string("title:(" + " OR ".join(words) + ")")}\n'
            f'sections = ["{UNTOUCHED_SECTION}"]\n')


def write_topics(path: Path, count: int) -> Path:
    """``count`` generated topics; the first (``t00001``) is the reference topic."""
    generated = realistic_topics(count, replica_articles())
    tables = []
    for number, topic in enumerate(generated, start=1):
        first_word = re.findall(r"[\u0600-\u06ff]+", topic.query)[0]
        head = (f'[[topics]]\nslug = "t{number:05d}"\ntitle = "موضوع {number}"\n'
                f'description = {toml_string("أخبار " + first_word)}\n')
        if number == 1:
            tables.append(head + reference_topic())
            continue
        body = f"query = {toml_string(topic.query)}\n"
        if topic.exclude:
            body += f"exclude = {toml_string(topic.exclude)}\n"
        if topic.sections:
            body += f"sections = {json.dumps(list(topic.sections))}\n"
        tables.append(head + body)
    path.write_text("\n".join(tables), "utf-8")
    return path


def write_config(folder: Path, topics: Path, replica_url: str, *, port: int, interval: str,
                 max_pages: int, poller_process: bool = False) -> Path:
    """A settings file; the database is ``feedsvc.db`` beside it."""
    config = folder / "feedsvc.toml"
    config.write_text(f"""topics_file = {toml_string(str(topics))}

[server]
host = "127.0.0.1"
port = {port}
public_url = "http://127.0.0.1:{port}"
health_detail_loopback = true

[storage]
url = "sqlite:///feedsvc.db"

[[sources]]
name = "rt-arabic"
base_url = {toml_string(replica_url)}
feeds = ["/rss/"]
interval = "{interval}"
max_pages_per_poll = {max_pages}

[fetch]
min_host_delay = 0.0
respect_robots = false

[scheduler]
tick = "1s"
poller_process = {str(poller_process).lower()}
""", "utf-8")
    return config


# --- processes -------------------------------------------------------------------------


@dataclass
class Child:
    """A process this bench started, its output in ``log``."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        # SIGTERM: SIGINT may be ignored, in a process started in the background
        stop_process(self.process, signal.SIGTERM, timeout=15)

    def tail(self, lines: int = 8) -> str:
        text = self.log.read_text("utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def spawn(name: str, argv: list[str], log: Path, cpu: int | None) -> Child:
    with log.open("wb") as out:
        process = subprocess.Popen(pinned(argv, cpu), stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, cwd=ROOT)
    return Child(name, process, log)


def feedsvc(command: str, config: Path) -> list[str]:
    return [sys.executable, "-m", "feedsvc", command, "--config", str(config)]


def run_poll(config: Path, cpu: int | None, timeout: float) -> tuple[float, float]:
    """Seconds from spawn to exit, and the peak RSS in MiB, of one ``feedsvc poll``."""
    started = time.perf_counter()
    child = spawn("poll", feedsvc("poll", config), config.parent / "poll.log", cpu)
    try:
        while True:
            # wait4 gives this child's own rusage (RUSAGE_CHILDREN is a max over all of them)
            pid, status, usage = os.wait4(child.process.pid, os.WNOHANG)
            if pid:
                seconds = time.perf_counter() - started
                child.process.returncode = os.waitstatus_to_exitcode(status)
                break
            if time.perf_counter() - started > timeout:
                raise BenchError(f"feedsvc poll took over {timeout:g}s:\n{child.tail()}")
            time.sleep(0.005)
    finally:
        child.stop()
    if child.process.returncode != 0:
        raise BenchError(f"feedsvc poll exited {child.process.returncode}:\n{child.tail()}")
    return seconds, usage.ru_maxrss / 1024


def memory(pid: int, key: str = "VmRSS") -> float:
    """A /proc/<pid>/status figure in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"no {key} in /proc/{pid}/status")


def start_serve(config: Path, port: int, cpu: int | None, timeout: float) -> tuple[Child, float]:
    """``feedsvc serve``, once its /readyz answers 200; and the seconds that took."""
    started = time.perf_counter()
    child = spawn("serve", feedsvc("serve", config), config.parent / f"serve-{port}.log", cpu)
    try:
        while (left := timeout - (time.perf_counter() - started)) > 0:
            if child.process.poll() is not None:
                raise BenchError(f"feedsvc serve exited {child.process.returncode}:\n{child.tail()}")
            try:
                # feedsvc listens before it starts: a connection waits in the backlog until then
                status, _, _ = request(port, "/readyz", timeout=min(left, 5.0))
                if status == 200:
                    return child, time.perf_counter() - started
            except OSError:
                pass
            time.sleep(0.01)
        raise BenchError(f"feedsvc serve not ready within {timeout:g}s:\n{child.tail()}")
    except BaseException:
        child.stop()
        raise


def start_replica(data: Path, feed_size: int, cpu: int | None, folder: Path,
                  timeout: float = 30.0) -> tuple[Child, str]:
    port = free_port()
    argv = [sys.executable, str(Path(__file__).resolve()), "--replica", "--port", str(port),
            "--data", str(data), "--feed-size", str(feed_size)]
    child = spawn("replica", argv, folder / "replica.log", cpu)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise BenchError(f"the replica exited {child.process.returncode}:\n{child.tail()}")
        try:
            if request(port, "/robots.txt", timeout=2)[0] == 200:
                return child, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    child.stop()
    raise BenchError(f"the replica did not answer within {timeout:g}s")


# --- HTTP ----------------------------------------------------------------------------


def request(port: int, path: str, *, method: str = "GET", headers: dict[str, str] | None = None,
            body: bytes | None = None, timeout: float = 60.0,
            connection: http.client.HTTPConnection | None = None) -> tuple[int, dict[str, str], bytes]:
    own = connection is None
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        if own:
            conn.close()


def stored_articles(port: int) -> int:
    return source_state(port)[0]


@dataclass(frozen=True)
class Latency:
    first_ms: float  # the first request after start-up
    median_ms: float  # of the repeated requests that followed it
    repeats: int


def timed_gets(port: int, path: str, budget: float, most: int) -> Latency:
    """The first GET, then up to ``most`` more (at least 3) while they fit in ``budget`` seconds."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        def once() -> float:
            started = time.perf_counter()
            status, _, _ = request(port, path, headers=ACCEPT, connection=conn)
            if status != 200:
                raise BenchError(f"GET {path} answered {status}")
            return time.perf_counter() - started

        first = once()
        times: list[float] = []
        while len(times) < most and (len(times) < 3 or sum(times) + times[-1] <= budget):
            times.append(once())
    finally:
        conn.close()
    return Latency(first * 1000, median(times) * 1000, len(times))


# --- per topic count ----------------------------------------------------------------


@dataclass
class SizeRow:
    topics: int
    first_polls: list[float] = field(default_factory=list)  # into a store that knows no topic
    first_peaks: list[float] = field(default_factory=list)
    polls: list[float] = field(default_factory=list)  # the topics known already
    poll_peaks: list[float] = field(default_factory=list)
    readies: list[float] = field(default_factory=list)
    ready_rss: list[float] = field(default_factory=list)
    after_rss: float = 0.0  # VmHWM once the GETs are done
    gets: dict[str, Latency] = field(default_factory=dict)
    stored: int = 0
    load: float = 0.0


@dataclass(frozen=True)
class Plan:
    repeats: int
    get_budget: float
    get_most: int
    timeout: float
    feedsvc_cpu: int | None
    other_cpu: int | None


def repeated(plan: Plan, measure: Callable[[int], float]) -> None:
    """``measure(run)`` (returning its seconds) up to ``plan.repeats`` times, while another
    run still fits in ``REPEAT_BUDGET_SECONDS``: slow steps are measured once."""
    spent = 0.0
    for run in range(plan.repeats):
        seconds = measure(run)
        spent += seconds
        if spent + seconds > REPEAT_BUDGET_SECONDS:
            return


def measure_size(count: int, folder: Path, replica: str, plan: Plan) -> SizeRow:
    topics = write_topics(folder / f"topics-{count}.toml", count)
    row = SizeRow(count)
    database = folder / f"{count}-0"

    def timed_poll(name: str, run_folder: Path, times: list[float], peaks: list[float],
                   *, topics_known: bool) -> float:
        """One poll into a fresh database in ``run_folder``, its topics recorded first
        if ``topics_known``."""
        request_replica(replica, "reset")
        run_folder.mkdir()
        config = write_config(run_folder, topics, replica, port=free_port(), interval="1d",
                              max_pages=500)
        if topics_known:
            record_topics(config, replica, plan)
        seconds, peak = run_poll(config, plan.feedsvc_cpu, plan.timeout)
        times.append(seconds)
        peaks.append(peak)
        progress(f"{count} topics: {name}: {seconds:.2f} s, peak RSS {peak:.0f} MiB")
        return seconds

    def first_poll(run: int) -> float:
        return timed_poll(f"first poll {run + 1}", folder / f"{count}-{run}", row.first_polls,
                          row.first_peaks, topics_known=False)

    def poll(run: int) -> float:
        return timed_poll(f"poll {run + 1}", folder / f"{count}-known-{run}", row.polls,
                          row.poll_peaks, topics_known=True)

    def serve(run: int) -> float:
        port = free_port()
        config = write_config(database, topics, replica, port=port, interval="1d", max_pages=500)
        child, seconds = start_serve(config, port, plan.feedsvc_cpu, plan.timeout)
        try:
            row.readies.append(seconds)
            row.ready_rss.append(memory(child.process.pid))
            progress(f"{count} topics: serve {run + 1}: ready in {seconds:.2f} s, "
                     f"RSS {row.ready_rss[-1]:.0f} MiB")
            if run == 0:
                row.stored = stored_articles(port)
                for path in INDEX_PATHS:
                    row.gets[path] = got = timed_gets(port, path, plan.get_budget, plan.get_most)
                    progress(f"{count} topics: GET {path}: first {got.first_ms:.1f} ms, "
                             f"median {got.median_ms:.1f} ms of {got.repeats}")
                row.after_rss = memory(child.process.pid, "VmHWM")
        finally:
            child.stop()
        return seconds

    repeated(plan, first_poll)
    repeated(plan, poll)
    repeated(plan, serve)
    row.load = os.getloadavg()[0]
    return row


def record_topics(config: Path, replica: str, plan: Plan) -> None:
    """Have ``config``'s fresh store record its topics, and no article: a poll that finds
    the site's feed answering 503 (it exits 1, every source having failed)."""
    request_replica(replica, "inject", {"fault": "status", "path_glob": "/rss/*",
                                        "statuses": [503]})
    try:
        child = spawn("record", feedsvc("poll", config), config.parent / "record.log",
                      plan.feedsvc_cpu)
        try:
            child.process.wait(timeout=plan.timeout)
        finally:
            child.stop()
    finally:
        request_replica(replica, "clear_faults")
    if "topics.loaded" not in child.log.read_text("utf-8", errors="replace"):
        raise BenchError(f"the topics were not recorded:\n{child.tail()}")


def request_replica(replica: str, switch: str, payload: dict[str, Any] | None = None,
                    connection: http.client.HTTPConnection | None = None) -> None:
    port = int(replica.rsplit(":", 1)[1])
    status, _, body = request(port, f"/_replica/{switch}", method="POST",
                              body=json.dumps(payload or {}).encode(),
                              headers={"Content-Type": "application/json"}, connection=connection)
    if status != 200:
        raise BenchError(f"replica {switch}: {status} {body[:200]!r}")


# --- serving while ingesting -----------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    headers: dict[str, str]
    cached: bool = True  # False: the ingest changes it, so it has no target


@dataclass
class IngestResult:
    topics: int
    published: int
    base: int = 0
    final: int = 0
    seconds: float = 0.0
    idle: dict[str, list[WrkResult]] = field(default_factory=dict)  # before the ingest
    idle_after: dict[str, list[WrkResult]] = field(default_factory=dict)
    during: dict[str, list[WrkResult]] = field(default_factory=dict)
    held: dict[str, list[WrkResult]] = field(default_factory=dict)  # paired with ``during``
    outside: int = 0  # runs after the ingest began that count for neither
    changing: set[str] = field(default_factory=set)  # cases the ingest changes: no target
    etag_kept: bool = True
    rss: dict[str, float] = field(default_factory=dict)  # peak RSS (MiB) by process


@dataclass(frozen=True)
class IngestSetup:
    folder: Path  # the database is there
    topics: Path


def prepare_ingest(count: int, folder: Path, replica: str, articles: int,
                   plan: Plan) -> IngestSetup:
    """The ingest's database, polled once. Done first: the replica's feed asks for 5
    minutes between polls (``<ttl>``), which the size rows then mostly use up."""
    request_replica(replica, "reset")
    topics = folder / f"topics-{count}.toml"
    if not topics.exists():
        write_topics(topics, count)
    run_folder = folder / "ingest"
    run_folder.mkdir()
    config = write_config(run_folder, topics, replica, port=free_port(),
                          interval=INGEST_INTERVAL, max_pages=articles + 200)
    run_poll(config, plan.feedsvc_cpu, plan.timeout)
    return IngestSetup(run_folder, topics)


def source_state(port: int) -> tuple[int, bool | None, datetime | None]:
    """Stored articles, whether a poll runs now (None: not said), and when the next is due."""
    status, _, body = request(port, "/healthz", timeout=30)
    if status != 200:
        raise BenchError(f"/healthz answered {status}")
    sources = json.loads(body)["sources"]
    due = sources[0].get("next_poll_at")
    return (sum(source["articles"] for source in sources), sources[0].get("polling"),
            datetime.fromisoformat(due.replace("Z", "+00:00")) if due else None)


def poller_pid(port: int) -> int | None:
    """The polling child's pid (``scheduler.poller_process``), or None."""
    _, _, body = request(port, "/healthz", timeout=30)
    pid = json.loads(body).get("replica", {}).get("poller_pid")
    return int(pid) if pid else None


def until_due(port: int) -> float:
    """Seconds until the service's next poll (0 when none is said)."""
    due = source_state(port)[2]
    return (due - datetime.now(UTC)).total_seconds() if due else 0.0


def settle(port: int, timeout: float) -> None:
    """Until no poll runs and the next is at least 5 s away (publishing takes a moment,
    and a poll that saw half of it would leave the rest for 5 minutes later)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, polling, due = source_state(port)
        if not polling and (due is None or due - datetime.now(UTC) > timedelta(seconds=5)):
            return
        time.sleep(0.5)
    raise BenchError(f"the service kept polling for {timeout:g}s before the ingest")


def measure_ingest(setup: IngestSetup, replica: str, ingest_ids: list[int], plan: Plan,
                   args: argparse.Namespace) -> IngestResult:
    result = IngestResult(args.ingest_topics, len(ingest_ids))
    port = free_port()
    config = write_config(setup.folder, setup.topics, replica, port=port,
                          interval=INGEST_INTERVAL, max_pages=len(ingest_ids) + 200,
                          poller_process=args.poller_process)
    child, _ = start_serve(config, port, plan.feedsvc_cpu, plan.timeout)
    try:
        settle(port, plan.timeout)  # the poll it may start with (the feed is unchanged)
        result.base = source_state(port)[0]
        topic_path = "/feeds/t00001.atom"
        status, headers, _ = request(port, topic_path, headers=ACCEPT)
        if status != 200:
            raise BenchError(f"GET {topic_path} answered {status}")
        etag = headers["ETag"]
        cases = [Case("all.atom 200", "/feeds/all.atom", ACCEPT, cached=False),
                 Case("topic 200", topic_path, ACCEPT),
                 Case("topic 304", topic_path, {**ACCEPT, "If-None-Match": etag})]
        result.changing = {case.name for case in cases if not case.cached}

        def load(case: Case) -> WrkResult:
            run = run_wrk(f"http://127.0.0.1:{port}{case.path}", case.headers, args.wrk_seconds,
                          args.connections, plan.other_cpu)
            if run.non_2xx_3xx or run.socket_errors:
                raise BenchError(f"wrk {case.name}: {run}")
            return run

        # idle rounds: at least ``repeats``, and more while the next poll is far off, so
        # that little time is left to wait for it once the articles are out
        idle_from = time.monotonic()
        rounds = 0
        while rounds < plan.repeats or (time.monotonic() - idle_from < IDLE_MOST_SECONDS
                                        and until_due(port) > IDLE_MARGIN_SECONDS):
            for case in cases:
                result.idle.setdefault(case.name, []).append(load(case))
            rounds += 1
        settle(port, plan.timeout)
        due = source_state(port)[2]
        progress(f"ingest, {result.topics} topics: idle p99 measured, {result.base} articles "
                 f"stored; publishing {len(ingest_ids)} new ones; the service's next poll at "
                 + (f"{due:%H:%M:%S} UTC" if due else "(not said)"))
        publish(replica, ingest_ids)
        published_at = time.monotonic()
        while (stored := source_state(port)[0]) == result.base:
            if time.monotonic() - published_at > plan.timeout:
                raise BenchError(f"the service stored no new article within {plan.timeout:g}s")
            time.sleep(0.2)
        started = last_growth = time.monotonic()
        while time.monotonic() - started < plan.timeout:
            for case in cases:
                before = stored
                run = load(case)
                stored, polling, _ = source_state(port)
                if stored <= before:
                    result.outside += 1
                    continue
                result.during.setdefault(case.name, []).append(run)
                last_growth = time.monotonic()
                # its pair: the same case with the ingest held, a moment later
                if (held := held_run(replica, port, functools.partial(load, case))) is not None:
                    result.held.setdefault(case.name, []).append(held)
                else:
                    result.outside += 1
                stored = source_state(port)[0]
            progress(f"ingest: {stored - result.base} new articles stored")
            over = (not polling) if polling is not None else (
                time.monotonic() - last_growth > QUIET_SECONDS)
            if over:
                break
        else:
            progress(f"ingest: still storing after {plan.timeout:g}s; stopped there")
        result.final, result.seconds = stored, last_growth - started
        result.etag_kept = request(port, topic_path, headers=ACCEPT)[1].get("ETag") == etag
        result.rss = {"server": memory(child.process.pid, "VmHWM")}
        if (poller := poller_pid(port)) is not None:
            result.rss["polling process"] = memory(poller, "VmHWM")
        # idle again, so that the baseline brackets the ingest in time: the machine's
        # other work comes and goes
        for _ in range(plan.repeats):
            for case in cases:
                result.idle_after.setdefault(case.name, []).append(load(case))
    finally:
        child.stop()
    return result


def held_run(replica: str, port: int, load: Callable[[], WrkResult]) -> WrkResult | None:
    """``load()`` while the replica holds every answer back, so the poll waits on the
    network: the idle run paired with a run during the ingest, seconds apart. None if
    an article was stored meanwhile (the poll was not held after all)."""
    request_replica(replica, "inject", {"fault": "hold", "most": HOLD_MOST_SECONDS})
    try:
        time.sleep(HOLD_SETTLE_SECONDS)  # the page in hand is stored, the cache warmed
        before = source_state(port)[0]
        run = load()
        return run if source_state(port)[0] == before else None
    finally:
        request_replica(replica, "clear_faults")


def publish(replica: str, ids: list[int]) -> None:
    port = int(replica.rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        for article_id in ids:
            request_replica(replica, "publish", {"id": article_id}, connection=conn)
    finally:
        conn.close()


# --- report ---------------------------------------------------------------------------


def progress(line: str) -> None:
    print(f"  .. {line}", file=sys.stderr, flush=True)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}" if len(values) > 1 else "one run"


def report_sizes(rows: list[SizeRow]) -> None:
    print("\nPoll, start-up and memory (medians; RSS in MiB)")
    print(f"{'topics':>7} {'first poll s':>12} {'peak':>5} {'poll s':>7} {'range':>10} {'poll peak':>10}"
          f" {'ready s':>8} {'range':>10} {'RSS ready':>10} {'RSS peak':>9} {'stored':>7} {'load':>5}")
    for row in rows:
        print(f"{row.topics:>7,} {median(row.first_polls):>12.2f} {median(row.first_peaks):>5.0f}"
              f" {median(row.polls):>7.2f} {spread(row.polls):>10}"
              f" {median(row.poll_peaks):>10.0f} {median(row.readies):>8.2f} {spread(row.readies):>10}"
              f" {median(row.ready_rss):>10.0f} {row.after_rss:>9.0f} {row.stored:>7} {row.load:>5.2f}")
    print("  first poll: into a store that knows no topic (reads and compiles every query once);"
          " poll: the topics known, as at every later poll.")
    print("  RSS peak: the serve process's VmHWM after the GETs below.")
    print("\nIndex pages, ms: the first GET after start-up, then the median of the GETs that"
          " followed it (cached where the version caches; n: how many)")
    print(f"{'topics':>7}" + "".join(f" {p + ' first':>19} {'cached':>8} {'n':>3}" for p in INDEX_PATHS))
    for row in rows:
        print(f"{row.topics:>7,}" + "".join(
            f" {row.gets[p].first_ms:>19.1f} {row.gets[p].median_ms:>8.1f} {row.gets[p].repeats:>3}"
            for p in INDEX_PATHS))


def report_ratios(rows: list[SizeRow]) -> None:
    base = rows[0]
    print(f"\nRatios against {base.topics:,} topics (same run)")
    print(f"{'topics':>7} {'first poll':>10} {'poll':>6} {'ready':>6}" + "".join(f" {p:>13}" for p in INDEX_PATHS))
    for row in rows:
        gets = "".join(f" {row.gets[p].median_ms / base.gets[p].median_ms:>13.2f}" for p in INDEX_PATHS)
        print(f"{row.topics:>7,} {median(row.first_polls) / median(base.first_polls):>10.2f}"
              f" {median(row.polls) / median(base.polls):>6.2f}"
              f" {median(row.readies) / median(base.readies):>6.2f}{gets}")
    top = rows[-1]
    if len(rows) < 2:
        return
    note = "" if (base.topics, top.topics) == (10, 10_000) else " (the targets are for 10,000 vs 10)"
    print(f"\nTargets, {top.topics:,} topics against {base.topics:,}{note}")
    checks = [
        ("one poll", median(top.polls) / median(base.polls), TARGETS["poll"]),
        ("time to ready", median(top.readies) / median(base.readies), TARGETS["ready"]),
        *((f"GET {p} (cached)", top.gets[p].median_ms / base.gets[p].median_ms, TARGETS["get"])
          for p in INDEX_PATHS),
    ]
    for name, ratio, target in checks:
        print(f"  {verdict(ratio <= target)}  {name}: {ratio:.2f}× (target ≤ {target:g}×)")
    first = median(top.first_polls) / median(base.first_polls)
    print(f"  (no target)  first poll, compiling every topic: {first:.2f}×")
    for name, mib in (("first poll peak RSS", median(top.first_peaks)),
                      ("poll peak RSS", median(top.poll_peaks)),
                      ("serve RSS when ready", median(top.ready_rss)),
                      ("serve peak RSS after the GETs", top.after_rss)):
        print(f"  {verdict(mib <= RSS_TARGET_MIB)}  {name}: {mib:.0f} MiB (target ≤ {RSS_TARGET_MIB} MiB)")


def report_ingest(result: IngestResult, args: argparse.Namespace) -> None:
    new = result.final - result.base
    where = ("in a process of their own (scheduler.poller_process)" if args.poller_process
             else "in the server's process")
    print(f"\nServing while ingesting: {result.topics:,} topics; {result.published:,} articles "
          f"published, {new:,} new stored ({'≥' if new >= 1000 else '<'} 1,000) in about "
          f"{result.seconds:.0f} s; polls {where}; wrk -t1 -c{args.connections} "
          f"-d{args.wrk_seconds:g}s")
    print("peak RSS: " + ", ".join(f"{name} {mib:.0f} MiB" for name, mib in result.rss.items()))
    print("p99 in ms, medians over wrk runs: idle before the ingest and after it; during the"
          " ingest, each run paired with one seconds later while the replica held the poll"
          " (the baseline)")
    print(f"{'case':<14} {'before':>7} {'after':>7} {'ingest':>7} {'max':>7} {'held':>7}"
          f" {'pairs':>5} {'ratio':>6} {'held req/s':>11} {'ingest req/s':>13}")
    ratios = []
    for name, before in result.idle.items():
        after = result.idle_after.get(name, [])
        after_p99 = f"{median(r.p99_ms for r in after):>7.2f}" if after else f"{'-':>7}"
        line = f"{name:<14} {median(r.p99_ms for r in before):>7.2f} {after_p99}"
        during, held = result.during.get(name, []), result.held.get(name, [])
        if not during or not held:
            print(f"{line} {'no run' if not during else 'no held run':>15}")
            continue
        busy_p99, held_p99 = median(r.p99_ms for r in during), median(r.p99_ms for r in held)
        ratios.append((name, busy_p99 / held_p99))
        print(f"{line} {busy_p99:>7.2f} {max(r.p99_ms for r in during):>7.2f} {held_p99:>7.2f}"
              f" {len(held):>5} {busy_p99 / held_p99:>6.2f}"
              f" {median(r.requests_per_second for r in held):>11.0f}"
              f" {median(r.requests_per_second for r in during):>13.0f}")
    print(f"  ({result.outside} runs after the ingest began count for neither: nothing stored "
          f"during the run, or something stored while held; the topic feed's ETag "
          f"{'stayed' if result.etag_kept else 'CHANGED'} through the ingest)")
    for name, ratio in ratios:
        if name in result.changing:
            print(f"  ----  p99 {name} during the ingest: {ratio:.2f}× held idle (no target: "
                  f"every stored article changes it, so most reads render it again)")
            continue
        print(f"  {verdict(ratio <= TARGETS['ingest_p99'])}  p99 {name} during the ingest: "
              f"{ratio:.2f}× held idle (target ≤ {TARGETS['ingest_p99']:g}×)")


# --- main -----------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)),
                        help="topic counts, comma-separated, smallest first is the baseline "
                        "(default %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="no repeated polls or start-ups, fewer GETs and idle wrk rounds")
    parser.add_argument("--ingest-topics", type=int, default=1_000,
                        help="topics while ingesting (0: skip that part; default %(default)s)")
    parser.add_argument("--ingest-articles", type=int, default=1_200,
                        help="new articles the ingest publishes (default %(default)s)")
    parser.add_argument("--poller-process", action="store_true",
                        help="while ingesting, poll in a process of its own "
                        "(scheduler.poller_process; it inherits the server's CPU)")
    parser.add_argument("--connections", type=int, default=10, help="wrk connections")
    parser.add_argument("--wrk-seconds", type=float, default=2.0, help="length of one wrk run")
    parser.add_argument("--timeout", type=float, default=600.0,
                        help="seconds any one step (a poll, a start-up, the ingest) may take")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    parser.add_argument("--replica", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--feed-size", type=int, help=argparse.SUPPRESS)
    return parser.parse_args()


@contextlib.contextmanager
def work_folder(keep: bool) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="feedsvc-scale-"))
    try:
        yield folder
    finally:
        if keep:
            print(f"\nkept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    args = parse_args()
    if args.replica:
        serve_replica_process(args.data, args.port, args.feed_size)
        return 0
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if not sizes or min(sizes) < 1:
        raise SystemExit("--sizes: give topic counts of 1 or more, e.g. 10,1000,10000")
    if args.ingest_topics and shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run tests/peers/install.sh (or --ingest-topics 0)")
    # SIGTERM unwinds like Ctrl-C, so every server is stopped and the folder removed (and
    # Ctrl-C works even when started from a shell that left SIGINT ignored)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return bench(args, sizes)
    except BenchError as failed:
        print(f"bench/scale.py: {failed}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench/scale.py: interrupted; servers stopped", file=sys.stderr)
        return 130


def bench(args: argparse.Namespace, sizes: list[int]) -> int:
    feedsvc_cpu, other_cpu = split_cpus()
    if other_cpu is not None:
        os.sched_setaffinity(0, {other_cpu})
    plan = Plan(repeats=1 if args.quick else 3, get_budget=3.0 if args.quick else 8.0,
                get_most=50 if args.quick else 200, timeout=args.timeout,
                feedsvc_cpu=feedsvc_cpu, other_cpu=other_cpu)
    began = time.monotonic()
    pinning = (f"feedsvc on CPU {feedsvc_cpu}; this script, the replica and wrk on CPU {other_cpu}"
               if feedsvc_cpu is not None else "unpinned")
    print(f"bench/scale.py: {os.cpu_count()} CPUs, load average {load_average()} at start; "
          f"{pinning}; Python {sys.version.split()[0]}", flush=True)
    with work_folder(args.keep) as folder, contextlib.ExitStack() as stack:
        document = json.loads(DEFAULT_DATA.read_text("utf-8"))
        extra = ingest_articles(document, args.ingest_articles) if args.ingest_topics else []
        data = folder / "articles.json"
        data.write_text(json.dumps({**document, "articles": document["articles"] + extra},
                                   ensure_ascii=False), "utf-8")
        replica, replica_url = start_replica(data, len(document["articles"]) + len(extra) + 100,
                                             other_cpu, folder)
        stack.callback(replica.stop)
        published = sum(1 for a in document["articles"] if not a.get("held"))
        print(f"replica: {published} articles out, its site feed lists them all; "
              f"{len(extra)} more held for the ingest", flush=True)
        if args.ingest_topics:
            setup = prepare_ingest(args.ingest_topics, folder, replica_url, len(extra), plan)
        rows = [measure_size(count, folder, replica_url, plan) for count in sizes]
        report_sizes(rows)
        report_ratios(rows)
        if args.ingest_topics:
            result = measure_ingest(setup, replica_url, [a["id"] for a in extra], plan, args)
            report_ingest(result, args)
    print(f"\nload average {load_average()} at the end; {time.monotonic() - began:.0f} s in all")
    return 0


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
