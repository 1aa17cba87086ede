"""The storage contract. Every backend implements :class:`Store` and passes
``tests/store/test_contract.py``.

Each method is one use case of the pipeline or the web layer; each write is one
transaction, and a time it records is passed in (a store never reads the clock), so a
process killed at any instant leaves the state before or after the write, never half
of it. Every method raises only :class:`~feedsvc.errors.StoreError` for backend failures.

Several processes may share one store (replicas on PostgreSQL; ``feedsvc poll`` beside
``feedsvc serve`` on SQLite). For them:

- every write that changes a topic's feed moves the topic's change counter
  (``topic_versions``) and change time (``TopicStats.changed_at``) in the same
  transaction, so a process that missed a notification still finds out, and every
  process gives the feed the same Last-Modified;
- every write that adds an article to a feed, changes it there or takes it out
  appends to the *change log* in the same transaction (``read_changes``): one entry per
  topic and article (the newest replaces the one before), numbered in commit order, so a
  consumer that remembers a number misses nothing and sees nothing twice;
- a *lease* (``claim_lease``) says which process runs a poll or a backfill. Its expiry
  is the one time the store takes from the database's own clock: leases are between
  processes whose clocks may differ, and the database's is the clock they share.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Protocol

from feedsvc.models import Article, DeletedEntry, FeedChange, FeedItem, PollState

ALL_TOPIC = "all"  # the reserved slug that lists every live article


class SaveOutcome(Enum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    RESTORED = "restored"  # a retracted article is live again


@dataclass(frozen=True, slots=True)
class Cursor:
    """Position in a newest-first listing: the last item's published time and id."""

    published: datetime
    article_id: str


@dataclass(frozen=True, slots=True)
class TopicStats:
    slug: str
    count: int
    updated: datetime | None  # newest `updated` among the topic's articles
    # when the topic's feed last changed, as the writers said: never goes back, and is
    # at least every `updated` the topic has held (None: never written since then)
    changed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ChangePage:
    """Changes after a position, in commit order, with where the log stands."""

    changes: tuple[FeedChange, ...]
    head: int  # the newest position written in any feed's log (0: none yet)
    # the highest position expiry dropped from this feed's log: a reader positioned
    # before it may have missed a change, cannot continue, and must read the feed again
    horizon: int
    # the highest position ever handed out, committed or not: a reader beyond it holds a
    # position from a log that was reset (a store restored from a backup)
    high_water: int


@dataclass(frozen=True, slots=True)
class Lease:
    """Who holds a named lease, and for how much longer by the database's clock."""

    name: str
    holder: str
    expires_in: timedelta


@dataclass(frozen=True, slots=True)
class PageState:
    """What the poller knows of one article page: validators, what the feed said, retries,
    and the recheck schedule. Every article feedsvc has seen has one, stored or not yet.

    A page is *pending* until it is extracted once (``fetched``): it waits for the page
    budget, or for the back-off after a failure (``next_attempt_at``). Once extracted (or
    found ``gone``), it is read again at ``next_check_at``, the next point of the recheck
    schedule; a failed re-read is retried after ``next_attempt_at``.
    """

    article_id: str
    url: str
    feed_signature: str = ""  # hash of the feed item's title/summary/date: a change means re-fetch
    etag: str | None = None
    last_modified: str | None = None
    failures: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    fetched: bool = False  # the page was extracted at least once
    # what the feed (or sitemap) said: the page can be fetched, and the article built,
    # after the item has left the feed
    item: FeedItem | None = None
    published: datetime | None = None  # orders pending pages newest first; anchors the schedule
    first_seen_at: datetime | None = None  # the feed-only grace period runs from here
    feed_only: bool = False  # the stored article is the feed's version, waiting for its page
    gone: bool = False  # the page answered 404/410 when last read: the article is tombstoned
    next_check_at: datetime | None = None  # the next scheduled re-read; None: none planned
    checks: int = 0  # re-reads after the first extraction


