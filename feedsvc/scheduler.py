"""The scheduler only ticks: what is due, back-off and validators live in the store.

Every ``tick`` an APScheduler 3.x job looks at each source's stored ``next_poll_at``
and starts the polls that are due; a restart (or a second replica reading the same
store) therefore resumes where things stood. A failing source never delays the
others: each poll is its own task.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from feedsvc.config import SchedulerSettings, SourceSettings
from feedsvc.fetch.backoff import next_poll_at
from feedsvc.metrics import Metrics
from feedsvc.pipeline import Pipeline, PollReport
from feedsvc.store import Store

log = logging.getLogger("feedsvc.scheduler")


class Poller:
    """Runs due polls and records their outcome in the store."""

    def __init__(self, *, pipeline: Pipeline, store: Store, sources: Sequence[SourceSettings],
                 settings: SchedulerSettings, clock: Callable[[], datetime], metrics: Metrics,
                 rng: random.Random | None = None) -> None:
        self.pipeline = pipeline
        self.store = store
        self.sources = tuple(sources)
        self.settings = settings
        self.clock = clock
        self.metrics = metrics
        self.rng = rng or random.Random()
        self.running: dict[str, asyncio.Task[PollReport]] = {}

    async def tick(self) -> None:
        now = self.clock()
        for source in self.sources:
            if source.name in self.running:
                continue
            state = await self.store.get_poll_state(source.name)
            if state.next_poll_at is None or state.next_poll_at <= now:
                if state.next_poll_at is not None:
                    self.metrics.scheduler_lag.set((now - state.next_poll_at).total_seconds())
                task = asyncio.create_task(self.poll(source), name=f"poll:{source.name}")
                self.running[source.name] = task
                task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[PollReport]) -> None:
        name = task.get_name().removeprefix("poll:")
        self.running.pop(name, None)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("poll.crashed source=%s error=%r", name, exc, exc_info=exc)

    async def poll(self, source: SourceSettings) -> PollReport:
        """Poll one source now and schedule its next poll."""
        started = self.clock()
        report = await self.pipeline.poll(source)
        state = await self.store.get_poll_state(source.name)
        now = self.clock()
        failures = state.consecutive_failures + 1 if report.failed else 0
        retry_after = report.fresh_until if report.failed else None
        state = replace(
            state, last_attempt_at=started, consecutive_failures=failures,
            last_error=report.error,
            last_success_at=state.last_success_at if report.failed else now,
            next_poll_at=next_poll_at(
                now=now, interval=source.interval, consecutive_failures=failures,
                retry_after=retry_after, fresh_until=None if report.failed else report.fresh_until,
                ttl=report.ttl, jitter=self.rng.random(),
                max_backoff=self.settings.max_backoff))
        await self.store.save_poll_state(state)
        self._record(source, report, now - started, state.next_poll_at)
        return report

    def _record(self, source: SourceSettings, report: PollReport, took: timedelta,
                next_at: datetime | None) -> None:
        outcome = "failed" if report.failed else "ok"
        self.metrics.polls.labels(source.name, outcome).inc()
        self.metrics.poll_duration.labels(source.name).observe(took.total_seconds())
        for name in ("new", "updated", "unchanged", "retracted"):
            self.metrics.articles.labels(source.name, name).inc(getattr(report, name))
        self.metrics.page_errors.labels(source.name).inc(report.page_errors)
        log.info("poll.done source=%s outcome=%s items=%d new=%d updated=%d unchanged=%d "
                 "retracted=%d page_errors=%d deferred=%d not_modified=%d took=%.2fs next=%s%s",
                 source.name, outcome, report.items, report.new, report.updated,
                 report.unchanged, report.retracted, report.page_errors, report.deferred,
                 report.feeds_not_modified, took.total_seconds(),
                 next_at.isoformat() if next_at else "-",
                 f" error={report.error!r}" if report.error else "")

    async def drain(self, grace: float) -> None:
        """Let polls in flight finish (their writes complete), then cancel what is left."""
        tasks = list(self.running.values())
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def start_scheduler(poller: Poller, tick: timedelta) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(poller.tick, "interval", seconds=tick.total_seconds(), id="tick",
                      max_instances=1, coalesce=True, next_run_time=poller.clock())
    scheduler.start()
    return scheduler
