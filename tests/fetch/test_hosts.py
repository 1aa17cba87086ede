"""Requests go only to configured hosts, and names must not lead to private addresses."""

from __future__ import annotations

import pytest

from feedsvc.errors import NotAllowed
from feedsvc.fetch import Fetcher, host_key
from feedsvc.fetch.hosts import is_public_address
from tests.fetch.upstream import FakeClock, StaticResolver, Upstream, make_policy, text


def fetcher(clock: FakeClock, **policy: object) -> Fetcher:
    resolver = StaticResolver({"feeds.example": "127.0.0.1", "localhost": "127.0.0.1"})
    return Fetcher(
        make_policy(respect_robots=False, **policy), clock=clock, sleep=clock.sleep, resolver=resolver
    )


async def test_unconfigured_host_is_refused_without_a_request(
    upstream: Upstream, clock: FakeClock
) -> None:
    upstream.route("/rss/", text("feed"))
    async with fetcher(clock, allowed_hosts=("arabic.rt.com",)) as f:
        with pytest.raises(NotAllowed, match="is not configured"):
            await f.get(upstream.url("/rss/"))
    assert upstream.hits == []


async def test_configured_port_must_match(upstream: Upstream, clock: FakeClock) -> None:
    upstream.route("/rss/", text("feed"))
    async with fetcher(clock, allowed_hosts=(upstream.host,)) as f:
        assert (await f.get(upstream.url("/rss/"))).status == 200
    async with fetcher(clock, allowed_hosts=("127.0.0.1:1",)) as f:
        with pytest.raises(NotAllowed):
            await f.get(upstream.url("/rss/"))


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/rss/", "file:///etc/hosts", "/rss/", "http:///x"])
async def test_only_absolute_http_urls(clock: FakeClock, url: str) -> None:
    async with fetcher(clock) as f:
        with pytest.raises(NotAllowed):
            await f.get(url)


async def test_name_resolving_to_loopback_is_refused(upstream: Upstream, clock: FakeClock) -> None:
    upstream.route("/rss/", text("feed"))
    port = upstream.host.rsplit(":", 1)[1]
    async with fetcher(clock, allowed_hosts=("feeds.example",)) as f:
        with pytest.raises(NotAllowed, match="non-public address 127.0.0.1") as caught:
            await f.get(f"http://feeds.example:{port}/rss/")
    assert caught.value.url == f"http://feeds.example:{port}/rss/"
    assert upstream.hits == []


async def test_name_explicitly_allowed_on_a_private_address(
    upstream: Upstream, clock: FakeClock
) -> None:
    upstream.route("/rss/", text("feed"))
    port = upstream.host.rsplit(":", 1)[1]
    policy = {"allowed_hosts": ("feeds.example",), "allow_private_hosts": ("feeds.example",)}
    async with fetcher(clock, **policy) as f:
        result = await f.get(f"http://feeds.example:{port}/rss/")
    assert result.body == b"feed"


async def test_localhost_when_configured(upstream: Upstream, clock: FakeClock) -> None:
    upstream.route("/rss/", text("feed"))
    port = upstream.host.rsplit(":", 1)[1]
    async with Fetcher(
        make_policy(respect_robots=False, allowed_hosts=("localhost",)), clock=clock, sleep=clock.sleep
    ) as f:  # the system resolver, as in production
        assert (await f.get(f"http://localhost:{port}/rss/")).body == b"feed"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2a00:1450:4001:82a::200e", True),
        ("10.0.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("127.0.0.2", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("::ffff:127.0.0.1", False),
        ("fc00::1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public_address(address) is public


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://arabic.rt.com/rss/", "arabic.rt.com"),
        ("http://Arabic.RT.com:80/rss/", "arabic.rt.com"),
        ("http://127.0.0.1:8080/", "127.0.0.1:8080"),
        ("https://arabic.rt.com.:8443/", "arabic.rt.com:8443"),
    ],
)
def test_host_key(url: str, key: str) -> None:
    assert host_key(url) == key
