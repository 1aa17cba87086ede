"""The ``feedsvc`` command: serve, poll, schedule, check-config, topics test/try/diff, demo,
migrate.

Each command runs under ``feedsvc.process.run_until_signalled``: a failed start is
one line and status 1, a signal at any moment a clean exit with status 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from feedsvc.config import Settings, default_config_path, load_settings
from feedsvc.errors import ConfigError, StoreError
from feedsvc.logsetup import configure_logging, get_log
from feedsvc.process import run_until_signalled

log = get_log("feedsvc.cli")

if TYPE_CHECKING:
    from feedsvc.store import Store


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "demo":
        from feedsvc.demo import run_demo
        return run_demo(port=args.port, replica_port=args.replica_port, data_dir=Path(args.data))
    if args.command == "migrate":
        return run_until_signalled(lambda: _migrate(args.source, args.target, args.batch_size))
    try:
        settings = load_settings(Path(args.config) if args.config else default_config_path())
        if args.command == "check-config":
            return _check_config(settings)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    configure_logging(settings.logging.level, settings.logging.format)
    if args.command == "serve":
        return run_until_signalled(lambda: _serve(settings))
    if args.command == "poll":
        return run_until_signalled(lambda: _poll(settings))
    if args.command == "schedule" and args.child:
        from feedsvc.scheduler.process import lower_priority
        lower_priority(settings.scheduler.poller_nice)  # before any thread: each inherits it
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops it, with SIGTERM
        return run_until_signalled(lambda: _schedule(settings, child=True), (signal.SIGTERM,))
    if args.command == "schedule":
        return run_until_signalled(lambda: _schedule(settings, child=False))
    if args.command == "topics" and args.action == "try":
        now = args.now or datetime.now(UTC)
        return run_until_signalled(
            lambda: _topics_try(settings, args.query, args.exclude, args.limit, now))
    if args.command == "topics" and args.action == "diff":
        return run_until_signalled(lambda: _topics_diff(settings, Path(args.file)))
    if args.command == "topics":
        return run_until_signalled(lambda: _topics_test(settings, args.slug, args.limit))
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedsvc", description=__doc__.split("\n", 1)[0])
    commands = parser.add_subparsers(dest="command")
    for name, help_text in (("serve", "run the scheduler and the web server"),
                            ("poll", "poll every source once and exit"),
                            ("schedule", "poll every source on its schedule, serving nothing"),
                            ("check-config", "validate settings and topics")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--config", help="settings file (default: $FEEDSVC_CONFIG or "
                             "config/feedsvc.toml)")
        if name == "schedule":
            command.add_argument(
                "--child", action="store_true",
                help="run as the polling process of feedsvc serve (scheduler.poller_process): "
                "at nice scheduler.poller_nice, exit when standard input closes, write "
                "changed topics to standard output")
    topics = commands.add_parser("topics", help="topic tools").add_subparsers(
        dest="action", required=True)
    test = topics.add_parser("test", help="which stored articles a topic matches, and why")
    test.add_argument("slug")
    test.add_argument("--limit", type=int, default=50, help="matches listed at most")
    tried = topics.add_parser("try", help="run a query that is not saved against the stored articles")
    tried.add_argument("query", help="a query in the topic query language (docs/topics.md)")
    tried.add_argument("--exclude", help="a query; articles matching it are left out")
    tried.add_argument("--now", type=_utc_time, help="ISO 8601 time the last 14 days end at "
                       "(default: the current time; without an offset, UTC)")
    tried.add_argument("--limit", type=_count, default=50, help="matches listed at most")
    diff = topics.add_parser("diff", help="what a candidate topics file would change in each feed")
    diff.add_argument("file", help="the candidate topics file")
    for action in (test, tried, diff):
        action.add_argument("--config", help="settings file (default: $FEEDSVC_CONFIG or "
                            "config/feedsvc.toml)")
    demo = commands.add_parser("demo", help="serve the offline replica and feedsvc polling it")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--replica-port", type=int, default=8081)
    demo.add_argument("--data", default="data/demo", help="folder for the demo's database")
    migrate = commands.add_parser(
        "migrate", help="copy an SQLite store into PostgreSQL (idempotent; resumes after a kill)")
    migrate.add_argument("--from", dest="source", required=True, metavar="URL",
                         help="the SQLite store: sqlite:///path/to/feedsvc.db")
    migrate.add_argument("--to", dest="target", metavar="URL",
                         default=os.environ.get("FEEDSVC_STORAGE_URL"),
                         help="the PostgreSQL store: postgresql://user@host/db "
                         "(default: $FEEDSVC_STORAGE_URL, which keeps a password off the "
                         "command line)")
    migrate.add_argument("--batch-size", type=_positive, default=500,
                         help="rows copied per transaction (default 500)")
    return parser


def _check_config(settings: Settings) -> int:
    from feedsvc.topics import load_topics
    try:
        topics = load_topics(settings.topics_file, settings.topics)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    print(f"{settings.config_path}: ok, {len(settings.sources)} source(s); "
          f"{settings.topics_file}: ok, {len(topics)} topic(s)")
    return 0


async def _serve(settings: Settings) -> int:
    from feedsvc.service import open_service
    from feedsvc.web.server import http_server, listen

    server = settings.server
    try:
        sock = listen(server.host, server.port)
    except OSError as exc:
        raise OSError(f"cannot listen on {server.host}:{server.port}: "
                      f"{exc.strerror or exc}") from exc
    with sock:
        async with open_service(settings, freeze=True) as service, http_server(service, sock):
            log.info("serve.ready", url=f"http://{server.host}:{server.port}/",
                     public_url=server.public_url)
            await asyncio.Event().wait()  # until a signal cancels
    return 0


async def _poll(settings: Settings) -> int:
    from feedsvc.service import open_service

    failed = 0
    async with open_service(settings, serving=False, scheduling=False, freeze=True) as service:
        for source in settings.sources:
            report = await service.poller.poll(source)
            failed += report.failed
    return 1 if failed == len(settings.sources) else 0


async def _schedule(settings: Settings, *, child: bool) -> int:
    from feedsvc.service import open_service

    async with open_service(settings, serving=False, freeze=True, child=child) as service:
        log.info("schedule.ready", sources=len(settings.sources), child=child,
                 nice=os.getpriority(os.PRIO_PROCESS, 0))
        if child:
            from feedsvc.scheduler.process import MetricsToServer
            async with MetricsToServer(service.metrics).running():
                await _until_input_closes()
            log.info("schedule.server_gone")  # stopped or died: polls in flight finish first
        else:
            await asyncio.Event().wait()  # until a signal cancels
    return 0


async def _until_input_closes() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.read(4096):
        pass


async def _topics_test(settings: Settings, slug: str, limit: int) -> int:
    from feedsvc.topics import compile_topics, load_topics
    topics = {t.slug: t for t in load_topics(settings.topics_file, settings.topics)}
    if slug not in topics:
        print(f"no topic {slug!r} in {settings.topics_file}", file=sys.stderr)
        return 1
    index = compile_topics((topics[slug],))
    store = await _open_existing_store(settings)
    shown = 0
    try:
        async for article in store.iter_articles():
            if slug in index.match(article) and shown < limit:
                shown += 1
                terms = ", ".join(index.explain(slug, article))
                print(f"{article.published:%Y-%m-%d %H:%M}  {article.id}  {article.title}\n"
                      f"    matched: {terms}")
    finally:
        await store.close()
    print(f"{shown} article(s) match {slug!r}")
    return 0


async def _topics_try(settings: Settings, query: str, exclude: str | None, limit: int,
                      now: datetime) -> int:
    from feedsvc.preview import run_trial
    from feedsvc.topics.preview import adhoc_topic, trial_lines
    try:
        topic = adhoc_topic(query, exclude)
        store = await _open_existing_store(settings)
    except (ConfigError, StoreError) as exc:
        return _failed(exc)
    try:
        result = await run_trial(store, topic, now=now, limit=limit)
    except StoreError as exc:
        return _failed(exc)
    finally:
        await store.close()
    return _print_lines(trial_lines(result))


async def _topics_diff(settings: Settings, candidate_file: Path) -> int:
    from feedsvc.preview import run_diff
    from feedsvc.topics import load_topics
    from feedsvc.topics.preview import diff_lines, plan_changes
    try:
        plan = plan_changes(load_topics(settings.topics_file, settings.topics),
                            load_topics(candidate_file, settings.topics))
        store = await _open_existing_store(settings)
    except (ConfigError, StoreError) as exc:
        return _failed(exc)
    try:
        diff = await run_diff(store, plan)
    except StoreError as exc:
        return _failed(exc)
    finally:
        await store.close()
    return _print_lines(diff_lines(diff))


async def _open_existing_store(settings: Settings) -> Store:
    """The store of ``settings``, opened; a preview never creates a database."""
    from feedsvc.store import SQLiteStore, store_for_url
    store = store_for_url(settings.storage.url)
    if isinstance(store, SQLiteStore) and not store.path.is_file():
        raise StoreError(f"no database at {store.path} (storage.url): poll first, or pass --config")
    await store.open()
    return store


def _print_lines(lines: list[str]) -> int:
    try:
        print("\n".join(lines), flush=True)
    except BrokenPipeError:  # the reader (head, less) had enough: no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _failed(exc: ConfigError | StoreError) -> int:
    for problem in exc.problems if isinstance(exc, ConfigError) else [str(exc)]:
        print(problem, file=sys.stderr)
    return 1


async def _migrate(source: str, target: str | None, batch_size: int) -> int:
    from feedsvc.store.transfer import copy_store
    try:
        if not target:
            raise ConfigError("--to: name the PostgreSQL store (or set FEEDSVC_STORAGE_URL)")
        await copy_store(source, target, batch_size=batch_size,
                         say=lambda line: print(line, flush=True))
    except (ConfigError, StoreError) as exc:
        print(f"feedsvc migrate: {exc}", file=sys.stderr)
        return 1
    except asyncio.CancelledError:  # a signal: what was copied is kept and noted
        print("feedsvc migrate: interrupted; run it again to resume", file=sys.stderr)
        return 1
    return 0


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number, 1 or more")
    return int(text)


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number, 0 or more")
    return int(text)


def _utc_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time, e.g. "
                                         "2026-11-29T09:00:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

