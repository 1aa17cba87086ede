"""The JSON control API under ``/_replica/``: the site's switches, for tests in other processes.

Every switch is a POST with a JSON object body (or none) and answers JSON::

    POST /_replica/publish        {"id": 1512358}
    POST /_replica/publish_next   {}                      -> {"id": ... or null}
    POST /_replica/edit           {"id", "title"?, "lead"?, "paragraphs"?, "modified"? ISO 8601,
                                   "declare_modified"?: bool (false: the page says no
                                   modified time, as older templates)}
    POST /_replica/retract        {"id", "status"?: 404|410}
    POST /_replica/markup         {"jsonld": bool, "opengraph": bool, "id"?: one article}
    POST /_replica/robots         {"allowed": bool, "crawl_delay": seconds or null}
    POST /_replica/inject         {"fault", "path_glob"?, "times"?, ...params}
    POST /_replica/clear_faults   {}
    POST /_replica/clear_requests {}
    POST /_replica/reset          {}
    GET  /_replica/requests       the request log
    GET  /_replica/faults         the armed faults
    GET  /_replica/truth/{id}     the expected extraction of one article

An unknown id answers 404, a bad value 400, each with {"error": reason}.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from aiohttp import web

from feedsvc.replica.site import ReplicaSite, UnknownArticle

Switch = Callable[[ReplicaSite, dict[str, Any]], object]


def _publish(site: ReplicaSite, args: dict[str, Any]) -> object:
    return {"id": site.publish(int(args["id"])).id}


def _publish_next(site: ReplicaSite, args: dict[str, Any]) -> object:
    article = site.publish_next()
    return {"id": article.id if article else None}


def _edit(site: ReplicaSite, args: dict[str, Any]) -> object:
    modified = datetime.fromisoformat(args["modified"]) if args.get("modified") else None
    declare = args.get("declare_modified", True)
    if not isinstance(declare, bool):
        raise ValueError(f"declare_modified must be true or false, not {declare!r}")
    article = site.edit(int(args["id"]), title=args.get("title"), lead=args.get("lead"),
                        paragraphs=args.get("paragraphs"), modified=modified,
                        declare_modified=declare)
    return {"id": article.id, "modified": article.modified.isoformat()}


def _retract(site: ReplicaSite, args: dict[str, Any]) -> object:
    site.retract(int(args["id"]), status=int(args.get("status", 404)))
    return {"id": int(args["id"])}


def _markup(site: ReplicaSite, args: dict[str, Any]) -> object:
    article_id = int(args["id"]) if args.get("id") is not None else None
    site.set_markup(jsonld=bool(args.get("jsonld", True)),
                    opengraph=bool(args.get("opengraph", True)), article_id=article_id)
    return {}


def _robots(site: ReplicaSite, args: dict[str, Any]) -> object:
    delay = args.get("crawl_delay", 1.0)
    site.set_robots(bool(args.get("allowed", True)), None if delay is None else float(delay))
    return {}


def _inject(site: ReplicaSite, args: dict[str, Any]) -> object:
    params = {k: v for k, v in args.items() if k not in ("fault", "path_glob", "times")}
    times = int(args["times"]) if args.get("times") is not None else None
    return site.inject(str(args["fault"]), str(args.get("path_glob", "*")), times,
                       **params).describe()


SWITCHES: dict[str, Switch] = {
    "publish": _publish,
    "publish_next": _publish_next,
    "edit": _edit,
    "retract": _retract,
    "markup": _markup,
    "robots": _robots,
    "inject": _inject,
    "clear_faults": lambda site, _: site.clear_faults(),
    "clear_requests": lambda site, _: site.requests.clear(),
    "reset": lambda site, _: site.reset(),
}


def routes(site_key: web.AppKey[ReplicaSite]) -> list[web.RouteDef]:
    """The control routes, reading the site from ``request.app[site_key]``."""

    async def switch(request: web.Request) -> web.Response:
        name = request.match_info["switch"]
        if name not in SWITCHES:
            return _error(404, f"no switch {name!r}")
        try:
            args = await request.json() if request.can_read_body else {}
        except json.JSONDecodeError as invalid:
            return _error(400, f"the body is not JSON: {invalid}")
        if not isinstance(args, dict):
            return _error(400, "the body must be a JSON object")
        return _run(lambda: SWITCHES[name](request.app[site_key], args))

    async def request_log(request: web.Request) -> web.Response:
        logged = request.app[site_key].requests
        return web.json_response([
            {"method": r.method, "path": r.path, "status": r.status, "headers": dict(r.headers)}
            for r in logged
        ])

    async def faults(request: web.Request) -> web.Response:
        return web.json_response(request.app[site_key].faults.describe())

    async def truth(request: web.Request) -> web.Response:
        site = request.app[site_key]
        return _run(lambda: site.ground_truth(int(request.match_info["id"])))

    return [
        web.post("/_replica/{switch}", switch),
        web.get("/_replica/requests", request_log),
        web.get("/_replica/faults", faults),
        web.get(r"/_replica/truth/{id:\d+}", truth),
    ]


def _run(action: Callable[[], object]) -> web.Response:
    try:
        outcome = action()
    except UnknownArticle as unknown:
        return _error(404, str(unknown.args[0]))
    except KeyError as missing:
        return _error(400, f"missing field {missing.args[0]!r}")
    except (TypeError, ValueError) as invalid:
        return _error(400, str(invalid))
    return web.json_response(outcome if outcome is not None else {})


def _error(status: int, reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=status)

