"""The public URLs of feedsvc, in one place: route patterns and the absolute links
that feeds, pages, OPML and WebSub pings carry.

``web/routes.py`` maps these patterns to handlers; everything that writes a link
builds it with :class:`PublicUrls` from the configured ``server.public_url``
(never from the request, so every replica writes the same links).
"""

from __future__ import annotations

from urllib.parse import urlencode

FEED_FORMATS = ("atom", "json")  # the subscription formats of every topic

# aiohttp route patterns: a slug has no slash or dot; the format follows the dot
FEED_ROUTE = "/feeds/{slug:[^/.]+}.{fmt:[^/]+}"
TOPIC_PAGE_ROUTE = "/topics/{slug:[^/.]+}"
INDEX_ROUTE = "/"
OPML_ROUTE = "/topics.opml"
API_TOPICS_ROUTE = "/api/topics"
API_CHANGES_ROUTE = "/api/changes"
HEALTH_ROUTE = "/healthz"
READY_ROUTE = "/readyz"
METRICS_ROUTE = "/metrics"


class PublicUrls:
    """Absolute URLs under the public base URL (no trailing slash)."""

    def __init__(self, public_url: str) -> None:
        self.base = public_url.rstrip("/")

    def document(self, slug: str, fmt: str, *, limit: int | None = None,
                 cursor: str | None = None) -> str:
        """A topic's document in ``fmt`` (``atom``, ``json``, or ``html``: its page);
        ``limit`` and ``cursor`` only when given."""
        params: dict[str, str] = {}
        if limit is not None:
            params["limit"] = str(limit)
        if cursor:
            params["cursor"] = cursor
        query = f"?{urlencode(params)}" if params else ""
        path = f"/topics/{slug}" if fmt == "html" else f"/feeds/{slug}.{fmt}"
        return f"{self.base}{path}{query}"

    def feed(self, slug: str, fmt: str) -> str:
        """A topic's subscription document."""
        return self.document(slug, fmt)

    def topic_page(self, slug: str) -> str:
        """A topic's HTML page for people."""
        return self.document(slug, "html")

    def index(self, anchor: str | None = None) -> str:
        return f"{self.base}/#{anchor}" if anchor else f"{self.base}/"

    def index_page(self, page: int) -> str:
        """A page of the index: the first is the index itself."""
        return self.index() if page <= 1 else f"{self.base}/?page={page}"

    def opml(self) -> str:
        return f"{self.base}/topics.opml"
