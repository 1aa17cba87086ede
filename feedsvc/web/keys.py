"""Typed keys of everything the app holds, set by the cleanup contexts in ``app``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from feedsvc.config import Settings
from feedsvc.fetch import Fetcher
from feedsvc.livetopics import LiveTopics
from feedsvc.metrics import Metrics
from feedsvc.pipeline import Pipeline
from feedsvc.scheduler import Poller
from feedsvc.store import Store
from feedsvc.web.counters import FeedCounters
from feedsvc.web.feedcache import FeedCache
from feedsvc.web.websub import HubPublisher

SETTINGS = web.AppKey("settings", Settings)
CLOCK: web.AppKey[Callable[[], datetime]] = web.AppKey("clock")
METRICS = web.AppKey("metrics", Metrics)
STORE = web.AppKey("store", Store)
TOPICS = web.AppKey("topics", LiveTopics)
FEEDS = web.AppKey("feeds", FeedCache)
FEED_COUNTERS = web.AppKey("feed_counters", FeedCounters)
POLLER = web.AppKey("poller", Poller)
READY = web.AppKey("ready", dict[str, bool])
FETCHER = web.AppKey("fetcher", Fetcher)
PIPELINE = web.AppKey("pipeline", Pipeline)
HUB = web.AppKey("hub", HubPublisher)
