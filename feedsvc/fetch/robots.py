"""robots.txt: fetched once per origin, cached with its own expiry, read with protego.

What a robots.txt fetch outcome means (RFC 9309 §2.3.1):

* 2xx: the rules apply, including ``Crawl-delay`` for our product token or ``*``.
* 4xx other than 429 ("unavailable"), or more redirects than allowed: no rules,
  everything is allowed.
* 5xx, 429, timeouts, refused connections ("unreachable"): everything is disallowed
  for now, and the file is asked for again after ``_UNREACHABLE_RECHECK`` (or the
  policy's ttl when shorter). If an earlier copy was read, it keeps applying instead:
  the RFC lets a crawler keep using a cached copy while the file is unreachable.

A good copy is trusted for ``robots_ttl``. Concurrent first requests to an origin
share one robots.txt fetch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from protego import Protego
from yarl import URL

from feedsvc.errors import FetchError, HTTPStatusError, TooManyRedirects
from feedsvc.models import FetchResult

FetchRobots = Callable[[str], Awaitable[FetchResult]]
_UNREACHABLE_RECHECK = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """The rules of one origin as they stand, for one user agent."""

    origin: str
    expires_at: datetime
    parser: Protego | None = None  # None: no rules, see ``allow_all``
    allow_all: bool = True
    reachable: bool = True
    problem: str | None = None  # why robots.txt could not be read, when it could not

    def allows(self, url: str, user_agent: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return bool(self.parser.can_fetch(url, user_agent))

    def crawl_delay(self, user_agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(user_agent)
        return float(delay) if delay is not None else None


def robots_url(url: URL) -> str:
    return str(url.origin().with_path("/robots.txt"))


class RobotsCache:
    """robots.txt rules per origin (scheme, host, port), refreshed when they expire."""

    def __init__(
        self, fetch: FetchRobots, *, ttl: timedelta, clock: Callable[[], datetime]
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._rules: dict[str, RobotsRules] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def rules_for(self, url: URL) -> RobotsRules:
        """The rules that govern ``url``, fetching robots.txt when missing or expired."""
        origin = str(url.origin())
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            cached = self._rules.get(origin)
            if cached is not None and cached.expires_at > self._clock():
                return cached
            rules = await self._load(origin, robots_url(url), previous=cached)
            self._rules[origin] = rules
            return rules

    async def _load(self, origin: str, url: str, *, previous: RobotsRules | None) -> RobotsRules:
        try:
            result = await self._fetch(url)
        except HTTPStatusError as exc:
            if 400 <= exc.status < 500 and exc.status != 429:
                return RobotsRules(origin, self._clock() + self._ttl)
            return self._unreachable(origin, previous, exc.reason)
        except TooManyRedirects:
            return RobotsRules(origin, self._clock() + self._ttl)
        except FetchError as exc:
            return self._unreachable(origin, previous, exc.reason)
        # RFC 9309 section 2.2: robots.txt is UTF-8, whatever a header says
        text = result.body.decode("utf-8", errors="replace")
        return RobotsRules(origin, self._clock() + self._ttl, Protego.parse(text))

    def _unreachable(self, origin: str, previous: RobotsRules | None, problem: str) -> RobotsRules:
        recheck = self._clock() + min(self._ttl, _UNREACHABLE_RECHECK)
        if previous is not None and previous.reachable:
            return RobotsRules(origin, recheck, previous.parser, previous.allow_all)
        return RobotsRules(origin, recheck, allow_all=False, reachable=False, problem=problem)
