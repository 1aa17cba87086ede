"""The pipeline: one poll of one source, wiring every stage together.

    fetch feeds → discover items → plan pages → fetch pages → extract → normalize
      → match topics → store → re-check pages on their schedule
      → expire old deletions and changes → publish which topics changed (``feedsvc.changes``)

An article enters the feeds once its page is extracted, newest first within the
poll's page budget; only a page still failing after ``feed_only_after`` lets the
feed's version stand in for it. Every article seen has a page state in the store
(``decide.py`` draws its life), so waiting pages survive a restart and every stored
article can be read again: for edits the feed does not show, retractions, restores.

Only this module and the web layer read the clock; every decision below is a pure
function of values. Errors are handled (and logged once) here: a failing feed or
page never stops the rest of the poll, and what was stored stays stored.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from feedsvc.changes import Changes
from feedsvc.config import ChangesSettings, DedupeSettings, SourceSettings
from feedsvc.errors import ExtractError, FeedsvcError, FetchError, HTTPStatusError
from feedsvc.extract import extract_article
from feedsvc.logsetup import get_log
from feedsvc.models import Article, FeedItem, FetchResult, PollState
from feedsvc.normalize.article import build_article, revise
from feedsvc.pipeline.backfill import backfill_due, sitemap_items
from feedsvc.pipeline.decide import (
    feed_only_due,
    first_sight,
    page_failed,
    page_gone,
    page_read,
    plan_pages,
    recheck_outcome,
    relisted_ids,
    vanished,
)
from feedsvc.pipeline.feeds import Fetch, Listings, later, read_feeds, reason
from feedsvc.pipeline.identity import Identity
from feedsvc.pipeline.report import PollReport
from feedsvc.store import PageState, SaveOutcome, Store

__all__ = ["Fetch", "Matcher", "Pipeline", "PollReport"]

log = get_log("feedsvc.pipeline")

PAGE_RETRY_BASE = timedelta(minutes=5)
PAGE_RETRY_CAP = timedelta(hours=6)
# During a long poll (a first sync, a large backlog) stored changes are published at
# most this often: readers see new articles within seconds, and a feed that every
# article touches (``all``) is rendered again a few times a minute, not once a few
# articles, while the requests for it keep being answered from the cache.
PUBLISH_INTERVAL = timedelta(seconds=5)
SAVED = {SaveOutcome.NEW: "new", SaveOutcome.UPDATED: "changed",
         SaveOutcome.UNCHANGED: "unchanged", SaveOutcome.RESTORED: "restored"}


class Matcher(Protocol):
    def match(self, article: Article) -> frozenset[str]: ...


class Pipeline:
    def __init__(self, *, store: Store, fetcher: Fetch, matcher: Callable[[], Matcher],
                 clock: Callable[[], datetime], dedupe: DedupeSettings | None = None,
                 changes: Changes | None = None, history: ChangesSettings | None = None,
                 pause: Callable[[float], Awaitable[None]] | None = None) -> None:
        self.store = store
        self.history = history or ChangesSettings()  # how long deletions and changes are kept
        self.dedupe = dedupe or DedupeSettings()
        self.identity = Identity(store, self.dedupe)
        self.fetcher = fetcher
        self.matcher = matcher  # called per poll: topic edits apply to the next article
        self.clock = clock
        self.changes = changes
        # awaited after each article with the seconds it kept the process busy: while
        # requests are answered, the poll rests (``feedsvc.readers``)
        self.pause = pause

    async def poll(self, source: SourceSettings) -> PollReport:
        """Poll one source once; never raises for upstream faults (they are in the report)."""
        report = PollReport(source.name, self.clock())
        state = await self.store.get_poll_state(source.name)
        items, validators, listed = await read_feeds(self.fetcher, source, state, report,
                                                     self.clock)
        report.items = len(items)
        await self._store_items(source, items, state, report)
        await self._recheck_vanished(source, state, listed, report)
        backfilled_at = await self._backfill(source, state, report)  # in the page budget
        if not report.failed:  # the site answers no feed: reading pages would fail too
            await self._recheck_due(source, report)  # in a budget of its own
        await self.store.save_poll_state(replace(
            state, validators=validators, feed_items=listed, last_backfill_at=backfilled_at))
        await self._expire_history(report)
        await self._publish(report, final=True)
        return report

    # -- pages ------------------------------------------------------------------------

    async def _store_items(self, source: SourceSettings, items: list[FeedItem],
                           state: PollState, report: PollReport) -> None:
        """The feeds' new and changed articles, and the pages still pending from earlier
        polls, newest first within the page budget."""
        relisted = relisted_ids(state.feed_items, items)
        live = [i for i in items
                if i.article_id in relisted or not await self.store.is_tombstoned(i.article_id)]
        states = await self.store.get_page_states([i.article_id for i in live])
        if not source.fetch_pages:
            await self._store_from_feeds(source, live, states, report)
            return
        now = self.clock()
        earlier = [] if report.failed else await self.store.pending_pages(
            source.name, now, limit=source.max_pages_per_poll)
        pending = [await self._with_item(page) for page in earlier]
        plan = plan_pages(live, states, pending, now=now, budget=source.max_pages_per_poll,
                          relisted=relisted)
        report.deferred = plan.deferred
        for waiting in plan.waiting:  # kept, so an article leaving the feed is not lost
            await self.store.save_page_state(waiting)
        for item, page in plan.fetch:
            await self._fetch_page(source, item, page, report)

    async def _store_from_feeds(self, source: SourceSettings, items: list[FeedItem],
                                states: Mapping[str, PageState], report: PollReport) -> None:
        """With ``fetch_pages`` off the feed's version is the article; it still gets page
        state, so a retraction is noticed like any other."""
        now = self.clock()
        for item in items:
            began = time.perf_counter()
            await self._save(source, build_article(item, None, fetched_at=now), (item.url,), report)
            await self._rest(time.perf_counter() - began)
            if item.article_id not in states:
                await self.store.save_page_state(replace(first_sight(item, now), feed_only=True))

    async def _rest(self, busy: float) -> None:
        if self.pause is not None:
            await self.pause(busy)

    async def _recheck_due(self, source: SourceSettings, report: PollReport) -> None:
        """Pages read again on the recheck schedule (and, with ``refresh_window``, every
        poll while young), with conditional GET: sites edit, retract and restore
        stories without the feed always showing it."""
        if not source.fetch_pages:
            return
        budget = source.recheck_max_per_poll
        for page in await self.store.due_rechecks(source.name, self.clock(), limit=budget):
            budget -= 1
            item = await self._item_of(page)
            if item is None:  # nothing left to build an article from: stop asking
                await self.store.save_page_state(replace(page, next_check_at=None))
                continue
            await self._recheck(source, item, page, report)
        if source.refresh_window and budget > 0:
            await self._refresh_recent(source, budget, report)

    async def _refresh_recent(self, source: SourceSettings, budget: int,
                              report: PollReport) -> None:
        since = self.clock() - source.refresh_window
        recent = [a.id async for a in self.store.iter_articles(since=since)
                  if a.source == source.name and a.id not in report.fetched_ids]
        for page in (await self.store.get_page_states(recent[-budget:])).values():
            if page.fetched and not page.failures and (item := await self._item_of(page)):
                await self._recheck(source, item, page, report)

    async def _recheck(self, source: SourceSettings, item: FeedItem, page: PageState,
                       report: PollReport) -> None:
        outcome = await self._fetch_page(source, item, page, report)
        report.recheck(recheck_outcome(outcome, was_gone=page.gone))

    async def _fetch_page(self, source: SourceSettings, item: FeedItem, state: PageState | None,
                          report: PollReport) -> str:
        """Read one article page and store what it says. Returns what happened:
        not_modified, new, changed, unchanged, restored, duplicate, gone or failed."""
        now = self.clock()
        state = state or first_sight(item, now)
        report.pages_fetched += 1
        report.fetched_ids.add(item.article_id)
        conditional = state.fetched and not state.gone  # a gone page has no validators to offer
        try:
            result = await self.fetcher.get(
                item.url, etag=state.etag if conditional else None,
                last_modified=state.last_modified if conditional else None)
            outcome = "not_modified"
            if not result.not_modified:
                began = time.perf_counter()  # the page's own work, not the wait for it
                # parsing and cleaning a page is the CPU-heavy part of a poll: in a worker
                # thread, so the requests being served do not wait behind it
                article = await asyncio.to_thread(_read_page, source, item, result, now)
                # the page answers: the article is out, also if it was retracted before
                outcome = await self._save(source, article, (item.url, result.final_url),
                                           report, restore=True)
                await self._rest(time.perf_counter() - began)
            etag, modified = result.etag, result.last_modified
            if result.not_modified:  # a 304 may leave out the validators that still hold
                etag, modified = etag or state.etag, modified or state.last_modified
            state = page_read(state, item, etag=etag, last_modified=modified, now=now,
                              schedule=source.recheck_after)
        except (FetchError, ExtractError) as exc:
            if isinstance(exc, HTTPStatusError) and exc.status in (404, 410):
                await self._retract(item.article_id, report)
                state = page_gone(state, item, now=now, schedule=source.recheck_after)
                outcome = "gone"
            else:
                state = await self._page_failed(source, state, item, exc, report)
                outcome = "failed"
        await self.store.save_page_state(state)
        return outcome

    async def _page_failed(self, source: SourceSettings, state: PageState, item: FeedItem,
                           exc: FeedsvcError, report: PollReport) -> PageState:
        report.page_errors += 1
        # decoded, so an operator reads the Arabic slug in /healthz, not %D8%A7…
        report.page_error = f"{unquote(item.url)}: {reason(exc)}"
        retry_after = exc.retry_after if isinstance(exc, HTTPStatusError) else None
        # a page's 429/503 speaks for the whole host: no poll of the source before it
        report.fresh_until = later(report.fresh_until, retry_after)
        now = self.clock()
        state = page_failed(state, item, error=reason(exc), now=now, retry_after=retry_after,
                            base=PAGE_RETRY_BASE, cap=PAGE_RETRY_CAP,
                            grace=source.feed_only_after, schedule=source.recheck_after)
        log.warning("page.failed", source=item.source, article=item.article_id, url=item.url,
                    failures=state.failures, error=reason(exc))
        if feed_only_due(state, now, source.feed_only_after):
            # still failing after the grace period: readers get the feed's version meanwhile,
            # replaced in place when the page is read
            await self._save(source, build_article(item, None, fetched_at=now), (item.url,), report)
            state = replace(state, feed_only=True)
        return state

    async def _backfill(self, source: SourceSettings, state: PollState, report: PollReport
                        ) -> datetime | None:
        now = self.clock()
        if report.failed or not source.fetch_pages or not backfill_due(
                source, state.last_backfill_at, now):
            return state.last_backfill_at
        budget = max(source.max_pages_per_poll - report.pages_fetched, 0)
        items = await sitemap_items(source, self.fetcher.get, self.store, now=now, limit=budget)
        pages = await self.store.get_page_states([item.article_id for item in items])
        for item in items:
            await self._fetch_page(source, item, pages.get(item.article_id), report)
        report.backfilled = len(items)
        return now

    async def _recheck_vanished(self, source: SourceSettings, state: PollState,
                                listed: Listings, report: PollReport) -> None:
        """Pages of articles that left a feed early are fetched again: a 404/410 retracts."""
        before = dict(state.feed_items)
        gone = {article_id for url, ids in listed for article_id in vanished(before.get(url, ()), ids)}
        still_listed = {article_id for _, ids in listed for article_id in ids}
        page_states = await self.store.get_page_states(sorted(gone - still_listed))
        for article_id, page in page_states.items():
            if page.gone or article_id in report.fetched_ids or await self.store.is_tombstoned(
                    article_id):
                continue
            item = await self._item_of(page)
            if item is not None:
                report.rechecked += 1
                await self._recheck(source, item, page, report)

    async def _with_item(self, page: PageState) -> PageState:
        """A page state written before feed items were kept: the item from the stored article."""
        return page if page.item is not None else replace(page, item=await self._item_of(page))

    async def _item_of(self, page: PageState) -> FeedItem | None:
        if page.item is not None:
            return page.item
        stored = await self.store.get_article(page.article_id)
        if stored is None:
            return None
        return FeedItem(source=stored.source, native_id=page.article_id.split(":", 1)[1],
                        url=stored.url, title=stored.title, summary=stored.summary,
                        published=stored.published, image=stored.image, section=stored.section,
                        categories=stored.tags)

    # -- store ------------------------------------------------------------------------

    async def _save(self, source: SourceSettings, article: Article, aliases: Iterable[str],
                    report: PollReport, *, restore: bool = False) -> str:
        """Climb the identity ladder, then store the article, or record it as a copy.

        Returns new, changed, unchanged, restored, duplicate, or retracted (a retracted
        article's feed version: nothing is stored). ``restore``: the article's own page
        answered, so a retraction of it is lifted.
        """
        resolution, keys = await self.identity.resolve(article, source, self.clock())
        if resolution.article_id != article.id:
            # a copy of a stored (or retracted) story: its keys now name the survivor
            # a new URL of the story is served in its aliases: its feeds change
            touched = await self.store.add_aliases(
                resolution.article_id, [f"id:{article.id}", *resolution.aliases_to_add, *aliases],
                now=self.clock())
            if touched:
                report.touch(set(touched))
            report.duplicates += 1
            log.info("article.duplicate", article=article.id, survivor=resolution.article_id,
                     rung=resolution.rung)
            return "duplicate"
        retracted = await self.store.is_tombstoned(article.id)
        if retracted and not restore:
            return "retracted"
        previous = await self.store.get_article(article.id)
        if previous is not None:
            article = revise(previous, article)
        if resolution.absorbed is not None:
            report.touch(set(await self.store.absorb(article.id, resolution.absorbed,
                                                     now=self.clock())))
            self.identity.forget(resolution.absorbed)
            report.duplicates += 1
            log.info("article.duplicate", article=resolution.absorbed, survivor=article.id,
                     rung=resolution.rung)
        await asyncio.sleep(0)  # the ladder and the matching are CPU work: let requests in
        topics = self.matcher().match(article)
        outcome = await self.store.save_article(
            article, topics, sorted({*aliases, *resolution.aliases_to_add}), keys.fingerprint,
            now=self.clock(), restore=retracted)
        self.identity.remember(keys)
        if outcome is SaveOutcome.UNCHANGED:
            report.unchanged += 1
            return SAVED[outcome]
        report.new += outcome is SaveOutcome.NEW
        report.updated += outcome is SaveOutcome.UPDATED
        report.restored += outcome is SaveOutcome.RESTORED
        if outcome is SaveOutcome.RESTORED:
            log.info("article.restored", article=article.id)
        for slug in topics:
            report.topic_matches[slug] = report.topic_matches.get(slug, 0) + 1
        old_topics = self.matcher().match(previous) if previous is not None else frozenset()
        report.touch(set(topics) | set(old_topics))
        await self._publish(report)
        return SAVED[outcome]

    async def _expire_history(self, report: PollReport) -> None:
        """Deletions older than the feeds' window leave them (so they are rendered again),
        and changes older than the retention leave the change stream."""
        now = self.clock()
        expired = await self.store.expire_changes(
            unlist_before=now - self.history.deleted_window,
            drop_before=now - self.history.retention, now=now)
        if expired:
            report.pending_topics |= expired
            report.unpublished += 1

    async def _publish(self, report: PollReport, *, final: bool = False) -> None:
        """Let readers see stored articles while a long poll goes on: the change channel
        hears of changed topics every ``PUBLISH_INTERVAL``, and at the end."""
        if self.changes is None or not report.unpublished:
            return
        now = self.clock()
        if final or now - report.published_at >= PUBLISH_INTERVAL:
            topics, report.pending_topics, report.unpublished = report.pending_topics, set(), 0
            report.published_at = now
            await self.changes.publish(topics)

    async def _retract(self, article_id: str, report: PollReport) -> None:
        stored = await self.store.get_article(article_id)
        self.identity.forget(article_id)
        if await self.store.retract_article(article_id, now=self.clock(),
                                            keep=self.dedupe.retractions == "keep"):
            report.retracted += 1
            report.touch(set(self.matcher().match(stored)) if stored else set())
            log.info("article.retracted", article=article_id)


def _read_page(source: SourceSettings, item: FeedItem, result: FetchResult,
               now: datetime) -> Article:
    """The article a fetched page holds (pure; raises ExtractError)."""
    raw = extract_article(result.body, result.final_url, now=now,
                          site_tz=ZoneInfo(source.site_timezone), selectors=source.selectors,
                          charset=result.charset)
    return build_article(item, raw, fetched_at=now)
