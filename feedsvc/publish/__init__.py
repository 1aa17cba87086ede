"""Publishing: what readers and the hub get, after the store and the renderers.

    urls        PublicUrls and the route patterns: every public URL, built in one place
    cursors     signed paging cursors and change stream positions (Cursors,
                load_cursors: the key kept in the store)
    changestream  ChangeStream: a feed's changes after a position (/api/changes)
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

from feedsvc.publish.changestream import ChangeStream
from feedsvc.publish.cursors import Cursors, load_cursors
from feedsvc.publish.feedcache import FeedCache
from feedsvc.publish.feedpages import ALL_DESCRIPTION, ALL_TITLE, FORMATS, FeedQuery
from feedsvc.publish.representation import Representation
from feedsvc.publish.sitedocs import SiteDocuments
from feedsvc.publish.urls import PublicUrls
from feedsvc.publish.websub import HubPublisher

__all__ = [
    "ALL_DESCRIPTION",
    "ALL_TITLE",
    "ChangeStream",
    "Cursors",
    "FORMATS",
    "FeedCache",
    "FeedQuery",
    "HubPublisher",
    "PublicUrls",
    "Representation",
    "SiteDocuments",
    "load_cursors",
]
