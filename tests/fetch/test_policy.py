"""FetchPolicy: defaults, help text for every field, and validation."""

from __future__ import annotations

from datetime import timedelta

import pytest

from feedsvc.errors import ConfigError
from feedsvc.fetch import FetchPolicy
from feedsvc.policy import help_lines, setting_fields


def test_defaults_are_polite() -> None:
    policy = FetchPolicy()
    assert (policy.per_host_concurrency, policy.min_host_delay, policy.respect_robots) == (2, 1.0, True)
    assert (policy.max_body_size, policy.max_redirects) == (5 * 1024 * 1024, 5)
    assert (policy.connect_timeout, policy.read_timeout, policy.total_timeout) == (10, 20, 60)
    assert policy.robots_ttl == timedelta(hours=1)


def test_every_field_has_help() -> None:
    help_text = help_lines(FetchPolicy)
    assert list(help_text) == [f.name for f in setting_fields(FetchPolicy)]
    assert all(line and "\n" not in line for line in help_text.values())


def test_user_agent_names_service_and_contact() -> None:
    assert FetchPolicy().user_agent_header == "feedsvc/0.1"
    policy = FetchPolicy(contact_url="https://ops.example/feedsvc")
    assert policy.user_agent_header == "feedsvc/0.1 (+https://ops.example/feedsvc)"


def test_invalid_values_name_key_value_and_reason() -> None:
    with pytest.raises(ConfigError) as caught:
        FetchPolicy(read_timeout=0, per_host_concurrency=0, user_agent="feed svc")
    assert caught.value.problems == [
        "fetch.read_timeout: 0: must be greater than 0",
        "fetch.per_host_concurrency: 0: must be at least 1",
        "fetch.user_agent: 'feed svc': must be one product token",
    ]
