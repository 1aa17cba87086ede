"""Publishing: what readers and the hub get, after the store and the renderers.

    urls        PublicUrls and the route patterns: every public URL, built in one place
    cursors     opaque paging cursors (encode_cursor, decode_cursor)
    feedcache   FeedCache: each topic's pages, rendered when asked for after a change,
                single-flight, kept within a byte budget; subscribes to the change channel
    feedpages   one page of one topic, from the store to a representation
    representation  a document ready to send: body, ETag, headers; encodings made on
                first request
    lru         a cache bounded by bytes
    sitedocs    SiteDocuments: the index (paged), OPML and topic list, kept like feeds
    websub      HubPublisher: announces changed feeds to the WebSub hub through the
                fetch stage; subscribes to the change channel

Nothing here speaks HTTP to readers: ``feedsvc.web`` maps requests onto these.
"""

from feedsvc.publish.cursors import decode_cursor, encode_cursor
from feedsvc.publish.feedcache import FeedCache
from feedsvc.publish.feedpages import ALL_DESCRIPTION, ALL_TITLE, FORMATS, FeedQuery
from feedsvc.publish.representation import Representation
from feedsvc.publish.sitedocs import SiteDocuments
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
    "Representation",
    "SiteDocuments",
    "decode_cursor",
    "encode_cursor",
]
