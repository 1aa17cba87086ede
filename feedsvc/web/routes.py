"""Routes to handlers; the URL patterns themselves are ``feedsvc.publish.urls``'."""

from __future__ import annotations

from aiohttp import web

from feedsvc.publish import urls
from feedsvc.web import handlers


def add_routes(app: web.Application) -> None:
    app.router.add_routes([
        web.get(urls.INDEX_ROUTE, handlers.index, name="index"),
        web.get(urls.FEED_ROUTE, handlers.feed, name="feed"),
        web.get(urls.OPML_ROUTE, handlers.opml, name="opml"),
        web.get(urls.TOPIC_PAGE_ROUTE, handlers.topic_page, name="topic_page"),
        web.get(urls.API_TOPICS_ROUTE, handlers.api_topics, name="api_topics"),
        web.get(urls.API_CHANGES_ROUTE, handlers.api_changes, name="api_changes"),
        web.get(urls.HEALTH_ROUTE, handlers.healthz, name="healthz"),
        web.get(urls.READY_ROUTE, handlers.readyz, name="readyz"),
        web.get(urls.METRICS_ROUTE, handlers.metrics, name="metrics"),
        web.options(urls.FEED_ROUTE, handlers.preflight, name="feed_cors"),
        web.options(urls.API_TOPICS_ROUTE, handlers.preflight, name="api_topics_cors"),
        web.options(urls.API_CHANGES_ROUTE, handlers.preflight, name="api_changes_cors"),
    ])
