"""Prometheus metrics, one registry per app so that tests can run several apps at once.

Every series is listed in ``docs/operations.md``. Labels only ever take values from
the configuration or a fixed set (source names, topic slugs, formats, statuses, error
kinds, upstream hosts), so the number of series stays small.

``Metrics`` is also the fetcher's observer (``on_response``/``on_error``), which keeps
``feedsvc.fetch`` free of any metrics import.

With ``scheduler.poller_process`` the polls run in a child of the server, which has no
``/metrics`` of its own: it sends the samples of ``POLLER_FAMILIES`` that moved
(:meth:`Metrics.poller_samples`) to the server, whose registry shows them with its own
(:class:`FromPoller`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest
from prometheus_client.metrics_core import Metric

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
POLL_OUTCOMES = ("ok", "partial", "failed")
ARTICLE_OUTCOMES = ("new", "updated", "unchanged", "duplicate", "retracted", "restored")
# what reading a known article page again found (feedsvc.pipeline.decide.recheck_outcome)
RECHECK_OUTCOMES = ("not_modified", "unchanged", "changed", "gone", "restored", "failed")
RELOAD_OUTCOMES = ("ok", "failed")
LAG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DELIVERY_ORIGINS = ("local", "remote")
CATCH_UP_RESULTS = ("unchanged", "moved", "failed")
DROP_REASONS = ("refused", "evicted", "head_timeout", "send_timeout")
HTTP_ERROR_KINDS = ("bad_request", "accept_failed", "connection_failed", "internal_error")
# what a polling child counts (scheduler.poller_process) and its server shows: polls,
# articles, upstream requests, leases, the notifications it sends, the hub's pings
POLLER_FAMILIES = frozenset({
    "feedsvc_polls", "feedsvc_articles", "feedsvc_page_errors", "feedsvc_page_rechecks",
    "feedsvc_poll_duration_seconds", "feedsvc_upstream_requests",
    "feedsvc_upstream_request_duration_seconds", "feedsvc_upstream_cooling_until_seconds",
    "feedsvc_scheduler_lag_seconds", "feedsvc_topic_matches", "feedsvc_websub_pings",
    "feedsvc_lease_held", "feedsvc_leases_lost", "feedsvc_change_notifications"})
CUMULATIVE = frozenset({"counter", "histogram", "summary"})
Labels = tuple[tuple[str, str], ...]
Sample = tuple[str, Labels]  # a sample's name (feedsvc_polls_total) and labels


class FromPoller:
    """What the polling child counted, held by its server for ``/metrics``.

    The child sends ``[family, sample, labels, value]`` for each sample that moved since
    it last sent (``heard``). The server's own samples of those families stay (a hub
    ping or an upstream request the server made itself); the child's are added to them.
    Counters and histograms add up across children: when one ends (``child_ended``),
    its last figures are kept, so a restart never makes a series go down. A gauge is
    the running child's, and goes with it.
    """

    def __init__(self) -> None:
        self.current: dict[str, dict[Sample, float]] = {}
        self.ended: dict[str, dict[Sample, float]] = {}

    def heard(self, samples: object) -> None:
        """Take a line's samples; raises ValueError, taking none, if any is malformed."""
        if not isinstance(samples, list):
            raise ValueError("metrics: not a list of samples")
        taken: list[tuple[str, Sample, float]] = []
        for item in samples:
            match item:
                case [str(family), str(name), dict(labels), int() | float() as value] if (
                        family in POLLER_FAMILIES and name.startswith(family)
                        and all(isinstance(v, str) for v in labels.values())):
                    taken.append((family, (name, tuple(sorted(labels.items()))), float(value)))
                case _:
                    raise ValueError(f"metrics: not a sample of a polling family: {item!r:.100}")
        for family, sample, value in taken:
            self.current.setdefault(family, {})[sample] = value

    def child_ended(self) -> None:
        for family, samples in self.current.items():
            kept = self.ended.setdefault(family, {})
            for sample, value in samples.items():
                kept[sample] = kept.get(sample, 0.0) + value
        self.current = {}

    def merged(self, family: Metric) -> Metric:
        """``family`` as this process counted it, with the child's samples added."""
        sources = [self.current.get(family.name)]
        if family.type in CUMULATIVE:
            sources.append(self.ended.get(family.name))
        children = [s for s in sources if s]
        if not children:
            return family
        values: dict[Sample, float] = {}
        for s in family.samples:
            values[(s.name, tuple(sorted(s.labels.items())))] = s.value
        for child in children:
            for sample, value in child.items():
                if family.type in CUMULATIVE:
                    values[sample] = values.get(sample, 0.0) + value
                else:  # the running child's gauge, not a sum
                    values[sample] = value
        shown = Metric(family.name, family.documentation, family.type, family.unit)
        for (name, labels), value in values.items():
            shown.add_sample(name, dict(labels), value)
        return shown


