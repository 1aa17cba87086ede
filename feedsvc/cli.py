"""The ``feedsvc`` command: serve, poll, check-config, topics test, demo."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from feedsvc.config import Settings, default_config_path, load_settings
from feedsvc.errors import ConfigError
from feedsvc.logsetup import configure_logging


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "demo":
        from feedsvc.demo import run_demo
        return run_demo(port=args.port, replica_port=args.replica_port, data_dir=Path(args.data))
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
        return _serve(settings)
    if args.command == "poll":
        return asyncio.run(_poll(settings))
    if args.command == "topics":
        return asyncio.run(_topics_test(settings, args.slug, args.limit))
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feedsvc", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    for name, help_text in (("serve", "run the scheduler and the web server"),
                            ("poll", "poll every source once and exit"),
                            ("check-config", "validate settings and topics")):
        command = commands.add_parser(name, help=help_text)
        command.add_argument("--config", help="settings file (default: $FEEDSVC_CONFIG or "
                             "config/feedsvc.toml)")
    topics = commands.add_parser("topics", help="topic tools")
    topics.add_argument("action", choices=["test"])
    topics.add_argument("slug")
    topics.add_argument("--config")
    topics.add_argument("--limit", type=int, default=50, help="matches listed at most")
    demo = commands.add_parser("demo", help="serve the offline replica and feedsvc polling it")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--replica-port", type=int, default=8081)
    demo.add_argument("--data", default="data/demo", help="folder for the demo's database")
    return parser


def _check_config(settings: Settings) -> int:
    from feedsvc.topics import load_topics
    try:
        topics = load_topics(settings.topics_file)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    print(f"{settings.config_path}: ok, {len(settings.sources)} source(s); "
          f"{settings.topics_file}: ok, {len(topics)} topic(s)")
    return 0


def _serve(settings: Settings) -> int:
    from aiohttp import web

    from feedsvc.web.app import create_app
    app = create_app(settings)
    web.run_app(app, host=settings.server.host, port=settings.server.port,
                print=lambda msg: print(msg, file=sys.stderr), access_log=None,
                shutdown_timeout=15)
    return 0


async def _poll(settings: Settings) -> int:
    from feedsvc.web.app import create_app
    from feedsvc.web.keys import POLLER
    app = create_app(settings, run_scheduler=False)
    failed = 0
    async with _running(app):
        for source in settings.sources:
            report = await app[POLLER].poll(source)
            failed += report.failed
    return 1 if failed == len(settings.sources) else 0


async def _topics_test(settings: Settings, slug: str, limit: int) -> int:
    from feedsvc.store import store_for_url
    from feedsvc.topics import compile_topics, load_topics
    topics = {t.slug: t for t in load_topics(settings.topics_file)}
    if slug not in topics:
        print(f"no topic {slug!r} in {settings.topics_file}", file=sys.stderr)
        return 1
    index = compile_topics((topics[slug],))
    store = store_for_url(settings.storage.url)
    await store.open()
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


class _running:
    """Run an app's cleanup contexts without serving HTTP (for one-shot commands)."""

    def __init__(self, app: object) -> None:
        from aiohttp import web
        assert isinstance(app, web.Application)
        self.runner = web.AppRunner(app)

    async def __aenter__(self) -> None:
        await self.runner.setup()

    async def __aexit__(self, *exc: object) -> None:
        await self.runner.cleanup()
