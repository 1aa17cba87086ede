"""A polling child's metrics, sent to its server and shown in the server's /metrics.

The child's side is ``MetricsToServer`` writing lines to a buffer; the server's is its
registry taking them (``FromPoller``) and prometheus-client's parser reading the result.
"""

from __future__ import annotations

import io

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from feedsvc.metrics import POLLER_FAMILIES, Metrics
from feedsvc.scheduler.process import MetricsToServer
from tests.ops.test_metrics import Samples, value

SOURCE = "rt-arabic"


def shown(metrics: Metrics) -> Samples:
    text = metrics.render().decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


class Child:
    """A child's metrics and what it has sent, line by line."""

    def __init__(self) -> None:
        self.metrics = Metrics()
        self.metrics.prime_sources([SOURCE])
        self.stream = io.BytesIO()
        self.sender = MetricsToServer(self.metrics, self.stream)

    def lines(self) -> list[list[list[object]]]:
        return [orjson.loads(line)["metrics"] for line in self.stream.getvalue().splitlines()]

    def send_to(self, server: Metrics) -> None:
        before = len(self.lines())
        self.sender.send()
        for line in self.lines()[before:]:
            server.registry.from_poller.heard(line)


def server_metrics() -> Metrics:
    server = Metrics()
    server.prime_sources([SOURCE])
    return server


def test_the_servers_metrics_show_what_its_child_counted() -> None:
    server, child = server_metrics(), Child()
    counted = child.metrics
    counted.polls.labels(SOURCE, "ok").inc(2)
    counted.articles.labels(SOURCE, "new").inc(5)
    counted.poll_duration.labels(SOURCE).observe(1.2)
    counted.upstream_requests.labels("arabic.rt.com", "200").inc(3)
    counted.scheduler_lag.set(0.4)
    counted.topic_matches.labels("syria").inc()
    counted.websub_pings.labels("ok").inc()
    counted.renders.labels("atom").inc()  # not a polling family: the server's own
    server.websub_pings.labels("ok").inc()  # the server's own, kept
    server.renders.labels("json").inc()

    child.send_to(server)
    samples = shown(server)

    assert value(samples, "feedsvc_polls_total", source=SOURCE, outcome="ok") == 2
    assert value(samples, "feedsvc_polls_total", source=SOURCE, outcome="failed") == 0
    assert value(samples, "feedsvc_articles_total", source=SOURCE, outcome="new") == 5
    assert value(samples, "feedsvc_poll_duration_seconds_count", source=SOURCE) == 1
    assert value(samples, "feedsvc_poll_duration_seconds_sum", source=SOURCE) == 1.2
    assert value(samples, "feedsvc_poll_duration_seconds_bucket", source=SOURCE, le="1.0") == 0
    assert value(samples, "feedsvc_poll_duration_seconds_bucket", source=SOURCE, le="2.5") == 1
    assert value(samples, "feedsvc_upstream_requests_total", host="arabic.rt.com",
                 status="200") == 3
    assert value(samples, "feedsvc_scheduler_lag_seconds") == 0.4
    assert value(samples, "feedsvc_topic_matches_total", topic="syria") == 1
    assert value(samples, "feedsvc_websub_pings_total", outcome="ok") == 2
    assert value(samples, "feedsvc_renders_total", kind="json") == 1
    assert ("feedsvc_renders_total", frozenset({("kind", "atom")})) not in samples


def test_only_what_moved_is_sent_again() -> None:
    child = Child()
    child.metrics.polls.labels(SOURCE, "ok").inc()
    child.sender.send()
    child.sender.send()  # nothing moved: no line
    child.metrics.polls.labels(SOURCE, "ok").inc()
    child.sender.send()
    first, second = child.lines()
    assert ["feedsvc_polls", "feedsvc_polls_total", {"source": SOURCE, "outcome": "ok"}, 1.0] \
        in first
    assert second == [["feedsvc_polls", "feedsvc_polls_total",
                       {"source": SOURCE, "outcome": "ok"}, 2.0]]
    assert not any(sample[1].endswith("_created") for sample in first)
    assert {sample[0] for sample in first} <= POLLER_FAMILIES


def test_counters_add_up_across_children_and_a_gauge_goes_with_its_child() -> None:
    server, first = server_metrics(), Child()
    first.metrics.polls.labels(SOURCE, "ok").inc(2)
    first.metrics.poll_duration.labels(SOURCE).observe(0.3)
    first.metrics.scheduler_lag.set(0.4)
    first.metrics.lease_held.labels(f"poll:{SOURCE}").set(1)
    first.send_to(server)
    server.registry.from_poller.child_ended()

    ended = shown(server)
    assert value(ended, "feedsvc_polls_total", source=SOURCE, outcome="ok") == 2
    assert value(ended, "feedsvc_scheduler_lag_seconds") == 0  # the server's own again
    assert value(ended, "feedsvc_lease_held", lease=f"poll:{SOURCE}") == 0

    second = Child()  # a new child counts from zero: the server adds it to the first's
    second.metrics.polls.labels(SOURCE, "ok").inc()
    second.metrics.poll_duration.labels(SOURCE).observe(0.3)
    second.metrics.scheduler_lag.set(0.1)
    second.send_to(server)
    samples = shown(server)
    assert value(samples, "feedsvc_polls_total", source=SOURCE, outcome="ok") == 3
    assert value(samples, "feedsvc_poll_duration_seconds_count", source=SOURCE) == 2
    assert value(samples, "feedsvc_poll_duration_seconds_bucket", source=SOURCE, le="0.5") == 2
    assert value(samples, "feedsvc_scheduler_lag_seconds") == 0.1


@pytest.mark.parametrize("line", [
    {"not": "a list"},
    [["feedsvc_polls", "feedsvc_polls_total", {"source": SOURCE, "outcome": "ok"}, 1],
     ["feedsvc_renders", "feedsvc_renders_total", {"kind": "atom"}, 1]],  # the server's own
    [["feedsvc_polls", "feedsvc_polls_total", {"source": SOURCE, "outcome": "ok"}, 1],
     ["feedsvc_polls", "feedsvc_polls_total", {"source": 7}, 1]],
    [["feedsvc_polls", "feedsvc_articles_total", {}, 1]],  # a sample of another family
    [["feedsvc_polls", "feedsvc_polls_total", {}, "1"]],
    [["feedsvc_polls", "feedsvc_polls_total", {}]],
])
def test_a_malformed_metrics_line_is_refused_whole(line: object) -> None:
    server = server_metrics()
    with pytest.raises(ValueError, match="metrics: "):
        server.registry.from_poller.heard(line)
    assert value(shown(server), "feedsvc_polls_total", source=SOURCE, outcome="ok") == 0


def test_every_polling_family_is_a_family_of_the_registry() -> None:
    families = {family.name for family in Metrics().registry.collect()}
    assert POLLER_FAMILIES <= families
