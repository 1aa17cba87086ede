"""Where requests may go: the host allow-list and the address checks.

Two gates, both needed:

1. ``HostGate.check_url`` runs before every hop (first request and each redirect):
   the scheme must be http(s) and the host (or host:port) must be configured.
2. ``GuardedResolver`` is the resolver of the client's connector, so the addresses
   checked are exactly the addresses connected to. A name that resolves to any
   private, loopback, link-local or otherwise non-global address is refused, unless
   the host is listed in ``allow_private_hosts``. Checking inside the resolver (not
   in a separate look-up before the request) closes the DNS-rebinding gap where a
   name answers a public address to the check and a private one to the connect.

IP literals never reach a resolver; the gate allows one only when it is configured
verbatim, which is an explicit choice of that address (``127.0.0.1`` for the replica
and the tests). ``localhost`` is loopback by definition, so configuring it is
likewise explicit.
"""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from feedsvc.errors import NotAllowed
from feedsvc.fetch.policy import FetchPolicy

_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_key(url: URL | str) -> str:
    """The key that identifies a host for pacing: ``host``, or ``host:port`` off default ports."""
    url = URL(url) if isinstance(url, str) else url
    host = (url.host or "").rstrip(".").lower()
    if url.port is None or url.port == _DEFAULT_PORTS.get(url.scheme):
        return host
    return f"{host}:{url.port}"


def explicitly_private(host: str) -> bool:
    """A configured host that names a private or loopback address itself (an IP literal
    or ``localhost``): configuring it is an explicit choice to reach that address."""
    name = _strip_port(host)
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


def is_public_address(address: str) -> bool:
    """True for globally routable unicast addresses only."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class HostGate:
    """The allow-list: which URLs a request or a redirect hop may target."""

    def __init__(self, policy: FetchPolicy) -> None:
        self._allowed = frozenset(entry.lower().rstrip(".") for entry in policy.allowed_hosts)
        private = {_strip_port(entry) for entry in policy.allow_private_hosts}
        self._private = frozenset(private | {"localhost"})

    def check_url(self, url: str) -> URL:
        """Parse ``url`` and return it if it may be requested; else raise NotAllowed."""
        try:
            parsed = URL(url)
        except ValueError as exc:
            raise NotAllowed(url, "not a valid URL") from exc
        if parsed.scheme not in _DEFAULT_PORTS or not parsed.host:
            raise NotAllowed(url, "only absolute http and https URLs are fetched")
        host = parsed.host.rstrip(".").lower()
        if host not in self._allowed and host_key(parsed) not in self._allowed:
            raise NotAllowed(url, f"host {host_key(parsed)} is not configured")
        return parsed

    def private_ok(self, host: str) -> bool:
        """May ``host`` resolve to a private or loopback address?"""
        return host.rstrip(".").lower() in self._private


class GuardedResolver(AbstractResolver):
    """Resolves through ``inner`` and refuses non-public answers for unlisted hosts."""

    def __init__(self, gate: HostGate, inner: AbstractResolver | None = None) -> None:
        self._gate = gate
        self._inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if self._inner is None:
            # Created lazily: the threaded resolver binds to the running loop.
            self._inner = ThreadedResolver()
        answers = await self._inner.resolve(host, port, family)
        if not self._gate.private_ok(host):
            refused = [a["host"] for a in answers if not is_public_address(a["host"])]
            if refused:
                raise NotAllowed(host, f"resolves to non-public address {refused[0]}")
        return answers

    async def close(self) -> None:
        if self._inner is not None:
            await self._inner.close()


def _strip_port(entry: str) -> str:
    entry = entry.lower().rstrip(".")
    if entry.startswith("["):
        return entry[1:].split("]", 1)[0]
    host, sep, port = entry.rpartition(":")
    return host if sep and port.isdigit() and ":" not in host else entry
