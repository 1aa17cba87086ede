"""Identity of an article URL: the site's numeric id and one canonical URL.

The site reaches one article through many URLs: an encoded or decoded slug, with
or without the trailing slash, with ``utm_*`` parameters, over ``http``, through a
mirror host, and with a stale slug after an edit. ``native_id`` reads the id that
survives all of them; ``canonical_url`` folds every variant except a changed slug
or section into one string, which is what aliases are stored under.

Canonical form:
    * scheme and host of ``base_url`` for the site's own hosts (the base host, any
      configured mirror host, each with or without ``www.``, on any scheme and its
      default port); other hosts keep their scheme, lower-cased, without user info
      or default port;
    * each path segment percent-decoded, NFC-normalized, re-encoded with upper-case
      hex (only RFC 3986 unreserved characters, sub-delimiters, ``:`` and ``@``
      stay literal); dot segments removed;
    * article paths (``/<section>/<id>-<slug>/``): section lower-cased, trailing
      slash added, the whole query dropped (the id names the article);
    * other paths: tracking parameters dropped, the remaining ones sorted;
    * the fragment dropped.

Not a URL at all (``ParseError``): an empty string, control characters, a scheme
other than ``http``/``https`` (``mailto:``, ``javascript:``), an absolute URL with
no host, an unreadable port or IPv6 literal. Anything else gets a best effort:
relative references resolve against ``base_url``, and ``arabic.rt.com/x`` written
without a scheme is read as a host when that host is one of the site's.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from urllib.parse import (
    SplitResult,
    parse_qsl,
    quote,
    unquote_to_bytes,
    urlencode,
    urljoin,
    urlsplit,
)

from feedsvc.errors import ParseError

# Query parameters that only say where a click came from. Matched case-insensitively;
# any name starting with one of TRACKING_PREFIXES is dropped as well.
TRACKING_PARAMS: frozenset[str] = frozenset({
    "fbclid",      # Facebook click id
    "gclid", "dclid", "gbraid", "wbraid",  # Google Ads / DoubleClick
    "msclkid",     # Microsoft Ads
    "yclid", "ysclid",  # Yandex
    "twclid", "ttclid", "igshid", "li_fat_id",  # X, TikTok, Instagram, LinkedIn
    "mc_cid", "mc_eid",  # Mailchimp
    "_ga", "_gl",  # Google Analytics cross-domain linker
    "_hsenc", "_hsmi", "mkt_tok",  # HubSpot, Marketo
    "ref", "ref_src", "referrer",  # referrer tags
    "rss", "from_rss",  # feed markers
    "cmpid", "ocid", "s_cid",  # campaign ids
})
TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "pk_", "mtm_")  # Google/Matomo/Piwik campaigns

_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# /<section>/<id>[-<slug>][/]: the section is a Latin word, the id ASCII digits.
_ARTICLE_PATH = re.compile(r"/([A-Za-z][A-Za-z_-]*)/([0-9]{1,15})(?:-([^/]*))?/?")
# First segments that look like sections but never hold articles.
_NON_ARTICLE_SECTIONS = frozenset({"tags", "tag", "rss", "listing", "sitemap", "search", "media"})
_SEGMENT_SAFE = "-._~!$&'()*+,;=:@"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_STRIPPED_INSIDE = str.maketrans("", "", "\t\n\r")  # dropped by browsers too


def native_id(url: str) -> str | None:
    """The site's numeric article id in ``url``'s path, or None when it is no article.

    Only the path is read, so a mirror host, ``http`` or a stale slug give the same id;
    check the host with ``canonical_url`` when foreign links are possible.
    """
    try:
        path = urlsplit(url.strip().translate(_STRIPPED_INSIDE)).path
    except ValueError:
        return None
    if not path.startswith("/"):
        first, _, rest = path.partition("/")
        path = f"/{rest}" if "." in first else f"/{path}"  # "arabic.rt.com/news/1-x/"
    match = _ARTICLE_PATH.fullmatch(path)
    if match is None or match.group(1).lower() in _NON_ARTICLE_SECTIONS:
        return None
    return str(int(match.group(2)))


def canonical_url(url: str, *, base_url: str, mirror_hosts: Iterable[str] = ()) -> str:
    """The one URL all variants of ``url`` share; see the module docstring.

    Raises ``ParseError`` when ``url`` is not a URL at all, and ``ValueError`` when
    ``base_url`` is not an absolute http(s) URL (a configuration fault).
    """
    base = _split_base(base_url)
    own_hosts = _own_hosts(base, mirror_hosts)
    parts = _split(_resolve(url, base_url, own_hosts))
    own = _host_key(parts) in own_hosts
    scheme, netloc = (base.scheme, _netloc(base)) if own else (parts.scheme, _netloc(parts))
    prefix = f"{scheme.lower()}://{netloc}"
    path = _normalize_path(parts.path)
    match = _ARTICLE_PATH.fullmatch(path)
    if own and match and match.group(1).lower() not in _NON_ARTICLE_SECTIONS:
        return prefix + _article_path(match)
    query = _clean_query(parts.query)
    return prefix + path + (f"?{query}" if query else "")


def is_tracking_param(name: str) -> bool:
    """True when the query parameter ``name`` only tracks the click."""
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _split_base(base_url: str) -> SplitResult:
    base = urlsplit(base_url)
    if base.scheme.lower() not in _SCHEMES or not base.hostname:
        raise ValueError(f"base_url must be an absolute http(s) URL: {base_url!r}")
    return base


def _own_hosts(base: SplitResult, mirror_hosts: Iterable[str]) -> frozenset[str]:
    keys = {_host_key(base)}
    for mirror in mirror_hosts:
        keys.add(_host_key(urlsplit(mirror if "//" in mirror else f"//{mirror}")))
    return frozenset(keys)


def _resolve(url: str, base_url: str, own_hosts: frozenset[str]) -> str:
    if not isinstance(url, str):
        raise ParseError(f"not a URL: {url!r}")
    text = url.strip().translate(_STRIPPED_INSIDE)
    if not text or _CONTROL.search(text):
        raise ParseError(f"not a URL: {url!r}")
    head = text.split("/", 1)[0]
    if "://" not in text and "@" not in head and _looks_like_own_host(head, own_hosts):
        text = f"//{text}"  # "arabic.rt.com/news/..." written without a scheme
    try:
        return urljoin(base_url, text)
    except ValueError as exc:
        raise ParseError(f"not a URL: {url!r}") from exc


def _looks_like_own_host(head: str, own_hosts: frozenset[str]) -> bool:
    if not head or head.startswith((".", "?", "#")):
        return False
    try:
        return _host_key(urlsplit(f"//{head}")) in own_hosts
    except ValueError:
        return False


def _split(url: str) -> SplitResult:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on an unreadable port
    except ValueError as exc:
        raise ParseError(f"not a URL: {url!r}") from exc
    if parts.scheme.lower() not in _SCHEMES:
        raise ParseError(f"not an http(s) URL: {url!r}")
    if not (parts.hostname or "").strip("."):
        raise ParseError(f"URL without a host: {url!r}")
    return parts


def _host_key(parts: SplitResult) -> str:
    """Host without ``www.`` and a trailing dot, plus the port unless it is a default one."""
    host = (parts.hostname or "").rstrip(".")
    host = host.removeprefix("www.")
    try:
        port = parts.port
    except ValueError:
        return host
    return host if port in (None, *_DEFAULT_PORTS.values()) else f"{host}:{port}"


def _netloc(parts: SplitResult) -> str:
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    port = parts.port
    if port is None or port == _DEFAULT_PORTS.get(parts.scheme.lower()):
        return host
    return f"{host}:{port}"


def _normalize_path(path: str) -> str:
    segments: list[str] = []
    raw = path.split("/")[1:] if path.startswith("/") else path.split("/")
    for index, raw_segment in enumerate(raw):
        segment = _normalize_segment(raw_segment)
        last = index == len(raw) - 1
        if segment in (".", ".."):
            if segment == ".." and segments:
                segments.pop()
            if last:
                segments.append("")  # "/a/b/.." names the directory "/a/"
            continue
        segments.append(segment)
    return "/" + "/".join(segments)


def _normalize_segment(segment: str) -> str:
    raw = unquote_to_bytes(segment)
    try:
        text = unicodedata.normalize("NFC", raw.decode("utf-8"))
    except UnicodeDecodeError:
        return quote(raw, safe=_SEGMENT_SAFE)  # not UTF-8: keep the bytes, fix the hex case
    if text in (".", ".."):
        return text
    return quote(text, safe=_SEGMENT_SAFE)


def _article_path(match: re.Match[str]) -> str:
    section, number, slug = match.group(1).lower(), str(int(match.group(2))), match.group(3)
    return f"/{section}/{number}-{slug}/" if slug else f"/{section}/{number}/"


def _clean_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = sorted((name, value) for name, value in pairs if not is_tracking_param(name))
    return urlencode(kept, quote_via=quote)
