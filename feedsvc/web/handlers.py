"""Request handlers: look up what is ready, add headers. Nothing here renders a feed."""

from __future__ import annotations

import functools

import orjson
from aiohttp import web

from feedsvc.errors import BadRequest
from feedsvc.publish import FORMATS, Representation
from feedsvc.publish.representation import encoded
from feedsvc.store import ALL_TOPIC
from feedsvc.web.health import health_report, shows_detail
from feedsvc.web.keys import FEED_COUNTERS, FEEDS, SERVICE, SITE, STREAM
from feedsvc.web.paging import (
    parse_changes_query,
    parse_feed_query,
    parse_page,
    reject_parameters,
)

JSON = "application/json"


async def feed(request: web.Request) -> web.StreamResponse:
    """A topic feed from the cache: a lookup and prepared headers; renders only on a miss."""
    match = request.match_info
    fmt = match["fmt"]
    if fmt not in FORMATS:
        raise BadRequest(f"unknown format {fmt[:20]!r}: use .atom or .json")
    return await _cached(request, match["slug"], fmt)


async def topic_page(request: web.Request) -> web.StreamResponse:
    """A topic's HTML page: cached, paged and revalidated exactly like its feeds."""
    return await _cached(request, request.match_info["slug"], "html")


async def _cached(request: web.Request, slug: str, fmt: str) -> web.StreamResponse:
    """One representation of a topic from the cache, or 304; renders only on a miss."""
    app = request.app
    feeds = app[FEEDS]
    # the fast path: a subscription URL, already rendered
    rendered = None if request.query_string else feeds.first_page(slug, fmt)
    counters = app[FEED_COUNTERS]
    if rendered is None:
        rendered = await _lookup_or_render(request, slug, fmt)
    else:
        counters.hit()
    response = await _send(request, rendered)
    counters.request(slug, fmt, response.status)
    return response


async def _send(request: web.Request, rendered: Representation) -> web.Response:
    """304 when the client's copy is current, else the body in the best encoding it takes
    (made on first request for that encoding)."""
    if _not_modified(request, rendered):
        return web.Response(status=304, headers=rendered.not_modified_headers)
    coding = _encoding(request.headers.get("Accept-Encoding", ""))
    body = rendered.bodies.get(coding)
    if body is None:
        body = await encoded(rendered, coding)
    return web.Response(body=body, headers=rendered.full_headers[coding])


async def _lookup_or_render(request: web.Request, slug: str, fmt: str) -> Representation:
    """Check the topic and the parameters; then the cache, else render."""
    feeds = request.app[FEEDS]
    if not feeds.known(slug):
        if slug in request.app[SERVICE].topics.removed:
            raise web.HTTPGone(text=f"topic {slug!r} was removed")
        raise web.HTTPNotFound(text=f"no topic {slug[:60]!r}; see /api/topics")
    query = parse_feed_query(request.query, default_limit=feeds.default_limit(slug),
                             max_limit=request.app[SERVICE].settings.server.max_feed_size,
                             cursors=feeds.cursors, slug=slug)
    counters = request.app[FEED_COUNTERS]
    if (rendered := feeds.lookup(slug, fmt, query.limit, query.cursor_token)) is not None:
        counters.hit()
        return rendered
    counters.miss()
    return await feeds.get(slug, fmt, query)


async def preflight(request: web.Request) -> web.Response:
    """CORS preflight of the JSON endpoints (a conditional GET from a page needs one)."""
    return web.Response(status=204, headers={
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
        "Access-Control-Allow-Headers": "If-None-Match, If-Modified-Since",
        "Access-Control-Max-Age": "86400",
    })


def _not_modified(request: web.Request, rendered: Representation) -> bool:
    """RFC 9110 section 13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        if if_none_match == rendered.etag:  # the usual case: a reader sends back our ETag
            return True
        # weak comparison, as the RFC asks for If-None-Match (aiohttp parses the list)
        tags = request.if_none_match or ()
        return any(tag.value == "*" or f'"{tag.value}"' == rendered.etag for tag in tags)
    since = request.if_modified_since
    # an HTTP-date is GMT and says so; a date without a zone is not one, and is ignored
    if since is None or not request.headers.get("If-Modified-Since", "").rstrip().endswith("GMT"):
        return False
    return rendered.last_modified.replace(microsecond=0) <= since


@functools.lru_cache(maxsize=256)
def _encoding(accept: str) -> str:
    """br, then gzip, then identity, honouring q=0 refusals (few distinct headers: cached)."""
    offered: dict[str, float] = {}
    for part in accept.lower().split(","):
        name, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        offered[name.strip()] = q
    for name in ("br", "gzip"):
        if offered.get(name, offered.get("*", 0.0)) > 0:
            return name
    return "identity"


async def index(request: web.Request) -> web.StreamResponse:
    """The index page; ``?page=N`` when there are more topics than one page lists."""
    site = request.app[SITE]
    page = parse_page(request.query, pages=site.pages())
    return await _send(request, await site.index(page))


async def opml(request: web.Request) -> web.StreamResponse:
    reject_parameters(request.query)
    return await _send(request, await request.app[SITE].opml())


async def api_topics(request: web.Request) -> web.StreamResponse:
    reject_parameters(request.query)
    return await _send(request, await request.app[SITE].api_topics())


async def api_changes(request: web.Request) -> web.StreamResponse:
    """The change stream of ``all`` or of one ``topic`` after ``since``; 304 while nothing
    new was committed (``feedsvc.publish.changestream``)."""
    service = request.app[SERVICE]
    query = parse_changes_query(request.query, service.settings.changes)
    if query.topic != ALL_TOPIC and not request.app[FEEDS].known(query.topic):
        if query.topic in service.topics.removed:
            raise web.HTTPGone(text=f"topic {query.topic!r} was removed")
        raise web.HTTPNotFound(text=f"no topic {query.topic[:60]!r}; see /api/topics")
    answer = await request.app[STREAM].read(query.topic, query.since, query.limit)
    return await _send(request, answer)


async def healthz(request: web.Request) -> web.Response:
    """Liveness with detail: always 200 while the process serves (see docs/operations.md).

    ``degraded`` names each problem: a source whose last poll failed, or failed to read
    some feeds or article pages, and a rejected topics file; the errors themselves and
    file paths only for operators (``feedsvc.web.health``).
    """
    service = request.app[SERVICE]
    detail = shows_detail(request, service.settings.server)
    body = await health_report(service, detail=detail)
    return web.Response(body=orjson.dumps(body), content_type=JSON,
                        headers={"Cache-Control": "no-store"})


async def readyz(request: web.Request) -> web.Response:
    """Ready once the service answers: the app is only served over an open store and
    compiled topics (``feedsvc.service`` builds both before the server listens)."""
    ready = {"store": True, "topics": True}
    return web.Response(body=orjson.dumps({"ready": True, **ready}), content_type=JSON)


async def metrics(request: web.Request) -> web.Response:
    request.app[FEED_COUNTERS].flush()
    body = request.app[SERVICE].metrics.render()
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
