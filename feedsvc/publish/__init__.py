"""Publishing: what readers and the hub get, after the store and the renderers.

    urls        PublicUrls and the route patterns: every public URL, built in one place
    cursors     opaque paging cursors (encode_cursor, decode_cursor)
    feedcache   FeedCache: each topic's feed documents, rendered once a change, kept
                ready to send (bodies per encoding, ETag, headers); subscribes to the
                change channel
    websub      HubPublisher: announces changed feeds to the WebSub hub through the
                fetch stage; subscribes to the change channel

Nothing here speaks HTTP to readers: ``feedsvc.web`` maps requests onto these.
"""

from feedsvc.publish.cursors import decode_cursor, encode_cursor
from feedsvc.publish.feedcache import (
    ALL_DESCRIPTION,
    ALL_TITLE,
    FORMATS,
    FeedCache,
    FeedQuery,
    RenderedFeed,
)
from feedsvc.publish.urls import PublicUrls
from feedsvc.publish.websub import HubPublisher

__all__ = [
    "ALL_DESCRIPTION",
    "ALL_TITLE",
    "FORMATS",
    "FeedCache",
    "FeedQuery",
    "HubPublisher",
    "PublicUrls",
    "RenderedFeed",
    "decode_cursor",
    "encode_cursor",
]
