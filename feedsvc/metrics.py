"""Prometheus metrics, one registry per app so that tests can run several apps at once."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass(slots=True)
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    polls: Counter = field(init=False)
    articles: Counter = field(init=False)
    page_errors: Counter = field(init=False)
    poll_duration: Histogram = field(init=False)
    feed_requests: Counter = field(init=False)
    render_cache: Counter = field(init=False)
    config_reloads: Counter = field(init=False)
    scheduler_lag: Gauge = field(init=False)
    topic_matches: Counter = field(init=False)

    def __post_init__(self) -> None:
        r = self.registry
        self.polls = Counter("feedsvc_polls", "Polls by source and outcome (ok, failed).",
                             ["source", "outcome"], registry=r)
        self.articles = Counter("feedsvc_articles", "Articles by outcome: new, updated, "
                                "unchanged, retracted.", ["source", "outcome"], registry=r)
        self.page_errors = Counter("feedsvc_page_errors", "Article pages that failed to "
                                   "fetch or extract.", ["source"], registry=r)
        self.poll_duration = Histogram("feedsvc_poll_duration_seconds", "Duration of a poll.",
                                       ["source"], buckets=LATENCY_BUCKETS, registry=r)
        self.feed_requests = Counter("feedsvc_feed_requests", "Feed requests by topic, format "
                                     "and status.", ["topic", "format", "status"], registry=r)
        self.render_cache = Counter("feedsvc_render_cache", "Feed cache lookups by result "
                                    "(hit, render).", ["result"], registry=r)
        self.config_reloads = Counter("feedsvc_config_reloads", "Topic reloads by outcome.",
                                      ["outcome"], registry=r)
        self.scheduler_lag = Gauge("feedsvc_scheduler_lag_seconds", "How late the last due "
                                   "poll started.", registry=r)
        self.topic_matches = Counter("feedsvc_topic_matches", "Articles stored into a topic.",
                                     ["topic"], registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
