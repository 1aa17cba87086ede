"""The replica's state: which articles are out, how they read, what the site is told to do.

``ReplicaSite`` loads the article data once and keeps every change a test makes
(publish, edit, retract, markup, robots, faults) in memory; ``reset()`` goes back
to the data file. The web layer asks it what to serve; it never renders.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from feedsvc.replica.articles import (
    Frame,
    Markup,
    ReplicaArticle,
    article_path,
    canonical_url,
    expected_extraction,
    load_articles,
)
from feedsvc.replica.faults import Fault, FaultPlan

DEFAULT_DATA = Path(__file__).parent / "data" / "articles.json"
SITE_FEED_SIZE = 40
SECTION_FEED_SIZE = 20
LISTING_PAGE_SIZE = 10
READ_MORE_SIZE = 8
REQUEST_LOG_SIZE = 10_000


def utc_now() -> datetime:
    return datetime.now(UTC)


class UnknownArticle(KeyError):
    """The id names no article of the replica data."""


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """One request the site answered; ``headers`` keeps the ones tests look at."""

    method: str
    path: str  # path and query string as asked
    status: int
    headers: Mapping[str, str]


class ReplicaSite:
    """The offline RT Arabic: articles, their publication state and the test switches."""

    def __init__(
        self,
        data_path: Path = DEFAULT_DATA,
        base_url: str = "http://127.0.0.1:8081",
        mirror_hosts: Iterable[str] = ("http://localhost:{port}",),
        clock: Callable[[], datetime] = utc_now,
        time_shift: timedelta = timedelta(0),
        feed_size: int = SITE_FEED_SIZE,
    ) -> None:
        """``time_shift`` moves every article's times (the demo moves the newest to today,
        so topics with a ``max_age`` stay filled whatever the date; ids keep their values).
        ``feed_size`` is how many of the newest articles the site feed lists (40, as on the
        real site); a larger one lets one poll see a large data file whole, as
        ``bench/scale.py`` does for its ingest of over 1,000 articles."""
        if feed_size < 1:
            raise ValueError(f"the site feed lists at least one article, not {feed_size}")
        self.base_url = base_url.rstrip("/")
        self.feed_size = feed_size
        self.clock = clock
        self._mirror_templates = tuple(mirror_hosts)
        self.timezone, self.section_names, originals = load_articles(Path(data_path))
        self._originals = {
            article_id: dataclasses.replace(article, published=article.published + time_shift,
                                            modified=article.modified + time_shift)
            for article_id, article in originals.items()}
        self.faults = FaultPlan()
        # Bounded so a long demo run does not grow without end; tests see far fewer.
        self.requests: deque[LoggedRequest] = deque(maxlen=REQUEST_LOG_SIZE)
        self.reset()

    # --- switches -------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the data file: held articles unpublished, no faults, empty request log."""
        self._articles = dict(self._originals)
        self._published = {a.id for a in self._originals.values() if not a.held}
        self._retracted: dict[int, int] = {}
        self._markup = Markup()
        self._markup_by_article: dict[int, Markup] = {}
        self._undated: set[int] = set()  # pages whose template declares no modified time
        self._markup_changed_at = datetime.min.replace(tzinfo=UTC)
        self.robots_allowed = True
        self.crawl_delay: float | None = 1.0
        self.faults.clear()
        self.requests.clear()
        out_now = [a.modified for a in self._originals.values() if a.id in self._published]
        self.changed_at = max(out_now, default=self.clock())

    def publish(self, article_id: int) -> ReplicaArticle:
        article = self._known(article_id)
        self._published.add(article_id)
        self._retracted.pop(article_id, None)
        self._touch()
        return article

    def publish_next(self) -> ReplicaArticle | None:
        """Publish the held article that comes first by publication time, if any is left."""
        held = self.unpublished()
        return self.publish(held[0]) if held else None

    def edit(self, article_id: int, title: str | None = None,
             paragraphs: Iterable[str] | None = None, lead: str | None = None,
             modified: datetime | None = None, declare_modified: bool = True) -> ReplicaArticle:
        """Change an article; ``modified`` (default: now) is when. ``declare_modified=False``
        serves the edited page from a template that declares no modified time (its
        JSON-LD and OpenGraph say only when it was published), as older templates do;
        an edit with it True declares the time again."""
        article = self._known(article_id)
        if declare_modified:
            self._undated.discard(article_id)
        else:
            self._undated.add(article_id)
        changes: dict[str, Any] = {"modified": modified or self.clock()}
        if title is not None:
            changes["title"] = title
        if lead is not None:
            changes["lead"] = lead
        if paragraphs is not None:
            changes["paragraphs"] = tuple(paragraphs)
        self._articles[article_id] = dataclasses.replace(article, **changes)
        self._touch()
        return self._articles[article_id]

    def retract(self, article_id: int, status: int = 404) -> None:
        if status not in (404, 410):
            raise ValueError(f"a retracted article answers 404 or 410, not {status}")
        self._known(article_id)
        self._retracted[article_id] = status
        self._touch()

    def set_markup(self, jsonld: bool = True, opengraph: bool = True,
                   article_id: int | None = None) -> None:
        """Switch the JSON-LD and OpenGraph blocks for every page, or for one article."""
        markup = Markup(jsonld=jsonld, opengraph=opengraph)
        if article_id is None:
            self._markup = markup
        else:
            self._known(article_id)
            self._markup_by_article[article_id] = markup
        self._touch()
        self._markup_changed_at = self.changed_at

    def set_robots(self, allowed: bool, crawl_delay: float | None = 1.0) -> None:
        """Allow or disallow everything; ``crawl_delay`` None leaves the line out."""
        self.robots_allowed = allowed
        self.crawl_delay = crawl_delay

    def inject(self, fault: str, path_glob: str = "*", times: int | None = None,
               **params: Any) -> Fault:
        return self.faults.arm(fault, path_glob, times, params)

    def clear_faults(self) -> None:
        self.faults.clear()

    # --- what the site shows ----------------------------------------------------------

    @property
    def frame(self) -> Frame:
        return Frame(self.base_url, self.timezone, self.section_names)

    @property
    def mirror_bases(self) -> tuple[str, ...]:
        port = urlsplit(self.base_url).port or 80
        return tuple(t.format(port=port).rstrip("/") for t in self._mirror_templates)

    @property
    def sections(self) -> tuple[str, ...]:
        return tuple(sorted({a.section for a in self._articles.values()}))

    def article(self, article_id: int) -> ReplicaArticle | None:
        """The article if it is out now (published and not retracted)."""
        if article_id in self._published and article_id not in self._retracted:
            return self._articles.get(article_id)
        return None

    def known_ids(self) -> frozenset[int]:
        """Every id of the data, out or not."""
        return frozenset(self._articles)

    def unpublished(self) -> list[int]:
        """Held articles not yet published, first by publication time."""
        held = [a for a in self._articles.values() if a.id not in self._published]
        return [a.id for a in sorted(held, key=lambda a: (a.published, a.id))]

    def retraction_status(self, article_id: int) -> int | None:
        return self._retracted.get(article_id)

    def markup_for(self, article_id: int) -> Markup:
        markup = self._markup_by_article.get(article_id, self._markup)
        if article_id in self._undated:
            markup = dataclasses.replace(markup, modified_time=False)
        return markup

    def newest(self, section: str | None = None, limit: int | None = None) -> list[ReplicaArticle]:
        out = [a for a in self._articles.values() if self.article(a.id)]
        out = [a for a in out if section is None or a.section == section]
        out.sort(key=lambda a: (a.published, a.id), reverse=True)
        return out[:limit]

    def site_feed(self) -> list[tuple[ReplicaArticle, str]]:
        return [(a, canonical_url(self.frame, a)) for a in self.newest(None, self.feed_size)]

    def section_feed(self, section: str) -> list[tuple[ReplicaArticle, str]]:
        # Longer than 20 when the site feed holds more of this section: every article of
        # the site feed must be in its section feed too, as on the real site.
        in_site_feed = sum(a.section == section for a in self.newest(None, self.feed_size))
        limit = max(SECTION_FEED_SIZE, in_site_feed)
        return [(a, self.variant_url(a)) for a in self.newest(section, limit)]

    def variant_url(self, article: ReplicaArticle) -> str:
        """Section feeds name articles the many ways the real site does; the id decides which."""
        kind = article.id % 4
        if kind == 1:
            return self.base_url + article_path(article, encoded=False)
        if kind == 2:
            return self.base_url + article_path(article, slash=False)
        if kind == 3 and self.mirror_bases:
            return self.mirror_bases[0] + article_path(article)
        return canonical_url(self.frame, article)

    def read_more(self, article_id: int) -> list[ReplicaArticle]:
        others = [a for a in self.newest(None, READ_MORE_SIZE + 1) if a.id != article_id]
        return others[:READ_MORE_SIZE]

    def listing_page(self, page: int) -> list[ReplicaArticle]:
        start = page * LISTING_PAGE_SIZE
        return self.newest()[start:start + LISTING_PAGE_SIZE]

    def sitemap_months(self) -> list[tuple[str, datetime]]:
        months: dict[str, datetime] = {}
        for article in self.newest():
            month = self._month(article)
            months[month] = max(months.get(month, article.modified), article.modified)
        return sorted(months.items(), reverse=True)

    def sitemap_month(self, month: str) -> list[ReplicaArticle]:
        return [a for a in self.newest() if self._month(a) == month]

    def page_last_modified(self, article: ReplicaArticle) -> datetime:
        return max(article.modified, self._markup_changed_at)

    def ground_truth(self, article_id: int) -> dict[str, Any]:
        """What a correct extractor reads from the article's page as it is served now."""
        return expected_extraction(self.frame, self._known(article_id), self.markup_for(article_id))

    # --- internals --------------------------------------------------------------------

    def _known(self, article_id: int) -> ReplicaArticle:
        try:
            return self._articles[article_id]
        except KeyError:
            raise UnknownArticle(f"no article {article_id} in the replica data") from None

    def _touch(self) -> None:
        # Strictly later each time, so If-Modified-Since sees every change even when a
        # test's clock stands still (HTTP dates count whole seconds).
        self.changed_at = max(self.clock(), self.changed_at + timedelta(seconds=1))

    def _month(self, article: ReplicaArticle) -> str:
        return article.published.astimezone(self.timezone).strftime("%Y-%m")
