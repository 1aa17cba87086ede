"""The web app over an already built service: routes and the per-request counters.
Building the service is ``feedsvc.service``'s job."""

from __future__ import annotations

from aiohttp import web

from feedsvc.service import Service
from feedsvc.web.connections import ConnectionGuard
from feedsvc.web.counters import FeedCounters
from feedsvc.web.keys import FEED_COUNTERS, FEEDS, SERVICE, SITE, STREAM
from feedsvc.web.routes import add_routes


def create_app(service: Service, guard: ConnectionGuard | None = None) -> web.Application:
    """The aiohttp application serving ``service`` (opened with ``serving=True``);
    ``guard`` (``http_server``'s) marks each request's connection busy."""
    if service.feeds is None or service.site is None or service.stream is None:
        raise ValueError("the web app serves a service opened with serving=True")
    app = web.Application()  # no middleware: see feedsvc.web.dispatch
    app[SERVICE] = service
    app[FEEDS] = service.feeds
    app[SITE] = service.site
    app[STREAM] = service.stream
    app[FEED_COUNTERS] = FeedCounters(service.metrics)
    add_routes(app, guard)
    return app
