"""This process's leases: claim one, keep it while the work runs, give it back.

A lease names work that one process at a time should do, across every process that
shares the store: ``poll:<source>`` (a poll, the sitemap backfill inside it included)
and ``topics:backfill`` (re-matching the stored articles after a topics edit). It is a
row in the store with a holder and an expiry set by the database's clock
(``Store.claim_lease``), so processes whose clocks disagree still agree on who holds it.

While the work runs the holder renews the lease every third of its ``ttl``. A holder
that dies (SIGKILL, a lost machine) stops renewing, and the lease expires at most one
``ttl`` after its last renewal; then the next process that asks gets it. A holder that
finds it could not renew (another process took the lease after a long store outage)
is told (``on_lost``): the poller cancels its poll, the other process now does it.

Each process is named by a *holder id*, ``host:pid:random``, shown in ``/healthz``,
in ``/metrics`` (``feedsvc_replica_info``, ``feedsvc_lease_held``) and in the logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

from feedsvc.background import background
from feedsvc.errors import StoreError
from feedsvc.logsetup import get_log
from feedsvc.metrics import Metrics
from feedsvc.store.base import Store

log = get_log("feedsvc.leases")

BACKFILL_LEASE = "topics:backfill"


def poll_lease(source: str) -> str:
    return f"poll:{source}"


def holder_id() -> str:
    """``host:pid:random``: unique per process, even for two containers whose pid is 1."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Leases:
    """Claims, renewals and releases of one process (``holder``), all through the store."""

    def __init__(self, store: Store, holder: str, ttl: timedelta, metrics: Metrics) -> None:
        self.store = store
        self.holder = holder
        self.ttl = ttl
        self.metrics = metrics
        self.held: set[str] = set()

    @property
    def renew_every(self) -> float:
        return self.ttl.total_seconds() / 3

    async def claim(self, name: str) -> bool:
        """Take (or extend) the lease now; False while another process holds it.

        Raises ``StoreError`` when the store cannot be asked.
        """
        won = await self.store.claim_lease(name, self.holder, self.ttl)
        self._mark(name, won)
        return won

    async def release(self, name: str) -> None:
        """Give the lease back; if the store cannot be told, the lease simply expires."""
        self._mark(name, False)
        try:
            await self.store.release_lease(name, self.holder)
        except StoreError as exc:
            log.warning("lease.release_failed", lease=name, holder=self.holder, error=str(exc))

    @contextlib.asynccontextmanager
    async def keeping(self, name: str, *, on_lost: Callable[[], object] | None = None
                      ) -> AsyncIterator[None]:
        """Renew a lease just claimed while the block runs, and release it after."""
        try:
            async with background(self._renew(name, on_lost), f"lease:{name}"):
                yield
        finally:
            await self.release(name)

    @contextlib.asynccontextmanager
    async def waiting(self, name: str) -> AsyncIterator[None]:
        """Wait until the lease is ours (another holder finishes, or its lease expires),
        then hold it for the block. Raises ``StoreError`` when the store cannot be asked."""
        announced = False
        while not await self.claim(name):
            if not announced:
                holders = [lease.holder for lease in await self.store.leases()
                           if lease.name == name]
                log.info("lease.waiting", lease=name, holder=self.holder,
                         held_by=holders[0] if holders else None)
                announced = True
            await asyncio.sleep(min(1.0, self.renew_every))
        async with self.keeping(name):
            yield

    async def _renew(self, name: str, on_lost: Callable[[], object] | None) -> None:
        while True:
            await asyncio.sleep(self.renew_every)
            try:
                kept = await self.claim(name)
            except StoreError as exc:  # try again: the lease is ours until it expires
                log.warning("lease.renew_failed", lease=name, holder=self.holder, error=str(exc))
                continue
            if not kept:
                log.error("lease.lost", lease=name, holder=self.holder)
                self.metrics.leases_lost.labels(name).inc()
                if on_lost is not None:
                    on_lost()
                return

    def _mark(self, name: str, held: bool) -> None:
        if held:
            self.held.add(name)
        else:
            self.held.discard(name)
        self.metrics.lease_held.labels(name).set(1 if held else 0)
