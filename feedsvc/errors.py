"""The one exception tree of feedsvc.

Third-party errors are wrapped once, where they cross into feedsvc
(``raise FetchError(url, ...) from exc``), so no aiohttp, sqlite or parser
exception leaks into the pipeline. The web layer turns these into HTTP
responses in exactly one place (``feedsvc.web.dispatch``).

::

    FeedsvcError
    ├── ConfigError                 settings file or environment is invalid
    │   └── TopicConfigError        topics file or a topic query is invalid
    ├── FetchError                  a request to an upstream failed
    │   ├── FetchTimeout            connect/read/total timeout
    │   ├── HTTPStatusError         upstream answered 4xx/5xx (has .status, .retry_after)
    │   ├── BodyTooLarge            response exceeded the size limit
    │   ├── TooManyRedirects        redirect limit reached or a loop
    │   └── NotAllowed              host not configured, private address, robots.txt
    ├── ParseError                  a feed document could not be read at all
    ├── ExtractError                an article page yielded no usable article
    ├── StoreError                  the storage backend failed
    ├── QueryError                  a topic query string is malformed (has .position)
    ├── BadRequest                  a client's request is invalid: answered 400, with why
    └── Expired                     a client's position is no longer served: answered 410
"""

from __future__ import annotations

from datetime import datetime


class FeedsvcError(Exception):
    """Root of every error feedsvc raises on purpose."""


class ConfigError(FeedsvcError):
    """Invalid configuration; ``problems`` holds one ``file:line: key: reason`` per fault."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


class TopicConfigError(ConfigError):
    """Invalid topics file; messages read ``file:line:column: reason``."""


class FetchError(FeedsvcError):
    """A request to an upstream failed; ``url`` is the URL asked for."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class FetchTimeout(FetchError):
    """The request exceeded a connect, read or total timeout."""


class HTTPStatusError(FetchError):
    """Upstream answered with an error status."""

    def __init__(self, url: str, status: int, retry_after: datetime | None = None) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(url, f"HTTP {status}")


class BodyTooLarge(FetchError):
    """The response body exceeded the configured maximum size."""


class TooManyRedirects(FetchError):
    """The redirect limit was reached or a redirect loop was seen."""


class NotAllowed(FetchError):
    """The target is not an allowed host/address, or robots.txt disallows it."""


class ParseError(FeedsvcError):
    """A feed document (RSS, sitemap) could not be read at all."""


class ExtractError(FeedsvcError):
    """An article page yielded no usable article (no title, no body, garbage)."""


class StoreError(FeedsvcError):
    """The storage backend failed; the write it belonged to was rolled back."""


class QueryError(FeedsvcError):
    """A topic query is malformed; ``position`` is the 0-based character offset."""

    def __init__(self, reason: str, position: int) -> None:
        self.reason = reason
        self.position = position
        super().__init__(f"column {position + 1}: {reason}")


class BadRequest(FeedsvcError):
    """A request parameter is invalid; the message says which and why (HTTP 400)."""


class Expired(FeedsvcError):
    """What a client asks to continue from is gone (a change stream position older than
    the retention); the message says what to do instead (HTTP 410)."""
