"""The fetch stage: every outbound HTTP request.

Entry point: ``Fetcher.get(url, etag=..., last_modified=...) -> FetchResult`` (and
``Fetcher.post_form`` for WebSub pings). It is the only network I/O in feedsvc.
Around each request it keeps the crawl manners the upstream asks for:

* conditional GET (``If-None-Match``/``If-Modified-Since``); 304 comes back as a
  result with an empty body;
* robots.txt per origin, cached for ``robots_ttl``, ``Crawl-delay`` honoured
  (``robots``);
* at most ``per_host_concurrency`` requests in flight per host, starts spaced by
  ``min_host_delay`` (``pacing``);
* 429/503 ``Retry-After`` becomes ``HTTPStatusError.retry_after`` and cools the host
  down (the observer hears of it);
* an honest ``User-Agent``: ``feedsvc/0.1 (+<contact url>)``.

An optional ``FetchObserver`` hears of every exchange that reached the network
(host, status or error kind, seconds) and of every cool-down: the metrics hook, so
fetch imports no metrics.

And the limits that keep a bad upstream from hurting us: timeouts, a body size cap,
a redirect cap with loop detection, and requests only to configured hosts that do
not resolve to private addresses (``hosts``).

Errors raised (all from ``feedsvc.errors``)::

    FetchError             network failure, truncated body, unreadable redirect
    ├── FetchTimeout       connect, read or total timeout
    ├── HTTPStatusError    4xx/5xx; .status, .retry_after (aware UTC or None)
    ├── BodyTooLarge       body over max_body_size
    ├── TooManyRedirects   over max_redirects, or a loop
    └── NotAllowed         host not configured, private address, robots.txt
"""

from feedsvc.fetch.client import Fetcher, FetchObserver
from feedsvc.fetch.hosts import host_key
from feedsvc.fetch.policy import FetchPolicy

__all__ = [
    "FetchPolicy",
    "FetchObserver",
    "Fetcher",
    "host_key",
]
