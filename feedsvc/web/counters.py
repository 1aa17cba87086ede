"""Per-request metrics of the feed route, counted in plain integers.

A Prometheus ``Counter.inc()`` takes a lock; on the fast path two of them were a
third of a cached request's handler time. The route counts into integers here
and :meth:`FeedCounters.flush` moves the counts into the Prometheus counters
when ``/metrics`` is scraped, so the exported series are the same.
"""

from __future__ import annotations

from feedsvc.metrics import Metrics


class FeedCounters:
    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._hits = 0
        self._misses = 0
        self._requests: dict[tuple[str, str, int], int] = {}

    def hit(self) -> None:
        self._hits += 1

    def miss(self) -> None:
        self._misses += 1

    def request(self, slug: str, fmt: str, status: int) -> None:
        """Count a feed response; ``slug`` and ``fmt`` are known values, so series stay few."""
        key = (slug, fmt, status)
        self._requests[key] = self._requests.get(key, 0) + 1

    def flush(self) -> None:
        """Add what was counted since the last flush to the Prometheus counters."""
        metrics = self._metrics
        hits, misses, requests = self._hits, self._misses, self._requests
        self._hits, self._misses, self._requests = 0, 0, {}
        if hits:
            metrics.render_cache.labels("hit").inc(hits)
        if misses:
            metrics.render_cache.labels("render").inc(misses)
        for (slug, fmt, status), count in requests.items():
            metrics.feed_requests.labels(slug, fmt, str(status)).inc(count)
