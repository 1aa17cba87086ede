"""Every request's one frame: the method's handler, the connection guard told, and the
one place exceptions become HTTP responses.

aiohttp runs a chain of middlewares as one coroutine each, and adds one of its own
whenever an app has any; on a cached feed that chain cost about 5 % of the event
loop's time (``docs/benchmarks.md``). So the app has no middleware: each path is one route
for every method, whose handler is made here and does all of it in one frame. A path
that matches no route reaches the last one, which answers 404 in the same format.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from feedsvc.errors import BadRequest, Expired, FeedsvcError
from feedsvc.logsetup import get_log
from feedsvc.web.connections import ConnectionGuard

log = get_log("feedsvc.web")
UNAVAILABLE = "temporarily unavailable; try again in a moment"
RETRY_AFTER_SECONDS = "5"


def answering(methods: Mapping[str, Handler], guard: ConnectionGuard | None) -> Handler:
    """The handler of one path: ``methods`` by HTTP method (GET answers HEAD too);
    other methods get 405 with ``Allow``, and a path with no method is not found. The
    ``guard`` (``http_server``'s) marks the request's connection busy meanwhile."""
    table = dict(methods)
    if "GET" in table:
        table.setdefault("HEAD", table["GET"])
    allowed = frozenset(table)

    async def answer(request: web.Request) -> web.StreamResponse:
        connection = guard.begin(request) if guard is not None else None
        try:
            handler = table.get(request.method)
            if handler is None:
                if not allowed:
                    raise web.HTTPNotFound()
                raise web.HTTPMethodNotAllowed(request.method, allowed)
            return await handler(request)
        except BadRequest as exc:
            return error_response(request, 400, str(exc))
        except Expired as exc:
            return error_response(request, 410, str(exc))
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = error_response(request, exc.status, exc.text or exc.reason)
            if allow := exc.headers.get("Allow"):
                response.headers["Allow"] = allow  # 405 must say what is allowed
            return response
        except FeedsvcError as exc:  # the store failed: what and where is for the log only
            log.error("request.failed", path=request.path, error=str(exc))
            response = error_response(request, 503, UNAVAILABLE)
            response.headers["Retry-After"] = RETRY_AFTER_SECONDS
            return response
        except Exception as exc:
            log.error("request.crashed", path=request.path, error=repr(exc), exc_info=exc)
            return error_response(request, 500, "internal error")
        finally:
            if guard is not None and connection is not None:
                guard.end(connection)

    return answer


def error_response(request: web.Request, status: int, message: str) -> web.Response:
    """An error in the format the client asked for: JSON for JSON endpoints, else text."""
    wants_json = request.path.endswith(".json") or request.path.startswith("/api/")
    if wants_json:
        body = orjson.dumps({"error": {"status": status, "message": message}})
        return web.Response(status=status, body=body, content_type="application/json",
                            headers={"Access-Control-Allow-Origin": "*"})
    return web.Response(status=status, text=message + "\n", content_type="text/plain",
                        charset="utf-8")
