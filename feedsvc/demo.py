"""``feedsvc demo``: the offline replica of the site and feedsvc polling it, in one process.

A newcomer without internet sees filled topic feeds after the first poll: the replica
serves on ``--replica-port``, feedsvc on ``--port`` with the shipped topics and a
database under ``--data``.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from feedsvc.config import FetchSettings, ServerSettings, Settings, SourceSettings, StorageSettings
from feedsvc.logsetup import configure_logging
from feedsvc.process import run_until_signalled
from feedsvc.replica import ReplicaSite, create_replica_app
from feedsvc.service import open_service
from feedsvc.web.server import http_server, listen

# The example topics ship inside the package, so the demo runs from an installed wheel;
# a checkout's config/topics.toml is a link to this one file (docs/operations.md).
SHIPPED_TOPICS = Path(__file__).resolve().parent / "topics" / "shipped.toml"


def demo_settings(port: int, replica_url: str, data_dir: Path, topics_file: Path) -> Settings:
    source = SourceSettings(
        name="rt-arabic", base_url=replica_url, feeds=("/rss/", "/rss/sport/", "/rss/business/"),
        interval=timedelta(minutes=1), mirror_hosts=(replica_url.replace("127.0.0.1", "localhost"),))
    return Settings(
        config_path=data_dir / "demo.toml", topics_file=topics_file,
        server=ServerSettings(port=port, public_url=f"http://127.0.0.1:{port}"),
        storage=StorageSettings(url="sqlite:///" + str((data_dir / "feedsvc.db").resolve())),
        # The replica is ours: no need to wait a second between pages.
        fetch=replace(FetchSettings(), min_host_delay=0.05),
        sources=(source,),
    )


NEWSROOM_INTERVAL = 180.0  # seconds between two articles the demo's site publishes


def run_demo(*, port: int, replica_port: int, data_dir: Path, topics_file: Path | None = None) -> int:
    configure_logging("INFO", "text")
    topics = topics_file or SHIPPED_TOPICS
    if not topics.exists():
        print(f"{topics}: missing: the demo cannot start without its topics file", file=sys.stderr)
        return 1
    data_dir.mkdir(parents=True, exist_ok=True)
    return run_until_signalled(lambda: _serve(port, replica_port, data_dir, topics))


async def _serve(port: int, replica_port: int, data_dir: Path, topics: Path) -> int:
    replica_url = f"http://127.0.0.1:{replica_port}"
    site = ReplicaSite(base_url=replica_url, time_shift=_to_today(ReplicaSite()))
    sockets = []
    for what, bind_port in (("the replica", replica_port), ("feedsvc", port)):
        try:
            sockets.append(listen("127.0.0.1", bind_port))
        except OSError as exc:
            for sock in sockets:
                sock.close()
            raise OSError(f"cannot listen on 127.0.0.1:{bind_port} for {what}: "
                          f"{exc.strerror or exc}") from exc
    replica_runner = web.AppRunner(create_replica_app(site), access_log=None)
    await replica_runner.setup()
    try:
        await web.SockSite(replica_runner, sockets[0]).start()
        settings = demo_settings(port, replica_url, data_dir, topics)
        async with open_service(settings, freeze=True) as service, http_server(service, sockets[1]):
            print(f"replica of the site: {replica_url}/rss/\n"
                  f"feedsvc:             http://127.0.0.1:{port}/  (Ctrl-C stops both)",
                  file=sys.stderr)
            await _newsroom(site, NEWSROOM_INTERVAL)
            await asyncio.Event().wait()  # every held article is out: serve until a signal
    finally:
        await replica_runner.cleanup()
        for sock in sockets:
            sock.close()
    return 0


def _to_today(site: ReplicaSite) -> timedelta:
    """Whole days that bring the replica's newest published article to the last day."""
    newest = max(a.published for a in site.newest(limit=1))
    return timedelta(days=max((datetime.now(UTC) - newest).days, 0))


async def _newsroom(site: ReplicaSite, interval: float) -> None:
    """The replica publishes its held articles one by one, so the demo shows news arriving."""
    while True:
        await asyncio.sleep(interval)
        article = site.publish_next()
        if article is None:
            return
        print(f"replica published {article.id}: {article.title}", file=sys.stderr)
