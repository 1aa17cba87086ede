"""The replica's web application: the site's routes, the faults, the control API.

``create_replica_app(site)`` builds it; ``serve_replica(site)`` runs it on a free
loopback port for a test. One middleware applies the armed faults and logs every
request to the site (the control API is neither faulted nor logged).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from aiohttp import web

from feedsvc.replica import control, render
from feedsvc.replica.faults import AFTER_ROUTE, answer_before_route, rewrite_after_route
from feedsvc.replica.site import LoggedRequest, ReplicaSite

SITE_KEY = web.AppKey("replica_site", ReplicaSite)
LOGGED_HEADERS = ("If-None-Match", "If-Modified-Since", "User-Agent", "Accept-Encoding", "Host")
RSS_TYPE = "application/rss+xml"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_replica_app(site: ReplicaSite) -> web.Application:
    app = web.Application(middlewares=[replica_middleware])
    app[SITE_KEY] = site
    app.add_routes(control.routes(SITE_KEY))
    app.add_routes([
        web.get("/robots.txt", robots),
        web.get("/rss", site_rss),
        web.get("/rss/", site_rss),
        web.get(r"/rss/{section:[a-z_]+}{slash:/?}", section_rss),
        web.get("/sitemap.xml", sitemap_index),
        web.get(r"/sitemap/{month:\d{4}-\d{2}}.xml", sitemap_month),
        web.get(r"/listing/trend.{key:[0-9a-f]{24}}/noprepare/trend/10/{page:\d+}", listing),
        # Registered last: "/sitemap/2015-12.xml" would otherwise read as an article.
        web.get(r"/{section:[a-z_]+}/{id:\d+}-{slug:[^/]*}{slash:/?}", article_page),
    ])
    return app


@asynccontextmanager
async def serve_replica(site: ReplicaSite, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve ``site`` on a free port of ``host``; yields the base URL and sets ``site.base_url``."""
    runner = web.AppRunner(create_replica_app(site), shutdown_timeout=0.5, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, 0).start()
        port = runner.addresses[0][1]
        site.base_url = f"http://{host}:{port}"
        yield site.base_url
    finally:
        await runner.cleanup()


# --- the middleware -----------------------------------------------------------------


@web.middleware
async def replica_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/_replica/"):
        return await handler(request)
    site = request.app[SITE_KEY]
    answer = await _answer_with_faults(site, request, handler)
    site.requests.append(LoggedRequest(
        method=request.method,
        path=request.path_qs,
        status=answer.status,
        headers={name: request.headers[name] for name in LOGGED_HEADERS if name in request.headers},
    ))
    return answer


async def _answer_with_faults(
    site: ReplicaSite, request: web.Request, handler: Handler
) -> web.StreamResponse:
    fault = site.faults.match(request.path)
    if fault is not None and fault.kind not in AFTER_ROUTE:
        site.faults.spend(fault)
        mirror = site.mirror_bases[0] if site.mirror_bases else site.base_url
        early = await answer_before_route(fault, request, now=site.clock(), mirror_base=mirror)
        if early is not None:
            return early
    try:
        answer = await handler(request)
    except web.HTTPException as refusal:
        return web.Response(status=refusal.status, text=refusal.text, headers=refusal.headers)
    spoilable = isinstance(answer, web.Response) and answer.status == 200
    if fault is None or fault.kind not in AFTER_ROUTE or not spoilable:
        return answer
    assert isinstance(answer, web.Response)  # narrowed for the type checker
    site.faults.spend(fault)
    return await rewrite_after_route(fault, request, answer)


# --- conditional answers ------------------------------------------------------------


def validated(
    request: web.Request,
    body: bytes,
    content_type: str,
    last_modified: datetime,
    cache_control: str | None = None,
) -> web.Response:
    """A 200 with ETag and Last-Modified, or a 304 when the client already holds it."""
    etag = '"' + hashlib.sha1(body, usedforsecurity=False).hexdigest()[:20] + '"'
    headers = {"ETag": etag, "Last-Modified": format_datetime(last_modified.astimezone(UTC), usegmt=True)}
    if cache_control:
        headers["Cache-Control"] = cache_control
    if _not_modified(request, etag, last_modified):
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, content_type=content_type, charset="utf-8", headers=headers)


def _not_modified(request: web.Request, etag: str, last_modified: datetime) -> bool:
    # If-None-Match wins over If-Modified-Since when both are sent (RFC 9110, 13.2.2).
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        offered = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in offered or etag in offered
    if_modified_since = request.headers.get("If-Modified-Since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and last_modified.replace(microsecond=0) <= since


# --- the site's routes --------------------------------------------------------------


async def robots(request: web.Request) -> web.Response:
    site = request.app[SITE_KEY]
    body = render.render_robots(site.frame, allowed=site.robots_allowed, crawl_delay=site.crawl_delay)
    return web.Response(body=body, content_type="text/plain", charset="utf-8")


async def site_rss(request: web.Request) -> web.Response:
    site = request.app[SITE_KEY]
    body = render.render_rss(site.frame, site.site_feed(), section=None, built_at=site.changed_at)
    return validated(request, body, RSS_TYPE, site.changed_at, "max-age=60")


async def section_rss(request: web.Request) -> web.Response:
    site = request.app[SITE_KEY]
    section = request.match_info["section"]
    if section not in site.sections:
        raise web.HTTPNotFound(text="no such section\n")
    entries = site.section_feed(section)
    body = render.render_rss(site.frame, entries, section=section, built_at=site.changed_at)
    return validated(request, body, RSS_TYPE, site.changed_at, "max-age=60")


async def sitemap_index(request: web.Request) -> web.Response:
    site = request.app[SITE_KEY]
    body = render.render_sitemap_index(site.frame, site.sitemap_months())
    return web.Response(body=body, content_type="application/xml", charset="utf-8")


async def sitemap_month(request: web.Request) -> web.Response:
    site = request.app[SITE_KEY]
    articles = site.sitemap_month(request.match_info["month"])
    if not articles:
        raise web.HTTPNotFound(text="no such sitemap\n")
    body = render.render_sitemap_month(site.frame, articles)
    return web.Response(body=body, content_type="application/xml", charset="utf-8")


async def listing(request: web.Request) -> web.Response:
    site = request.app[SITE_KEY]
    body = render.render_listing(site.listing_page(int(request.match_info["page"])))
    return web.Response(body=body, content_type="text/html", charset="utf-8")


async def article_page(request: web.Request) -> web.Response:
    """Only the id decides: a stale slug or another section still finds the article."""
    site = request.app[SITE_KEY]
    article_id = int(request.match_info["id"])
    article = site.article(article_id)
    if article is None:
        status = site.retraction_status(article_id) or 404
        return web.Response(status=status, text="الصفحة غير موجودة\n", content_type="text/html",
                            charset="utf-8")
    body = render.render_page(site.frame, article, markup=site.markup_for(article_id),
                              read_more=site.read_more(article_id))
    return validated(request, body, "text/html", site.page_last_modified(article))
