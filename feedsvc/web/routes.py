"""Paths to handlers, one route a path for every method (``feedsvc.web.dispatch``); the
URL patterns themselves are ``feedsvc.publish.urls``'."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web
from aiohttp.typedefs import Handler

from feedsvc.publish import urls
from feedsvc.web import handlers
from feedsvc.web.connections import ConnectionGuard
from feedsvc.web.dispatch import answering

# by path, the handler of each method; GET answers HEAD too
ROUTES: Mapping[str, Mapping[str, Handler]] = {
    urls.INDEX_ROUTE: {"GET": handlers.index},
    urls.FEED_ROUTE: {"GET": handlers.feed, "OPTIONS": handlers.preflight},
    urls.OPML_ROUTE: {"GET": handlers.opml},
    urls.TOPIC_PAGE_ROUTE: {"GET": handlers.topic_page},
    urls.API_TOPICS_ROUTE: {"GET": handlers.api_topics, "OPTIONS": handlers.preflight},
    urls.API_CHANGES_ROUTE: {"GET": handlers.api_changes, "OPTIONS": handlers.preflight},
    urls.HEALTH_ROUTE: {"GET": handlers.healthz},
    urls.READY_ROUTE: {"GET": handlers.readyz},
    urls.METRICS_ROUTE: {"GET": handlers.metrics},
}
ANY_OTHER_PATH = "/{path:.*}"  # tried last: a 404 in the app's format


def add_routes(app: web.Application, guard: ConnectionGuard | None = None) -> None:
    for path, methods in ROUTES.items():
        app.router.add_route("*", path, answering(methods, guard))
    app.router.add_route("*", ANY_OTHER_PATH, answering({}, guard))
