"""How politely and how defensively the fetch stage talks to upstreams.

One frozen value. Its fields are the ``[fetch]`` table of the settings file (the
settings layer reads the table into this very type), each with one default and
one help line (``feedsvc.policy``); durations the operator writes as ``"1h"``
are ``timedelta``, the rest are seconds or counts. The allow-list fields are
``derived``: the service fills them from the configured sources and hub.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from feedsvc import __version__
from feedsvc.errors import ConfigError
from feedsvc.policy import derived, setting

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Limits and manners for every upstream request; invalid values raise ``ConfigError``."""

    user_agent: str = setting(
        f"feedsvc/{__version__.rsplit('.', 1)[0]}",
        "User-Agent product token sent upstream and matched against robots.txt groups.",
    )
    contact_url: str = setting(
        "", "URL where the site's operator can reach whoever runs this service; appended "
        "to the User-Agent.")
    connect_timeout: float = setting(10.0, "Seconds to wait for a TCP/TLS connection.")
    read_timeout: float = setting(20.0, "Seconds to wait for each read of a response.")
    total_timeout: float = setting(
        60.0, "Seconds one HTTP exchange (each redirect hop), headers and body, may take.")
    max_body_size: int = setting(5 * MIB, "Largest response body read, in bytes; larger ones are refused.")
    max_redirects: int = setting(5, "Redirect hops followed at most.")
    per_host_concurrency: int = setting(2, "Requests in flight to one host at most.")
    min_host_delay: float = setting(
        1.0, "Seconds between the starts of two requests to one host (or its Crawl-delay).")
    respect_robots: bool = setting(True, "Obey robots.txt (Allow/Disallow and Crawl-delay).")
    robots_ttl: timedelta = setting(timedelta(hours=1), "How long a fetched robots.txt is trusted.")
    max_retry_after: timedelta = setting(
        timedelta(days=1), "Longest Retry-After honoured; longer values are clipped to this.")
    allowed_hosts: tuple[str, ...] = derived(
        (), "Host names (or host:port) requests may go to: the sources, their mirror and "
        "media hosts, and the WebSub hub.")
    allow_private_hosts: tuple[str, ...] = derived(
        (), "Allowed hosts that may resolve to private, loopback or link-local addresses.")

    def __post_init__(self) -> None:
        problems = [f"fetch.{name}: {value!r}: {reason}" for name, value, reason in self._faults()]
        if problems:
            raise ConfigError(problems)

    def _faults(self) -> list[tuple[str, object, str]]:
        faults: list[tuple[str, object, str]] = []
        for name in ("connect_timeout", "read_timeout", "total_timeout"):
            if not getattr(self, name) > 0:
                faults.append((name, getattr(self, name), "must be greater than 0"))
        if self.robots_ttl <= timedelta(0):
            faults.append(("robots_ttl", self.robots_ttl, "must be longer than 0"))
        for name in ("min_host_delay", "max_redirects"):
            if getattr(self, name) < 0:
                faults.append((name, getattr(self, name), "must not be negative"))
        if self.max_retry_after < timedelta(0):
            faults.append(("max_retry_after", self.max_retry_after, "must not be negative"))
        for name in ("max_body_size", "per_host_concurrency"):
            if getattr(self, name) < 1:
                faults.append((name, getattr(self, name), "must be at least 1"))
        if not self.user_agent.strip() or any(c.isspace() for c in self.user_agent):
            faults.append(("user_agent", self.user_agent, "must be one product token"))
        return faults

    @property
    def user_agent_header(self) -> str:
        """The User-Agent sent: ``feedsvc/0.1 (+https://contact.example)``."""
        if not self.contact_url:
            return self.user_agent
        return f"{self.user_agent} (+{self.contact_url})"
