"""The pipeline: one poll of one source, wiring every stage together.

    fetch feeds → discover items → plan pages → fetch pages → extract → normalize
      → match topics → store → publish which topics changed (``feedsvc.changes``)

Only this module and the web layer read the clock; every decision below is a pure
function of values. Errors are handled (and logged once) here: a failing feed or
page never stops the rest of the poll, and what was stored stays stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from feedsvc.changes import Changes
from feedsvc.config import DedupeSettings, SourceSettings
from feedsvc.errors import ExtractError, FeedsvcError, FetchError, HTTPStatusError
from feedsvc.extract import extract_article
from feedsvc.logsetup import get_log
from feedsvc.models import Article, FeedItem, PollState
from feedsvc.normalize.article import build_article
from feedsvc.pipeline.backfill import backfill_due, sitemap_items
from feedsvc.pipeline.decide import feed_signature, plan_pages, retry_at, vanished
from feedsvc.pipeline.feeds import Fetch, Listings, later, read_feeds, reason
from feedsvc.pipeline.identity import Identity
from feedsvc.pipeline.report import PollReport
from feedsvc.store import PageState, SaveOutcome, Store

__all__ = ["Fetch", "Matcher", "Pipeline", "PollReport"]

log = get_log("feedsvc.pipeline")

PAGE_RETRY_BASE = timedelta(minutes=5)
PAGE_RETRY_CAP = timedelta(hours=6)
PUBLISH_EVERY = 10  # stored changes between render-cache refreshes during one poll


class Matcher(Protocol):
    def match(self, article: Article) -> frozenset[str]: ...


class Pipeline:
    def __init__(self, *, store: Store, fetcher: Fetch, matcher: Callable[[], Matcher],
                 clock: Callable[[], datetime], dedupe: DedupeSettings | None = None,
                 changes: Changes | None = None) -> None:
        self.store = store
        self.dedupe = dedupe or DedupeSettings()
        self.identity = Identity(store, self.dedupe)
        self.fetcher = fetcher
        self.matcher = matcher  # called per poll: topic edits apply to the next article
        self.clock = clock
        self.changes = changes

    async def poll(self, source: SourceSettings) -> PollReport:
        """Poll one source once; never raises for upstream faults (they are in the report)."""
        report = PollReport(source.name, self.clock())
        state = await self.store.get_poll_state(source.name)
        items, validators, listed = await read_feeds(self.fetcher, source, state, report,
                                                     self.clock)
        report.items = len(items)
        await self._store_items(source, items, report)
        await self._recheck_vanished(source, state, listed, report)
        await self._retry_failed_pages(source, report)
        backfilled_at = await self._backfill(source, state, report)
        await self.store.save_poll_state(replace(
            state, validators=validators, feed_items=listed, last_backfill_at=backfilled_at))
        await self._publish(report, final=True)
        return report

    # -- pages ------------------------------------------------------------------------

    async def _store_items(self, source: SourceSettings, items: list[FeedItem],
                           report: PollReport) -> None:
        live = [i for i in items if not await self.store.is_tombstoned(i.article_id)]
        states = await self.store.get_page_states([i.article_id for i in live])
        plan = plan_pages(live, states, now=self.clock(), budget=source.max_pages_per_poll,
                          fetch_pages=source.fetch_pages)
        report.deferred = plan.deferred
        for item in plan.feed_only:
            await self._save(source, build_article(item, None, fetched_at=self.clock()), (item.url,), report)
        for item in plan.fetch:
            await self._fetch_page(source, item, states.get(item.article_id), report)
        if source.fetch_pages and source.refresh_window:
            budget = source.max_pages_per_poll - len(plan.fetch)
            await self._refresh_recent(source, {i.article_id for i in plan.fetch}, budget, report)

    async def _refresh_recent(self, source: SourceSettings, done: set[str], budget: int,
                              report: PollReport) -> None:
        """Articles younger than the refresh window are re-checked with conditional GET:
        sites edit recent stories without always changing what the feed says."""
        since = self.clock() - source.refresh_window
        recent = [a.id async for a in self.store.iter_articles(since=since)
                  if a.source == source.name and a.id not in done]
        states = await self.store.get_page_states(recent[-budget:] if budget > 0 else [])
        for article_id, state in states.items():
            if state.fetched and not state.failures and (item := await self._stored_item(article_id)):
                await self._fetch_page(source, item, state, report)

    async def _fetch_page(self, source: SourceSettings, item: FeedItem, state: PageState | None,
                          report: PollReport) -> None:
        state = state or PageState(item.article_id, item.url)
        now = self.clock()
        report.pages_fetched += 1
        try:
            result = await self.fetcher.get(item.url, etag=state.etag if state.fetched else None,
                                            last_modified=state.last_modified if state.fetched else None)
            if not result.not_modified:
                raw = extract_article(result.body, result.final_url, now=now,
                                      site_tz=ZoneInfo(source.site_timezone),
                                      selectors=source.selectors, charset=result.charset)
                article = build_article(item, raw, fetched_at=now)
                await self._save(source, article, (item.url, result.final_url), report)
            state = replace(state, url=item.url, feed_signature=feed_signature(item),
                            etag=result.etag, last_modified=result.last_modified, failures=0,
                            next_attempt_at=None, last_error=None, fetched=True)
        except (FetchError, ExtractError) as exc:
            gone = isinstance(exc, HTTPStatusError) and exc.status in (404, 410)
            if gone and state.fetched:
                await self._retract(item.article_id, report)
            elif not gone and not state.fetched and item.title:
                # upstream trouble or an unreadable page: serve the feed's version meanwhile
                # (a sitemap entry has no title, so it waits for its page)
                await self._save(source, build_article(item, None, fetched_at=now), (item.url,), report)
            state = self._page_failed(state, item, exc, report)
        await self.store.save_page_state(state)

    def _page_failed(self, state: PageState, item: FeedItem, exc: FeedsvcError,
                     report: PollReport) -> PageState:
        report.page_errors += 1
        # decoded, so an operator reads the Arabic slug in /healthz, not %D8%A7…
        report.page_error = f"{unquote(item.url)}: {reason(exc)}"
        failures = state.failures + 1
        next_attempt_at = retry_at(self.clock(), failures, base=PAGE_RETRY_BASE, cap=PAGE_RETRY_CAP)
        if isinstance(exc, HTTPStatusError) and exc.retry_after:
            # a page's 429/503 speaks for the whole host: no poll of the source before it
            report.fresh_until = later(report.fresh_until, exc.retry_after)
            next_attempt_at = max(next_attempt_at, exc.retry_after)
        log.warning("page.failed", source=item.source, article=item.article_id, url=item.url,
                    failures=failures, error=reason(exc))
        return replace(state, failures=failures, last_error=reason(exc),
                       feed_signature=feed_signature(item), next_attempt_at=next_attempt_at)

    async def _backfill(self, source: SourceSettings, state: PollState, report: PollReport
                        ) -> datetime | None:
        now = self.clock()
        if report.failed or not source.fetch_pages or not backfill_due(
                source, state.last_backfill_at, now):
            return state.last_backfill_at
        budget = max(source.max_pages_per_poll - report.pages_fetched, 0)
        items = await sitemap_items(source, self.fetcher.get, self.store, now=now, limit=budget)
        for item in items:
            await self._fetch_page(source, item, None, report)
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
            item = await self._stored_item(article_id)
            if item is not None:
                report.rechecked += 1
                await self._fetch_page(source, item, page, report)

    async def _retry_failed_pages(self, source: SourceSettings, report: PollReport) -> None:
        """Pages that failed earlier and fell out of the feed are still retried."""
        for state in await self.store.due_page_retries(source.name, self.clock(), limit=10):
            item = await self._stored_item(state.article_id)
            if item is not None:
                await self._fetch_page(source, item, state, report)

    async def _stored_item(self, article_id: str) -> FeedItem | None:
        stored = await self.store.get_article(article_id)
        if stored is None or await self.store.is_tombstoned(article_id):
            return None
        return FeedItem(source=stored.source, native_id=article_id.split(":", 1)[1],
                        url=stored.url, title=stored.title, summary=stored.summary,
                        published=stored.published, image=stored.image, section=stored.section,
                        categories=stored.tags)

    # -- store ------------------------------------------------------------------------

    async def _save(self, source: SourceSettings, article: Article, aliases: Iterable[str],
                    report: PollReport) -> None:
        """Climb the identity ladder, then store the article, or record it as a copy."""
        resolution, keys = await self.identity.resolve(article, source, self.clock())
        if resolution.article_id != article.id or await self.store.is_tombstoned(article.id):
            # a copy of a stored (or retracted) story: its keys now name the survivor
            await self.store.add_aliases(resolution.article_id,
                                         [f"id:{article.id}", *resolution.aliases_to_add, *aliases])
            report.duplicates += resolution.article_id != article.id
            log.info("article.duplicate", article=article.id, survivor=resolution.article_id,
                     rung=resolution.rung)
            return
        previous = await self.store.get_article(article.id)
        if previous is not None:
            # published never changes once known; `updated` follows the page's own
            # modified time and never goes back
            article = replace(article, published=previous.published,
                              updated=max(article.updated, previous.updated))
        if resolution.absorbed is not None:
            report.touch(set(await self.store.absorb(article.id, resolution.absorbed)))
            self.identity.forget(resolution.absorbed)
            report.duplicates += 1
            log.info("article.duplicate", article=resolution.absorbed, survivor=article.id,
                     rung=resolution.rung)
        topics = self.matcher().match(article)
        outcome = await self.store.save_article(
            article, topics, sorted({*aliases, *resolution.aliases_to_add}), keys.fingerprint)
        self.identity.remember(keys)
        if outcome is SaveOutcome.NEW:
            report.new += 1
        elif outcome is SaveOutcome.UPDATED:
            report.updated += 1
        else:
            report.unchanged += 1
            return
        for slug in topics:
            report.topic_matches[slug] = report.topic_matches.get(slug, 0) + 1
        old_topics = self.matcher().match(previous) if previous is not None else frozenset()
        report.touch(set(topics) | set(old_topics))
        await self._publish(report)

    async def _publish(self, report: PollReport, *, final: bool = False) -> None:
        """Let readers see stored articles while a long poll (a first one) goes on: the
        change channel hears of changed topics every few articles, and at the end."""
        if self.changes is None or not report.unpublished:
            return
        if final or report.unpublished >= PUBLISH_EVERY:
            topics, report.pending_topics, report.unpublished = report.pending_topics, set(), 0
            await self.changes.publish(topics)

    async def _retract(self, article_id: str, report: PollReport) -> None:
        stored = await self.store.get_article(article_id)
        self.identity.forget(article_id)
        if await self.store.retract_article(article_id, now=self.clock(),
                                            keep=self.dedupe.retractions == "keep"):
            report.retracted += 1
            report.touch(set(self.matcher().match(stored)) if stored else set())
            log.info("article.retracted", article=article_id)
