"""What /healthz tells whom: the status and its reasons to anyone, the details to operators.

The public form says ``ok`` or ``degraded``, why in words made only of configured
names and counts (``source rt-arabic: the last 3 polls failed``, ``config: the
topics file was rejected``, ``store: ...``, ``changes: ...``), and each source's times
and counts. The full form adds what only operators should see: each source's last
error as feedsvc saw it (upstream URLs, reasons), the store's and the change
channel's errors, the topics file's path and its rejection lines (paths, line
numbers), and the replica's holder id (host and process) with the leases held. It is given to a request with ``Authorization: Bearer <server.health_token>``,
and, when ``server.health_detail_loopback`` is on, to clients on a loopback address
that came through no proxy (a proxy on the same host would make every client look
local; the headers it adds give it away). Even the full form never shows the user
or password of a URL.
"""

from __future__ import annotations

import hmac
import ipaddress
from datetime import datetime
from typing import Any

from aiohttp import web

from feedsvc.config import ServerSettings
from feedsvc.errors import StoreError
from feedsvc.logsetup import redact_userinfo
from feedsvc.models import PollState
from feedsvc.service import Service
from feedsvc.store.leasing import poll_lease

# Headers a proxy adds: a request with one came from somewhere else.
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Real-IP", "Via")
REJECTED = "the topics file was rejected; the last good topics keep serving"
UNREADABLE = "the store cannot be read; the feeds already rendered keep serving"
NOT_LISTENING = "not hearing other replicas' changes; the feeds may lag behind them"


def shows_detail(request: web.Request, server: ServerSettings) -> bool:
    """Does this request get the full /healthz?"""
    if server.health_token:
        offered = request.headers.get("Authorization", "")
        scheme, _, token = offered.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
                token.strip().encode(), server.health_token.encode()):
            return True
    return server.health_detail_loopback and _local(request)


def _local(request: web.Request) -> bool:
    if any(name in request.headers for name in PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.remote or "")
    except ValueError:  # a Unix socket, or unknown
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


async def health_report(service: Service, *, detail: bool) -> dict[str, Any]:
    """The /healthz body: ``status``, ``reasons``, ``sources``, ``config`` (and, in the
    full form, ``replica``: this process's holder id and the leases held)."""
    topics = service.topics
    reasons: list[str] = []
    try:
        in_force = await service.store.leases()
        leases = [{"name": lease.name, "holder": lease.holder,
                   "expires_in": round(lease.expires_in.total_seconds(), 3)}
                  for lease in in_force]
        sources, states = await _sources(service, {lease.name for lease in in_force},
                                         detail=detail)
    except StoreError as exc:  # the rendered feeds are still served: say so, stay 200
        reasons.append(f"store: {_clean(str(exc)) if detail else UNREADABLE}")
        sources, states, leases = [], [], []
    for state in states:
        if state.last_error:
            problem = _clean(state.last_error) if detail else _summary(state)
            reasons.append(f"source {state.source}: {problem}")
    if topics.error:
        reasons.append(f"config: {_clean(topics.error) if detail else REJECTED}")
    if (problem := service.changes.problem) is not None:
        reasons.append(f"changes: {_clean(problem) if detail else NOT_LISTENING}")
    if service.poller_process is not None and service.poller_process.problem:
        reasons.append(f"poller: {service.poller_process.problem}")  # no path, no URL in it
    config: dict[str, Any] = {"loaded_at": _iso(topics.loaded_at), "topics": len(topics.topics)}
    body: dict[str, Any] = {"status": "degraded" if reasons else "ok", "reasons": reasons,
                            "sources": sources, "config": config}
    if detail:
        config |= {"error": _clean(topics.error), "file": _clean(str(topics.path))}
        body["replica"] = {"holder": service.holder, "holding": sorted(service.leases.held),
                           "leases": leases}
        if service.poller_process is not None:
            body["replica"]["poller_pid"] = service.poller_process.pid
    return body


async def _sources(service: Service, leases: set[str], *, detail: bool
                   ) -> tuple[list[dict[str, Any]], list[PollState]]:
    sources, states = [], []
    for source in service.settings.sources:
        state = await service.store.get_poll_state(source.name)
        # polled here, or by whichever process holds its lease (a polling child, a replica)
        polling = service.polling(source.name) or poll_lease(source.name) in leases
        entry: dict[str, Any] = {
            "name": source.name, "last_success_at": _iso(state.last_success_at),
            "consecutive_failures": state.consecutive_failures,
            "next_poll_at": _iso(state.next_poll_at), "polling": polling,
            "articles": await service.store.count_articles(source.name)}
        if detail:
            entry["last_error"] = _clean(state.last_error)
        sources.append(entry)
        states.append(state)
    return sources, states


def _summary(state: PollState) -> str:
    """A source's problem in words of counts only: no URL, no error text."""
    if state.consecutive_failures:
        count = state.consecutive_failures
        return f"the last {count} polls failed" if count > 1 else "the last poll failed"
    return "some feeds or article pages failed in the last poll"


def _clean(text: str | None) -> str | None:
    return redact_userinfo(text) if text else text


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
