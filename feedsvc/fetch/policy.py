"""How politely and how defensively the fetch stage talks to upstreams.

One frozen value, built once from the settings. Every field has a default and a
one-line help text in its metadata (``FetchPolicy.help()`` lists them), so the
settings layer and the configuration docs can be checked against it.
All durations are seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from feedsvc import __version__
from feedsvc.errors import ConfigError

MIB = 1024 * 1024


def _opt(default: Any, help_text: str) -> Any:
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    """Limits and manners for every upstream request."""

    user_agent: str = _opt(
        f"feedsvc/{__version__.rsplit('.', 1)[0]}",
        "product token sent as User-Agent and matched against robots.txt groups",
    )
    contact_url: str = _opt("", "URL where the site operator can reach whoever runs this service")
    connect_timeout: float = _opt(10.0, "seconds to establish a TCP/TLS connection")
    read_timeout: float = _opt(20.0, "seconds to wait for any data on an open connection")
    total_timeout: float = _opt(
        60.0, "seconds for one HTTP exchange (each redirect hop), headers and body"
    )
    max_body_bytes: int = _opt(5 * MIB, "largest response body read; larger ones are refused")
    max_redirects: int = _opt(5, "redirect hops followed before giving up")
    per_host_concurrency: int = _opt(2, "requests in flight at once to one host")
    min_host_delay: float = _opt(1.0, "seconds between request starts to one host (or Crawl-delay)")
    robots: bool = _opt(True, "obey robots.txt (Allow/Disallow and Crawl-delay)")
    robots_ttl: float = _opt(3600.0, "seconds a fetched robots.txt is trusted")
    max_retry_after: float = _opt(
        86400.0, "longest Retry-After honoured; longer values are clipped to this"
    )
    allowed_hosts: tuple[str, ...] = _opt(
        (), "host names (or host:port) requests may go to: sources and media hosts"
    )
    allow_private_hosts: tuple[str, ...] = _opt(
        (), "allowed host names that may resolve to private, loopback or link-local addresses"
    )

    def __post_init__(self) -> None:
        problems = [f"fetch.{name}: {value!r}: {reason}" for name, value, reason in self._faults()]
        if problems:
            raise ConfigError(problems)

    def _faults(self) -> list[tuple[str, object, str]]:
        faults: list[tuple[str, object, str]] = []
        for name in ("connect_timeout", "read_timeout", "total_timeout", "robots_ttl"):
            if not getattr(self, name) > 0:
                faults.append((name, getattr(self, name), "must be greater than 0"))
        for name in ("min_host_delay", "max_retry_after", "max_redirects"):
            if getattr(self, name) < 0:
                faults.append((name, getattr(self, name), "must not be negative"))
        for name in ("max_body_bytes", "per_host_concurrency"):
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

    @classmethod
    def help(cls) -> dict[str, str]:
        """Help text per field, in declaration order."""
        return {f.name: str(f.metadata["help"]) for f in fields(cls)}
