"""Self-healing: back-off grows with jitter up to a cap, a source is never disabled, and
a failing source never delays the others."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from feedsvc.config import SchedulerSettings
from feedsvc.replica import ReplicaSite, serve_replica
from tests.conftest import Clock
from tests.faults.support import (
    FEEDS,
    SOURCE,
    assert_degraded,
    assert_recovered,
    fault_settings,
    health,
    poll_when_due,
)

INTERVAL = timedelta(minutes=5)
CAP = timedelta(minutes=15)


async def test_a_5xx_burst_backs_off_exponentially_to_the_cap_and_heals(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    settings = fault_settings(replica.base_url, tmp_path)
    settings = replace(settings, scheduler=replace(settings.scheduler, max_backoff=CAP))
    service, http, base = await serve_feedsvc(settings)
    replica.inject("status", FEEDS, times=5)  # 500, 502, 503, 500, 502

    await service.poller.poll(settings.sources[0])
    delays = []
    for failures in range(1, 6):
        state = await service.store.get_poll_state(SOURCE)
        assert state.consecutive_failures == failures
        assert state.next_poll_at is not None and state.last_attempt_at is not None
        delay = state.next_poll_at - state.last_attempt_at
        expected = min(INTERVAL * 2 ** (failures - 1), CAP)
        assert expected * 0.9 <= delay <= expected * 1.1 + timedelta(seconds=1), (failures, delay)
        delays.append(delay)
        await assert_degraded(http, base, "HTTP 50")
        await poll_when_due(service, clock)  # the sixth poll finds the site well again

    assert delays[0] < delays[1] < delays[2], "the back-off doubles until the cap"
    assert all(d <= CAP * 1.1 + timedelta(seconds=1) for d in delays[2:]), "and stays there"
    state = await service.store.get_poll_state(SOURCE)
    assert state.consecutive_failures == 0, "five failures in a row did not disable the source"
    assert state.next_poll_at is not None and state.last_success_at is not None
    assert state.next_poll_at - state.last_success_at <= INTERVAL * 1.1 + timedelta(seconds=1)
    await assert_recovered(service, http, base, replica)


async def test_a_hanging_source_does_not_delay_the_others(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    stuck_site = ReplicaSite(clock=clock)
    async with serve_replica(stuck_site) as stuck_base:
        settings = fault_settings(replica.base_url, tmp_path)
        good = settings.sources[0]
        stuck = replace(good, name="stuck", base_url=stuck_base, mirror_hosts=())
        settings = replace(settings, sources=(good, stuck),
                           fetch=replace(settings.fetch, read_timeout=30.0, total_timeout=30.0),
                           scheduler=SchedulerSettings(tick=timedelta(seconds=1)))
        stuck_site.inject("slow", FEEDS, delay=30.0)  # answers long after this test is over
        service, http, base = await serve_feedsvc(settings)
        poller = service.poller

        await poller.tick()
        assert set(poller.running) == {SOURCE, "stuck"}
        report = await poller.running[SOURCE]
        assert (report.failed, report.new > 0) == (False, True)
        assert not poller.running["stuck"].done(), "the stuck poll is still waiting"

        clock.advance(minutes=6)
        await poller.tick()  # the good source is due again; the stuck one is not started twice
        assert (await poller.running[SOURCE]).feeds_not_modified == 1
        body = await health(http, base)
        assert {s["name"]: s["polling"] for s in body["sources"]} == {SOURCE: False, "stuck": True}
        await poller.drain(0.0)
        await asyncio.sleep(0)
