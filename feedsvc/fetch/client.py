"""The fetcher: the one place feedsvc makes HTTP requests.

``Fetcher.get`` performs a conditional GET of one URL and returns a ``FetchResult``.
Every hop of a redirect chain is followed by hand and checked again: allow-list,
robots.txt, the host's pacing and cool-down. Errors are the fetch subtree of
``feedsvc.errors``; aiohttp, asyncio and socket errors are wrapped once, here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol, Self

import aiohttp
from aiohttp.abc import AbstractResolver
from multidict import CIMultiDictProxy
from yarl import URL

from feedsvc.errors import (
    BodyTooLarge,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    NotAllowed,
    TooManyRedirects,
)
from feedsvc.fetch.body import read_limited
from feedsvc.fetch.headers import content_type, fresh_until, parse_retry_after
from feedsvc.fetch.hosts import GuardedResolver, HostGate, host_key
from feedsvc.fetch.pacing import Clock, HostPacer, Sleep
from feedsvc.fetch.policy import FetchPolicy
from feedsvc.fetch.robots import RobotsCache
from feedsvc.models import FetchResult

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_KEEP_METHOD = frozenset({307, 308})  # redirects that repeat a POST as a POST
_COOL_DOWN = frozenset({429, 503})


def utc_now() -> datetime:
    return datetime.now(UTC)


class FetchObserver(Protocol):
    """Told about every exchange that went to the network (each redirect hop, robots.txt).

    ``on_response``: an answer arrived (any status, 304 and 429 included); ``on_error``:
    none did, or its body was refused. ``kind`` is one of ``timeout``, ``too_large``,
    ``incomplete``, ``not_allowed`` (a resolved address was refused) or ``network``.
    ``seconds`` is the time from sending the request to the end of the body or the error.
    ``on_cool_down``: the host may not be asked again before ``until``.
    """

    def on_response(self, host: str, status: int, seconds: float) -> None: ...

    def on_error(self, host: str, kind: str, seconds: float) -> None: ...

    def on_cool_down(self, host: str, until: datetime) -> None: ...


@dataclass(frozen=True, slots=True)
class _Request:
    url: str  # the URL asked for; errors name it, whatever hop they happen on
    headers: dict[str, str]
    method: str = "GET"
    form: dict[str, str] | None = None


@dataclass(frozen=True, slots=True)
class _Reply:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes


class Fetcher:
    """Owns one ``aiohttp.ClientSession``; use as ``async with Fetcher(policy) as fetcher``.

    ``clock`` and ``sleep`` are the only sources of time for pacing, Retry-After and
    freshness; ``resolver`` replaces the system DNS look-up (its answers are still
    checked against the policy); ``observer`` hears of every exchange (for metrics).
    """

    def __init__(
        self,
        policy: FetchPolicy,
        *,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        resolver: AbstractResolver | None = None,
        observer: FetchObserver | None = None,
    ) -> None:
        self._policy = policy
        self._observer = observer
        self._clock = clock
        self._gate = HostGate(policy)
        self._resolver = GuardedResolver(self._gate, resolver)
        self._pacer = HostPacer(
            concurrency=policy.per_host_concurrency,
            min_delay=policy.min_host_delay,
            clock=clock,
            sleep=sleep,
        )
        self._robots = RobotsCache(self._fetch_robots, ttl=policy.robots_ttl, clock=clock)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        connector = aiohttp.TCPConnector(resolver=self._resolver)
        self._session = aiohttp.ClientSession(
            connector=connector,
            headers={"User-Agent": self._policy.user_agent_header},
            cookie_jar=aiohttp.DummyCookieJar(),  # feeds need no state; keep requests alike
            timeout=aiohttp.ClientTimeout(
                total=self._policy.total_timeout,
                sock_connect=self._policy.connect_timeout,
                sock_read=self._policy.read_timeout,
            ),
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
    ) -> FetchResult:
        """GET ``url``, conditionally when validators are given.

        Returns a result with status 2xx and the body, or 304 with an empty body.
        Raises HTTPStatusError (4xx/5xx, with ``retry_after`` for 429/503), NotAllowed,
        TooManyRedirects, BodyTooLarge, FetchTimeout or FetchError.
        """
        headers = {"Accept": accept or "*/*"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        result = await self._follow(_Request(url, headers), obey_robots=self._policy.respect_robots)
        if result.status == 304:
            etag = result.etag or etag
            last_modified = result.last_modified or last_modified
            return _replace_validators(result, etag, last_modified)
        return result

    async def post_form(self, url: str, form: Mapping[str, str]) -> FetchResult:
        """POST a form (a WebSub ping) under the same allow-list, pacing and limits as
        every GET; robots.txt does not apply to an API the operator configured.

        A 307/308 is followed (the form sent again) only to another allowed host; a
        301/302/303 would turn the request into a GET, so it is not followed.
        Raises as ``get`` does; a 3xx that is not followed is an ``HTTPStatusError``.
        """
        request = _Request(url, {"Accept": "*/*"}, method="POST", form=dict(form))
        return await self._follow(request, obey_robots=False)

    async def _fetch_robots(self, url: str) -> FetchResult:
        return await self._follow(_Request(url, {"Accept": "text/plain, */*"}), obey_robots=False)

    async def _follow(self, request: _Request, *, obey_robots: bool) -> FetchResult:
        url = request.url
        current, seen = url, {url}
        for _hop in range(self._policy.max_redirects + 1):
            reply = await self._hop(request, current, obey_robots=obey_robots)
            target = _redirect_target(request, current, reply)
            if target is None:
                return self._result(url, current, reply)
            if target in seen:
                raise TooManyRedirects(url, f"redirect loop back to {target}")
            seen.add(target)
            current = target
        raise TooManyRedirects(url, f"more than {self._policy.max_redirects} redirects")

    async def _hop(self, request: _Request, current: str, *, obey_robots: bool) -> _Reply:
        url = request.url
        target = self._check_hop(url, current)
        host = host_key(target)
        # Before robots.txt: a robots.txt request refused by the cool-down would
        # otherwise count as "unreachable" and disallow the host for longer.
        self._pacer.refuse_if_cooling(host, url)
        if obey_robots:
            await self._check_robots(url, target)
        async with self._pacer.slot(host, url):
            reply = await self._exchange(request, target)
        if reply.status in _COOL_DOWN:
            self._refuse_with_retry_after(url, host, reply)
        return reply

    def _check_hop(self, url: str, current: str) -> URL:
        try:
            return self._gate.check_url(current)
        except NotAllowed as exc:
            if current == url:
                raise
            raise NotAllowed(url, f"redirect to {current}: {exc.reason}") from exc

    async def _check_robots(self, url: str, target: URL) -> None:
        rules = await self._robots.rules_for(target)
        self._pacer.set_crawl_delay(host_key(target), rules.crawl_delay(self._policy.user_agent))
        if not rules.allows(str(target), self._policy.user_agent):
            if rules.problem is not None:
                raise NotAllowed(url, f"robots.txt could not be read ({rules.problem}); "
                                      "nothing is fetched from this site until it can")
            raise NotAllowed(url, f"{target.path_qs} disallowed by robots.txt")

    async def _exchange(self, request: _Request, target: URL) -> _Reply:
        if self._observer is None:
            return await self._request(request, target)
        started = time.perf_counter()  # a duration, not a moment: no need for the clock
        try:
            reply = await self._request(request, target)
        except FetchError as exc:
            self._observer.on_error(host_key(target), _error_kind(exc), time.perf_counter() - started)
            raise
        self._observer.on_response(host_key(target), reply.status, time.perf_counter() - started)
        return reply

    async def _request(self, request: _Request, target: URL) -> _Reply:
        session = self._require_session()
        url = request.url
        try:
            async with session.request(request.method, target, headers=request.headers,
                                       data=request.form, allow_redirects=False) as response:
                body = b""
                if 200 <= response.status < 300:
                    body = await read_limited(response, self._policy.max_body_size, url)
                return _Reply(response.status, response.headers, body)
        except FetchError as exc:
            if isinstance(exc, NotAllowed) and exc.url != url:  # raised by the resolver
                raise NotAllowed(url, exc.reason) from exc
            raise
        except TimeoutError as exc:
            raise FetchTimeout(url, f"timed out talking to {target.host}") from exc
        except aiohttp.ClientPayloadError as exc:
            raise FetchError(url, f"incomplete body: {exc}") from exc
        except (aiohttp.ClientError, OSError, ValueError) as exc:  # ValueError: bad header values
            raise FetchError(url, f"{type(exc).__name__}: {exc}") from exc

    def _refuse_with_retry_after(self, url: str, host: str, reply: _Reply) -> None:
        """Raise for a 429/503, cooling the host down until its Retry-After."""
        until = parse_retry_after(reply.headers.get("Retry-After"), now=self._clock(),
                                  cap=self._policy.max_retry_after)
        if until is not None:
            ends = self._pacer.cool_down(host, until, reply.status)
            if self._observer is not None:
                self._observer.on_cool_down(host, ends)
        raise HTTPStatusError(url, reply.status, retry_after=until)

    def _result(self, url: str, final_url: str, reply: _Reply) -> FetchResult:
        if not (200 <= reply.status < 300 or reply.status == 304):
            raise HTTPStatusError(url, reply.status)
        now = self._clock()
        media_type, charset = content_type(reply.headers.get("Content-Type"))
        return FetchResult(
            url=url,
            final_url=final_url,
            status=reply.status,
            body=reply.body,
            fetched_at=now,
            content_type=media_type,
            charset=charset,
            etag=reply.headers.get("ETag"),
            last_modified=reply.headers.get("Last-Modified"),
            fresh_until=fresh_until(reply.headers, now=now),
        )

    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("use Fetcher as 'async with Fetcher(policy) as fetcher'")
        return self._session


def _redirect_target(request: _Request, current: str, reply: _Reply) -> str | None:
    url = request.url
    if reply.status not in _REDIRECTS:
        return None
    location = reply.headers.get("Location")
    if not location:
        return None
    if request.method != "GET" and reply.status not in _KEEP_METHOD:
        raise HTTPStatusError(url, reply.status)
    try:
        return str(URL(current).join(URL(location)).with_fragment(None))
    except ValueError as exc:
        raise FetchError(url, f"unreadable redirect Location {location!r}") from exc


def _error_kind(exc: FetchError) -> str:
    if isinstance(exc, FetchTimeout):
        return "timeout"
    if isinstance(exc, BodyTooLarge):
        return "too_large"
    if isinstance(exc, NotAllowed):
        return "not_allowed"
    if isinstance(exc.__cause__, aiohttp.ClientPayloadError):
        return "incomplete"
    return "network"


def _replace_validators(result: FetchResult, etag: str | None, modified: str | None) -> FetchResult:
    return replace(result, etag=etag, last_modified=modified)