class Registry(CollectorRegistry):
    """The server's registry: each family as this process counts it, plus what its polling
    child counted (``from_poller``; nothing without one)."""

    def __init__(self) -> None:
        super().__init__()
        self.from_poller = FromPoller()

    def collect(self) -> Iterator[Metric]:
        for family in super().collect():
            yield self.from_poller.merged(family)


@dataclass(slots=True)
class Metrics:
    registry: Registry = field(default_factory=Registry)
    polls: Counter = field(init=False)
    articles: Counter = field(init=False)
    page_errors: Counter = field(init=False)
    page_rechecks: Counter = field(init=False)
    poll_duration: Histogram = field(init=False)
    poll_paused: Counter = field(init=False)
    upstream_requests: Counter = field(init=False)
    upstream_duration: Histogram = field(init=False)
    feed_requests: Counter = field(init=False)
    render_cache: Counter = field(init=False)
    config_reloads: Counter = field(init=False)
    scheduler_lag: Gauge = field(init=False)
    upstream_cooling: Gauge = field(init=False)
    websub_pings: Counter = field(init=False)
    renders: Counter = field(init=False)
    cache_bytes: Gauge = field(init=False)
    topic_matches: Counter = field(init=False)
    replica: Info = field(init=False)
    lease_held: Gauge = field(init=False)
    leases_lost: Counter = field(init=False)
    change_notifications: Counter = field(init=False)
    change_deliveries: Counter = field(init=False)
    change_catch_ups: Counter = field(init=False)
    change_lag: Histogram = field(init=False)
    change_listener_up: Gauge = field(init=False)
    poller_process_up: Gauge = field(init=False)
    poller_process_exits: Counter = field(init=False)
    http_connections: Gauge = field(init=False)
    http_dropped: Counter = field(init=False)
    http_errors: Counter = field(init=False)

    def __post_init__(self) -> None:
        r = self.registry
        self.polls = Counter("feedsvc_polls", "Polls by source and outcome: ok, partial (some "
                             "article pages failed), failed (every feed failed).",
                             ["source", "outcome"], registry=r)
        self.articles = Counter("feedsvc_articles", "Articles by outcome: new, updated, "
                                "unchanged, duplicate, retracted, restored.",
                                ["source", "outcome"], registry=r)
        self.page_errors = Counter("feedsvc_page_errors", "Article pages that failed to "
                                   "fetch or extract.", ["source"], registry=r)
        self.page_rechecks = Counter(
            "feedsvc_page_rechecks", "Article pages read again (recheck schedule, refresh "
            "window, an article leaving a feed early) by outcome: not_modified (304), "
            "unchanged, changed, gone (404/410: retracted), restored, failed.",
            ["source", "outcome"], registry=r)
        self.poll_duration = Histogram("feedsvc_poll_duration_seconds", "Duration of a poll.",
                                       ["source"], buckets=LATENCY_BUCKETS, registry=r)
        self.poll_paused = Counter(
            "feedsvc_poll_paused_seconds", "Seconds polls rested between pages to give way "
            "to requests being answered (scheduler.share_while_serving).", registry=r)
        self.upstream_requests = Counter(
            "feedsvc_upstream_requests", "Requests that reached an upstream, by host and "
            "status (the HTTP status, or timeout, too_large, incomplete, not_allowed, network).",
            ["host", "status"], registry=r)
        self.upstream_duration = Histogram(
            "feedsvc_upstream_request_duration_seconds", "Upstream request time, to the end "
            "of the body or the error.", ["host"], buckets=LATENCY_BUCKETS, registry=r)
        self.feed_requests = Counter("feedsvc_feed_requests", "Feed requests by topic, format "
                                     "and status.", ["topic", "format", "status"], registry=r)
        self.render_cache = Counter("feedsvc_render_cache", "Feed cache lookups by result "
                                    "(hit, render).", ["result"], registry=r)
        self.config_reloads = Counter("feedsvc_config_reloads", "Topic reloads by outcome.",
                                      ["outcome"], registry=r)
        self.upstream_cooling = Gauge(
            "feedsvc_upstream_cooling_until_seconds", "Unix time before which nothing is "
            "sent to the host (its last 429/503 Retry-After); 0 or a past time: none.",
            ["host"], registry=r)
        self.scheduler_lag = Gauge("feedsvc_scheduler_lag_seconds", "How late the last due "
                                   "poll started.", registry=r)
        self.topic_matches = Counter("feedsvc_topic_matches", "Articles stored (new or "
                                     "updated) into a topic.", ["topic"], registry=r)
        self.websub_pings = Counter("feedsvc_websub_pings", "Feed URLs announced to the "
                                    "WebSub hub, by outcome (ok, failed).", ["outcome"],
                                    registry=r)
        self.renders = Counter("feedsvc_renders", "Documents rendered, by kind: atom, json, "
                               "html (topic pages), index, opml, api (the topic list).",
                               ["kind"], registry=r)
        self.cache_bytes = Gauge("feedsvc_render_cache_bytes", "Bytes held by rendered "
                                 "feeds and pages (every encoding).", registry=r)
        self._replicas(r)
        self.http_connections = Gauge(
            "feedsvc_http_connections", "Client connections open, by state: idle (waiting for "
            "a request head) or busy (a request being handled, or a response waiting for its "
            "client to read).", ["state"], registry=r)
        self.http_dropped = Counter(
            "feedsvc_http_connections_dropped", "Client connections closed by a limit: refused "
            "(at max_connections, none idle), evicted (idle, to make room), head_timeout, "
            "send_timeout.", ["reason"], registry=r)
        self.http_errors = Counter(
            "feedsvc_http_errors", "Errors of client connections, by kind: bad_request (a "
            "malformed request), accept_failed, connection_failed, internal_error.", ["kind"],
            registry=r)
        for outcome in RELOAD_OUTCOMES:
            self.config_reloads.labels(outcome)
        for reason in DROP_REASONS:
            self.http_dropped.labels(reason)
        for kind in HTTP_ERROR_KINDS:
            self.http_errors.labels(kind)
        for outcome in ("ok", "failed"):
            self.websub_pings.labels(outcome)

    def _replicas(self, r: CollectorRegistry) -> None:
        """What replicas sharing one database show: leases, and the change channel."""
        self.replica = Info("feedsvc_replica", "This process's holder id (host:pid:random), "
                            "as leases and change notifications name it.", registry=r)
        self.lease_held = Gauge("feedsvc_lease_held", "1 while this process holds the lease "
                                "(poll:<source>, topics:backfill), else 0.", ["lease"], registry=r)
        self.leases_lost = Counter("feedsvc_leases_lost", "Leases this process lost while "
                                   "working (it could not renew in time; another took over).",
                                   ["lease"], registry=r)
        self.change_notifications = Counter(
            "feedsvc_change_notifications", "Change notifications (LISTEN/NOTIFY messages) "
            "sent by this process, and received from other processes.", ["direction"],
            registry=r)
        self.change_deliveries = Counter(
            "feedsvc_change_deliveries", "Changed-topic sets handed to the render cache: "
            "local (this process's own changes) or remote (notifications and catch-up "
            "reads, coalesced).", ["origin"], registry=r)
        self.change_catch_ups = Counter(
            "feedsvc_change_catch_ups", "Periodic reads of the topics' change counters, by "
            "result: unchanged; moved (by any process: those topics are rendered once more, "
            "so a missed notification converges); failed.",
            ["result"], registry=r)
        self.change_lag = Histogram(
            "feedsvc_change_notification_lag_seconds", "From a notification's NOTIFY to its "
            "arrival here, by the database's clock.", buckets=LAG_BUCKETS, registry=r)
        self.change_listener_up = Gauge(
            "feedsvc_change_listener_up", "1 while the LISTEN connection for change "
            "notifications is up (PostgreSQL only), else 0.", registry=r)
        self.poller_process_up = Gauge(
            "feedsvc_poller_process_up", "1 while the polling process of this server runs "
            "(scheduler.poller_process), else 0.", registry=r)
        self.poller_process_exits = Counter(
            "feedsvc_poller_process_exits", "Times the polling process exited or could not "
            "be started while the server ran (it is started again).", registry=r)
        for direction in ("sent", "received"):
            self.change_notifications.labels(direction)
        for origin in DELIVERY_ORIGINS:
            self.change_deliveries.labels(origin)
        for result in CATCH_UP_RESULTS:
            self.change_catch_ups.labels(result)

    def prime_sources(self, names: Iterable[str]) -> None:
        """Create every source's series at zero, so a rate() sees the first increment."""
        for name in names:
            for outcome in POLL_OUTCOMES:
                self.polls.labels(name, outcome)
            for outcome in ARTICLE_OUTCOMES:
                self.articles.labels(name, outcome)
            self.page_errors.labels(name)
            for outcome in RECHECK_OUTCOMES:
                self.page_rechecks.labels(name, outcome)

    # -- the fetcher's observer -------------------------------------------------------

    def on_response(self, host: str, status: int, seconds: float) -> None:
        self.upstream_requests.labels(host, str(status)).inc()
        self.upstream_duration.labels(host).observe(seconds)

    def on_error(self, host: str, kind: str, seconds: float) -> None:
        self.upstream_requests.labels(host, kind).inc()
        self.upstream_duration.labels(host).observe(seconds)

    def on_cool_down(self, host: str, until: datetime) -> None:
        self.upstream_cooling.labels(host).set(until.timestamp())

    # -- the config reload hook -------------------------------------------------------

    def on_reload(self, applied: bool) -> None:
        self.config_reloads.labels("ok" if applied else "failed").inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)

    # -- a polling child and its server -----------------------------------------------

    def poller_samples(self) -> dict[tuple[str, Sample], float]:
        """This process's samples of ``POLLER_FAMILIES``, by family and sample (the
        child's side; ``_created`` left out: the server keeps its own)."""
        return {(family.name, (s.name, tuple(sorted(s.labels.items())))): s.value
                for family in CollectorRegistry.collect(self.registry)
                if family.name in POLLER_FAMILIES
                for s in family.samples if not s.name.endswith("_created")}
