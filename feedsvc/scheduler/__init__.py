"""The scheduler only ticks: what is due, back-off and validators live in the store.

Every ``tick`` an APScheduler 3.x job looks at each source's stored ``next_poll_at``
and starts the polls that are due; a restart resumes where things stood. A failing
source never delays the others: each poll is its own task, and a source still being
polled is skipped, not waited for.

After a poll, ``next_poll_at`` (``next_poll``) decides when to come back:
the interval after success, exponential back-off with jitter and a cap after failure,
never before a Retry-After. No failure count disables a source. A poll that raised
(a bug, the store) is recorded as a failed poll and backs off like any other.

The outcome of each poll is stored (``PollState.last_error``: the feeds that failed
and, when article pages failed, how many and the last reason), counted in the
metrics and logged as one ``poll.done`` event.

Replicas sharing one store poll each source once between them: a due source is
polled only by the process that claims its lease (``poll:<source>``,
``feedsvc.store.leasing``), which re-reads the poll state under the lease (another
replica may have just finished that very poll) and renews the lease while the poll
runs. A replica that dies mid-poll stops renewing; once the lease expires the source
is still due (its next poll time was never saved), so another replica takes it up on
its next tick. ``poll()`` itself, as ``feedsvc poll`` and the tests call it, polls
without a lease: whoever calls it asked for a poll now.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from feedsvc.config import SchedulerSettings, SourceSettings
from feedsvc.errors import StoreError
from feedsvc.logsetup import get_log
from feedsvc.metrics import Metrics
from feedsvc.models import PollState
from feedsvc.pipeline import Pipeline, PollReport
from feedsvc.scheduler.next_poll import next_poll_at
from feedsvc.store import Store
from feedsvc.store.leasing import Leases, poll_lease

log = get_log("feedsvc.scheduler")


class Poller:
    """Runs due polls and records their outcome in the store."""

    def __init__(self, *, pipeline: Pipeline, store: Store, sources: Sequence[SourceSettings],
                 settings: SchedulerSettings, clock: Callable[[], datetime], metrics: Metrics,
                 leases: Leases, rng: random.Random | None = None) -> None:
        self.pipeline = pipeline
        self.store = store
        self.sources = tuple(sources)
        self.settings = settings
        self.clock = clock
        self.metrics = metrics
        self.leases = leases
        self.rng = rng or random.Random()
        self.running: dict[str, asyncio.Task[PollReport]] = {}
        self.store_problem: str | None = None  # why the last tick could not read the store
        metrics.prime_sources(source.name for source in self.sources)

    async def tick(self) -> None:
        """Start the due polls whose lease this process wins. A store that cannot be
        read is logged once (and shown in /healthz), not every tick."""
        try:
            for source in self.sources:
                if source.name not in self.running:
                    await self._start_if_due(source)
        except StoreError as exc:
            if self.store_problem is None:
                log.warning("tick.store_failed", error=str(exc))
            self.store_problem = str(exc)
            return
        if self.store_problem is not None:
            log.info("tick.store_back")
            self.store_problem = None

    async def _start_if_due(self, source: SourceSettings) -> None:
        if not _due(await self.store.get_poll_state(source.name), self.clock()):
            return
        lease = poll_lease(source.name)
        if not await self.leases.claim(lease):
            return  # another replica is polling it
        # under the lease: another replica may have finished this very poll meanwhile
        state = await self.store.get_poll_state(source.name)
        now = self.clock()
        if not _due(state, now):
            await self.leases.release(lease)
            return
        if state.next_poll_at is not None:
            self.metrics.scheduler_lag.set((now - state.next_poll_at).total_seconds())
        task = asyncio.create_task(self._leased_poll(source, lease), name=f"poll:{source.name}")
        self.running[source.name] = task
        task.add_done_callback(self._finished)

    async def _leased_poll(self, source: SourceSettings, lease: str) -> PollReport:
        """Poll while renewing the lease; losing it cancels the poll (another has it)."""
        task = asyncio.current_task()
        assert task is not None
        async with self.leases.keeping(lease, on_lost=task.cancel):
            return await self.poll(source)

    def _finished(self, task: asyncio.Task[PollReport]) -> None:
        name = task.get_name().removeprefix("poll:")
        self.running.pop(name, None)
        if not task.cancelled() and (exc := task.exception()) is not None:
            # poll() records every failure of the pipeline; this is the store refusing
            # to save the outcome, so the source stays due and is tried on the next tick
            log.error("poll.unsaved", source=name, error=repr(exc), exc_info=exc)

    async def poll(self, source: SourceSettings) -> PollReport:
        """Poll one source now and schedule its next poll."""
        started = self.clock()
        try:
            report = await self.pipeline.poll(source)
        except Exception as exc:  # any crash must back off like a fault, not spin
            log.error("poll.crashed", source=source.name, error=repr(exc), exc_info=exc)
            report = PollReport(source.name, started, feed_errors=[f"internal error: {exc!r}"])
        state = await self.store.get_poll_state(source.name)
        now = self.clock()
        failures = state.consecutive_failures + 1 if report.failed else 0
        retry_after = report.fresh_until if report.failed else None
        state = replace(
            state, last_attempt_at=started, consecutive_failures=failures,
            last_error=poll_problem(report),
            last_success_at=state.last_success_at if report.failed else now,
            next_poll_at=next_poll_at(
                now=now, interval=source.interval, consecutive_failures=failures,
                retry_after=retry_after, fresh_until=None if report.failed else report.fresh_until,
                ttl=report.ttl, jitter=self.rng.random(),
                max_backoff=self.settings.max_backoff))
        await self.store.save_poll_state(state)
        self._record(source, report, now - started, state)
        return report

    def _record(self, source: SourceSettings, report: PollReport, took: timedelta,
                state: PollState) -> None:
        outcome = poll_outcome(report)
        metrics = self.metrics
        metrics.polls.labels(source.name, outcome).inc()
        metrics.poll_duration.labels(source.name).observe(took.total_seconds())
        for name, count in article_counts(report).items():
            metrics.articles.labels(source.name, name).inc(count)
        metrics.page_errors.labels(source.name).inc(report.page_errors)
        for recheck, count in report.rechecks.items():
            metrics.page_rechecks.labels(source.name, recheck).inc(count)
        for slug, count in report.topic_matches.items():
            metrics.topic_matches.labels(slug).inc(count)
        # The errors themselves were logged where they were handled (feed.failed,
        # page.failed); this event only counts them.
        log.info("poll.done", source=source.name, outcome=outcome,
                  items=report.items, **article_counts(report), rechecked=report.rechecked,
                  rechecks=sum(report.rechecks.values()),
                  feeds_not_modified=report.feeds_not_modified,
                  feed_errors=len(report.feed_errors), page_errors=report.page_errors,
                  deferred=report.deferred, took=round(took.total_seconds(), 3),
                  failures=state.consecutive_failures, next_poll_at=state.next_poll_at)

    async def drain(self, grace: float) -> None:
        """Let polls in flight finish (their writes complete), then cancel what is left."""
        tasks = list(self.running.values())
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def _due(state: PollState, now: datetime) -> bool:
    return state.next_poll_at is None or state.next_poll_at <= now


def poll_outcome(report: PollReport) -> str:
    """``failed`` when every feed failed, ``partial`` when a feed or a page did, else ``ok``."""
    if report.failed:
        return "failed"
    return "partial" if report.feed_errors or report.page_errors else "ok"


def poll_problem(report: PollReport) -> str | None:
    """What went wrong in a poll, for ``/healthz``: failed feeds, then failed pages."""
    problems = list(report.feed_errors)
    if report.page_errors:
        problems.append(f"{report.page_errors} article page(s) failed, last: {report.page_error}")
    return "; ".join(problems) or None


def article_counts(report: PollReport) -> dict[str, int]:
    return {"new": report.new, "updated": report.updated, "unchanged": report.unchanged,
            "duplicate": report.duplicates, "retracted": report.retracted,
            "restored": report.restored}


def start_scheduler(poller: Poller, tick: timedelta) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(poller.tick, "interval", seconds=tick.total_seconds(), id="tick",
                      max_instances=1, coalesce=True, next_run_time=poller.clock())
    scheduler.start()
    return scheduler
