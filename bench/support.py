"""What several benchmarks share: generated topic sets, ports, CPU pinning and wrk.

Import it from a script in ``bench/`` (``from support import ...``: running
``python bench/x.py`` puts this folder on ``sys.path``).

*Realistic topics* (``realistic_topics``). Operators build topics from distinctive
terms: names, places, organisations, specific phrases. So terms are drawn from
the corpus's content words (4+ letters, not digits) outside the ``COMMON_WORDS``
most frequent, weighted by inverse document frequency, so that words found in one
article are the likeliest; wildcards are stems of such words (the article ال
removed, 5+ letters). A topic set names entities from all of the news, while the
sample covers a few days, so only ``REALISTIC_SHARE`` of the terms are words of
these articles; the rest are Arabic word forms absent from them. That share is
the one calibrated assumption: it puts a typical article in a handful of
10,000 topics, as real topic sets do. Shapes: OR lists of 2 to 5 names, a phrase
AND a term, a stem wildcard AND an OR list, an OR list with a NOT, title:/tag:
scopes, and some topics with an ``exclude`` or a section filter.
"""

from __future__ import annotations

import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from feedsvc.models import Article  # noqa: E402
from feedsvc.normalize.arabic import tokenize  # noqa: E402
from feedsvc.topics import Topic  # noqa: E402
from tests.topics.topic_articles import replica_articles  # noqa: E402

__all__ = [
    "COMMON_WORDS", "LETTERS", "REALISTIC_SHARE", "ROOT", "VOCABULARY_SIZE", "WrkResult",
    "absent_words", "answers", "article_tokens", "cpu_seconds", "free_port", "pinned",
    "realistic_topics", "replica_articles", "run_wrk", "split_cpus", "stop_process",
]

VOCABULARY_SIZE = 20_000
REALISTIC_SHARE = 0.03
COMMON_WORDS = 300
LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"


# --- topic sets ------------------------------------------------------------------


def article_tokens(article: Article) -> list[str]:
    return tokenize(f"{article.title} {article.summary} {article.content_text}")


def absent_words(rng: random.Random, known: set[str], count: int) -> list[str]:
    """Arabic-letter word forms missing from the corpus: names the sample lacks."""
    others: list[str] = []
    while len(others) < count:
        candidate = "".join(rng.choices(LETTERS, k=rng.randint(4, 8)))
        if candidate not in known:
            others.append(candidate)
    return others


def realistic_topics(count: int, articles: list[Article], share: float = REALISTIC_SHARE,
                     seed: int = 7) -> list[Topic]:
    """Topics built from distinctive terms (see the module docstring)."""
    rng = random.Random(seed)
    documents: Counter[str] = Counter()
    pairs: list[tuple[str, str]] = []
    for article in articles:
        tokens = article_tokens(article)
        documents.update(set(tokens))
        pairs += list(zip(tokens, tokens[1:], strict=False))
    ranked = sorted(documents, key=lambda w: (-documents[w], w))  # no dependence on hash order
    common = set(ranked[:COMMON_WORDS])
    words = sorted(w for w in documents if len(w) >= 4 and not w.isdigit() and w not in common)
    weights = [math.log(len(articles) / documents[w]) for w in words]
    distinct_pairs = [(a, b) for a, b in pairs if not {a, b} & common and min(len(a), len(b)) >= 4]
    others = absent_words(rng, set(documents), VOCABULARY_SIZE)

    def name() -> str:
        return rng.choices(words, weights)[0] if rng.random() < share else rng.choice(others)

    def names(low: int, high: int) -> str:
        return " OR ".join(name() for _ in range(rng.randint(low, high)))

    def phrase() -> str:
        first, second = rng.choice(distinct_pairs) if rng.random() < share else (name(), name())
        return f'"{first} {second}"'

    def stem() -> str:
        word = name()
        word = word[2:] if word.startswith("ال") and len(word) > 6 else word
        return word[: max(5, len(word) - 2)] + "*"

    shapes = [
        lambda: names(2, 5),
        lambda: f"{phrase()} AND {name()}",
        lambda: f"{phrase()} OR {phrase()}",
        lambda: f"{stem()} AND ({names(2, 3)})",
        lambda: f"({names(2, 4)}) NOT {name()}",
        lambda: f"title:({names(1, 3)}) OR tag:{name()}",
        lambda: f"{name()} {name()}",
    ]
    topics = []
    for n in range(count):
        query = rng.choice(shapes)()
        exclude = "section:sport" if rng.random() < 0.1 else None
        sections = ("news", "world") if rng.random() < 0.05 else ()
        topics.append(Topic(f"t{n}", "t", "t", query, exclude, sections))
    return topics


# --- processes: ports, CPUs ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def split_cpus() -> tuple[int | None, int | None]:
    """(server CPU, load generator CPU): 1 and 0 with two or more CPUs and taskset, else unpinned."""
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None:
        return 1, 0
    return None, None


def pinned(argv: list[str], cpu: int | None) -> list[str]:
    """``argv`` run on one CPU (taskset execs it: the process keeps its pid)."""
    return ["taskset", "-c", str(cpu), *argv] if cpu is not None else argv


def answers(url: str, process: subprocess.Popen[bytes], timeout: float) -> bool:
    """Whether ``url`` answered (any status below 400) before ``timeout`` seconds passed,
    asking every 0.1 s; False at once if ``process``, the server, exits meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def stop_process(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM,
                 timeout: float = 15.0) -> None:
    """Send ``sig`` to ``process`` unless it has exited; kill it after ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- wrk -------------------------------------------------------------------------


@dataclass(frozen=True)
class WrkResult:
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx_3xx: int
    socket_errors: int


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def run_wrk(url: str, headers: dict[str, str], seconds: float, connections: int,
            cpu: int | None) -> WrkResult:
    """One wrk run (one thread, ``--latency``) against ``url``, on ``cpu`` when given."""
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "5s"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    done = subprocess.run(pinned([*argv, url], cpu), capture_output=True, text=True,
                          timeout=seconds + 30, check=True)
    return parse_wrk(done.stdout)


def parse_wrk(out: str) -> WrkResult:
    def number(pattern: str) -> str:
        found = re.search(pattern, out, re.M)
        if found is None:
            raise ValueError(f"wrk printed no {pattern!r}:\n{out}")
        return found.group(1)

    def percentile(label: str) -> float:
        found = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\b", out, re.M)
        if found is None:
            raise ValueError(f"wrk printed no {label}% latency:\n{out}")
        return float(found.group(1)) * UNITS[found.group(2)]

    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        requests=int(number(r"(\d+) requests in")),
        requests_per_second=float(number(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=percentile("50"), p99_ms=percentile("99"),
        non_2xx_3xx=int(errors.group(1)) if errors else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )
