"""An offline replica of arabic.rt.com, served over real HTTP for tests and the demo.

The replica serves what ``docs/site-markup.md`` describes, from the articles in
``data/articles.json``::

    /rss/, /rss                         site feed, newest 40 (RSS 2.0, ETag, max-age=60)
    /rss/<section>/                     section feed, newest 20, articles named by URL variants
    /<section>/<id>-<slug>/             article page; the id decides (slug, slash, query free)
    /sitemap.xml, /sitemap/YYYY-MM.xml  sitemap index and monthly children
    /listing/trend.<24 hex>/noprepare/trend/10/<page>   10 headline links per page
    /robots.txt                         allow all, Crawl-delay: 1 (both switchable)
    /_replica/...                       the control API (see ``control``)

Modules::

    articles  the data: values, URLs, loading, the expected extraction of a page
    render    pure rendering of pages, feeds, sitemaps, listing and robots.txt
    site      ReplicaSite: publication state and switches, the request log
    faults    armed faults and how each spoils an answer
    control   the JSON control API
    app       create_replica_app(), serve_replica(), the one middleware

In a test::

    site = ReplicaSite(clock=lambda: NOW)
    async with serve_replica(site) as base_url:
        site.inject("rate_limit", "/rss/*", times=1, retry_after=30)
        ...  # poll base_url + "/rss/"
        assert [r.status for r in site.requests] == [429, 200]

From a shell: ``python -m feedsvc.replica --port 8081``, then
``curl -X POST -d '{"fault": "status", "times": 3}' localhost:8081/_replica/inject``.
"""

from feedsvc.replica.app import SITE_KEY, create_replica_app, serve_replica
from feedsvc.replica.articles import Markup, ReplicaArticle, expected_extraction
from feedsvc.replica.faults import FAULT_KINDS, Fault
from feedsvc.replica.site import DEFAULT_DATA, LoggedRequest, ReplicaSite, UnknownArticle

__all__ = [
    "DEFAULT_DATA",
    "FAULT_KINDS",
    "SITE_KEY",
    "Fault",
    "LoggedRequest",
    "Markup",
    "ReplicaArticle",
    "ReplicaSite",
    "UnknownArticle",
    "create_replica_app",
    "expected_extraction",
    "serve_replica",
]
