"""What one poll did: counts, errors and the topics it changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


@dataclass(slots=True)
class PollReport:
    source: str
    started_at: datetime
    feeds_ok: int = 0
    feeds_not_modified: int = 0
    feed_errors: list[str] = field(default_factory=list)
    items: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    retracted: int = 0
    restored: int = 0  # retracted articles whose page answered again
    duplicates: int = 0
    rechecked: int = 0  # pages read again because their article left a feed early
    rechecks: dict[str, int] = field(default_factory=dict)  # pages read again, by outcome
    backfilled: int = 0
    pages_fetched: int = 0
    page_errors: int = 0
    deferred: int = 0
    fetched_ids: set[str] = field(default_factory=set)  # articles whose page this poll read
    changed_topics: set[str] = field(default_factory=set)
    unpublished: int = 0  # stored changes the render cache has not heard of yet
    pending_topics: set[str] = field(default_factory=set)  # … and the topics they touched
    # when the change channel last heard of this poll's changes: the first is told at once
    published_at: datetime = field(default=datetime.min.replace(tzinfo=UTC))
    topic_matches: dict[str, int] = field(default_factory=dict)  # new or updated, per topic
    page_error: str | None = None  # the last page failure's reason, for /healthz
    ttl: timedelta | None = None
    fresh_until: datetime | None = None

    def touch(self, topics: set[str]) -> None:
        """Record a stored change to these topics (and to ``all``)."""
        topics = topics | {"all"}
        self.changed_topics |= topics
        self.pending_topics |= topics
        self.unpublished += 1

    def recheck(self, outcome: str) -> None:
        """Count one page read again (``feedsvc.metrics.RECHECK_OUTCOMES``)."""
        self.rechecks[outcome] = self.rechecks.get(outcome, 0) + 1

    @property
    def failed(self) -> bool:
        """Every feed of the source failed: nothing was learnt."""
        return bool(self.feed_errors) and self.feeds_ok + self.feeds_not_modified == 0

    @property
    def error(self) -> str | None:
        return "; ".join(self.feed_errors) or None
