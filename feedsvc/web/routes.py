"""The only file that spells URLs."""

from __future__ import annotations

from aiohttp import web

from feedsvc.web import handlers


def add_routes(app: web.Application) -> None:
    app.router.add_routes([
        web.get("/", handlers.index, name="index"),
        web.get("/feeds/{slug:[^/.]+}.{fmt:[^/]+}", handlers.feed, name="feed"),
        web.get("/topics.opml", handlers.opml, name="opml"),
        web.get("/topics/{slug:[^/.]+}", handlers.topic_page, name="topic_page"),
        web.get("/api/topics", handlers.api_topics, name="api_topics"),
        web.get("/healthz", handlers.healthz, name="healthz"),
        web.get("/readyz", handlers.readyz, name="readyz"),
        web.get("/metrics", handlers.metrics, name="metrics"),
        web.options("/feeds/{slug:[^/.]+}.{fmt:[^/]+}", handlers.preflight, name="feed_cors"),
        web.options("/api/topics", handlers.preflight, name="api_topics_cors"),
    ])
