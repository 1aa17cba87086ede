"""Typed keys of everything the app holds, set by the cleanup contexts in ``app``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from feedsvc.config import Settings
from feedsvc.livetopics import LiveTopics
from feedsvc.metrics import Metrics
from feedsvc.scheduler import Poller
from feedsvc.store import Store
from feedsvc.web.counters import FeedCounters
from feedsvc.web.feedcache import FeedCache

SETTINGS = web.AppKey("settings", Settings)
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("clock")
METRICS = web.AppKey("metrics", Metrics)
STORE = web.AppKey("store", Store)
TOPICS = web.AppKey("topics", LiveTopics)
FEEDS = web.AppKey("feeds", FeedCache)
FEED_COUNTERS = web.AppKey("feed_counters", FeedCounters)
POLLER = web.AppKey("poller", Poller)
READY = web.AppKey("ready", dict[str, bool])