class Store(Protocol):
    async def open(self) -> None:
        """Connect and apply pending migrations."""

    async def close(self) -> None:
        """Wait for the write in flight, then close."""

    async def get_article(self, article_id: str) -> Article | None:
        """The stored article, live or retracted-but-kept, or None."""

    async def resolve_alias(self, key: str) -> str | None:
        """The article id an alias (canonical URL, fingerprint, old id) points at."""

    async def save_article(
        self, article: Article, topics: Collection[str], aliases: Sequence[str] = (),
        fingerprint: str | None = None, *, now: datetime, restore: bool = False,
    ) -> SaveOutcome:
        """Insert or replace the article, its topic memberships, aliases and content
        fingerprint, atomically; the topics it was or is in (and ``all``) change as of
        ``now`` (or the article's ``updated``, when later).

        An article whose ``content_hash`` and topics equal the stored ones is not written.
        ``restore`` lifts the article's tombstone in the same transaction and puts a
        retracted article back in the feeds (``RESTORED``).
        """

    async def add_aliases(self, article_id: str, keys: Sequence[str], *,
                          now: datetime | None = None) -> frozenset[str]:
        """Record more keys (URLs, ``id:<duplicate id>``) that name this article.

        A new URL among them changes the article as served (its ``aliases``): with
        ``now``, its topics and ``all`` change as of then, and are returned (empty when
        no feed changed).
        """

    async def by_fingerprint(self, fingerprint: str) -> Article | None:
        """The earliest published live article with this content fingerprint."""

    async def absorb(self, survivor_id: str, absorbed_id: str, *, now: datetime) -> frozenset[str]:
        """Fold a stored later copy into the surviving article, atomically: the copy
        leaves every feed (which change as of ``now``), and its id, URL and aliases name
        the survivor from now on.

        Returns the topics the copy was in.
        """

    async def retract_article(self, article_id: str, *, now: datetime, keep: bool = False) -> bool:
        """Take an article out of every feed and tombstone its id and aliases, as of ``now``.

        Returns False when it was not live. ``keep`` leaves it in the feeds (but tombstoned).
        """

    async def is_tombstoned(self, article_id: str) -> bool:
        """True when the article was retracted and must not come back."""

    async def topic_page(
        self, topic: str, *, limit: int, before: Cursor | None = None, since: datetime | None = None
    ) -> list[Article]:
        """Newest-first page of a topic's live articles (``all`` for every article).

        Each article's ``aliases`` are the other URLs that name it in the alias table
        (copies folded into it, URL variants), sorted, read for the whole page at once.
        """

    async def read_changes(self, topic: str, after: int, limit: int) -> ChangePage:
        """The change log of ``topic``'s feed (``all``: every live article) after
        position ``after``, oldest first, at most ``limit`` changes.

        For a topic, an article that entered the feed or changed while in it is an
        upsert, one that left it is a delete. For ``all``, any change to a live article
        (its content or its topics) is an upsert; retraction or a merge into a copy, a
        delete. The page, head and horizon are read in that order, so the head is never
        behind the page and a change expired meanwhile shows in the horizon.
        """

    async def deleted_entries(self, topic: str, limit: int) -> list[DeletedEntry]:
        """The newest ``limit`` articles that left ``topic``'s feed and are still listed
        as deleted there (``expire_changes`` ends the listing)."""

    async def expire_changes(self, *, unlist_before: datetime, drop_before: datetime,
                             now: datetime) -> frozenset[str]:
        """Stop listing deletions written before ``unlist_before`` in the feeds (their
        topics change as of ``now``) and drop log entries written before
        ``drop_before`` (moving the horizon), in one transaction.

        Returns the topics whose feeds changed.
        """

    async def topic_stats(self, topics: Sequence[str]) -> dict[str, TopicStats]:
        """Item count, last update and change time of each named topic (and ``all``)."""

    async def topic_versions(self) -> dict[str, int]:
        """The change counter of every topic that has one (``all`` included): each write
        that changes a topic's feed moves it, in the same transaction."""

    async def set_topic_members(self, members: Mapping[str, Collection[str]],
                                rules: Mapping[str, str], *, now: datetime) -> frozenset[str]:
        """Make each topic hold exactly the given live articles (a reload's backfill) and
        record the fingerprint of the rules they were matched with, in one transaction;
        the topics whose membership changed change as of ``now``.

        Returns the topics whose membership changed.
        """

    async def topic_rules(self) -> dict[str, str]:
        """Each topic's recorded rules fingerprint: a topic whose rules are unchanged
        needs no backfill (after a restart, or on another replica)."""

    async def topic_snapshot(self, digest: str) -> bytes | None:
        """The compiled topics file named ``digest``, if one was kept."""

    async def save_topic_snapshot(self, digest: str, body: bytes) -> None:
        """Keep the compiled topics file named ``digest``, in place of any older one."""

    async def drop_topic(self, topic: str, *, now: datetime) -> None:
        """Forget a removed topic's memberships and rules: its articles leave its feed,
        and change in ``all`` (their topics did), as of ``now``."""

    def iter_articles(self, batch_size: int = 500, since: datetime | None = None
                      ) -> AsyncIterator[Article]:
        """Every live article (published at or after ``since``), oldest first, in batches."""

    async def count_articles(self, source: str | None = None) -> int:
        """Live articles, of one source or of all."""

    async def get_poll_state(self, source: str) -> PollState:
        """The source's polling state; an empty state for a never-polled source."""

    async def save_poll_state(self, state: PollState) -> None: ...

    async def get_page_states(self, article_ids: Sequence[str]) -> dict[str, PageState]:
        """Page states of the given articles that have one."""

    async def save_page_state(self, state: PageState) -> None: ...

    async def pending_pages(self, source: str, now: datetime, limit: int) -> list[PageState]:
        """Pages never extracted and not gone whose next attempt is due (or was never
        set), newest ``published`` first."""

    async def due_rechecks(self, source: str, now: datetime, limit: int) -> list[PageState]:
        """Extracted (or gone) pages whose ``next_check_at`` has come and whose back-off
        after a failed read has passed, earliest check first."""

    async def claim_lease(self, name: str, holder: str, ttl: timedelta) -> bool:
        """Take the named lease for ``ttl``, or extend it if ``holder`` has it already.

        False while another holder's lease runs. Expiry is by the database's clock.
        """

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up if ``holder`` has it (anyone else's is left alone)."""

    async def leases(self) -> list[Lease]:
        """The leases that have not expired, by name."""

    async def shared_secret(self, name: str, candidate: bytes) -> bytes:
        """The secret kept under ``name``; the first call keeps ``candidate``.

        Every process on the store gets the same value, also when several make the
        first call at once (one candidate wins, atomically), and across restarts.
        """
