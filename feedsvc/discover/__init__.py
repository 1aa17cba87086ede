"""Discovery stage: which articles exist, from the site's RSS feeds (and sitemap).

``parse_rss(body, ...)`` turns one feed document into :class:`~feedsvc.models.FeedItem`
values carrying the site's own article id and the canonical URL. Parsing never fetches.
"""

from feedsvc.discover.rss import RssDocument, SiteIdentity, parse_rss

__all__ = ["RssDocument", "SiteIdentity", "parse_rss"]
