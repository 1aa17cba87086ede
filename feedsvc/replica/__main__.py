"""``python -m feedsvc.replica --host 127.0.0.1 --port 8081``: serve the replica until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
from pathlib import Path

from aiohttp import web

from feedsvc.replica.app import create_replica_app
from feedsvc.replica.site import DEFAULT_DATA, ReplicaSite


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m feedsvc.replica",
                                     description="Serve the offline replica of arabic.rt.com.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8081, help="port to listen on")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="articles JSON file")
    args = parser.parse_args(argv)
    site = ReplicaSite(data_path=args.data, base_url=f"http://{args.host}:{args.port}")
    # run_app turns SIGINT and SIGTERM into a clean shutdown.
    web.run_app(create_replica_app(site), host=args.host, port=args.port, shutdown_timeout=2.0,
                print=lambda _: print(f"replica serving {site.base_url}", flush=True))


if __name__ == "__main__":
    main()
