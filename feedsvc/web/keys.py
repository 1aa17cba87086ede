"""Typed keys of what the app holds: the service it serves, and the web layer's own parts."""

from __future__ import annotations

from aiohttp import web

from feedsvc.publish import ChangeStream, FeedCache, SiteDocuments
from feedsvc.service import Service
from feedsvc.web.counters import FeedCounters

SERVICE = web.AppKey("service", Service)
FEEDS = web.AppKey("feeds", FeedCache)  # the service's feed cache, on the hot path
SITE = web.AppKey("site", SiteDocuments)  # the index, OPML and topic list
STREAM = web.AppKey("stream", ChangeStream)  # /api/changes
FEED_COUNTERS = web.AppKey("feed_counters", FeedCounters)
