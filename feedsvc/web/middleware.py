"""The one place exceptions become HTTP responses."""

from __future__ import annotations

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

from feedsvc.errors import BadRequest, Expired, FeedsvcError
from feedsvc.logsetup import get_log

log = get_log("feedsvc.web")
UNAVAILABLE = "temporarily unavailable; try again in a moment"
RETRY_AFTER_SECONDS = "5"


def error_response(request: web.Request, status: int, message: str) -> web.Response:
    """An error in the format the client asked for: JSON for JSON endpoints, else text."""
    wants_json = request.path.endswith(".json") or request.path.startswith("/api/")
    if wants_json:
        body = orjson.dumps({"error": {"status": status, "message": message}})
        return web.Response(status=status, body=body, content_type="application/json",
                            headers={"Access-Control-Allow-Origin": "*"})
    return web.Response(status=status, text=message + "\n", content_type="text/plain",
                        charset="utf-8")


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
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
