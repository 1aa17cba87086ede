"""The site's sitemaps, for backfilling articles that fell off the RSS window.

``/sitemap.xml`` is a sitemap index whose children (one per month) list article URLs;
every entry may carry a ``lastmod``. Two pure functions, no fetching:

    parse_sitemap(body)                          → SitemapDocument (an index or a urlset)
    backfill_candidates(document, now=, max_age=) → BackfillPlan (children to fetch, URLs)

Reading is forgiving, because one bad entry must not hide the others: namespaces are
ignored (no namespace, another version, a prefix), a gzip body is unpacked, broken XML
is salvaged by libxml2's recovery mode, and an entry without a usable ``loc`` or with
an unreadable ``lastmod`` is skipped and counted. Only a document with nothing
readable at all raises :class:`~feedsvc.errors.ParseError`, and nothing else is raised
whatever the bytes. The parser resolves no entities, loads no DTD and never touches
the network, so a hostile sitemap can neither read local files nor call out.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from lxml import etree

from feedsvc.errors import ParseError

SITE_TZ = ZoneInfo("Europe/Moscow")
# The sitemap protocol caps a sitemap at 50 MB uncompressed; more is not a sitemap.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
_GZIP_MAGIC = b"\x1f\x8b"

# W3C Datetime, the sitemap protocol's format: YYYY, YYYY-MM, YYYY-MM-DD, then an
# optional time to the minute, second or fraction, with Z or ±hh:mm (±hhmm tolerated).
_W3C_DATETIME = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})"
    r"(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?)?)?"
)

Kind = Literal["index", "urlset"]
_KINDS: dict[str, Kind] = {"sitemapindex": "index", "urlset": "urlset"}
_ENTRY_TAGS = {"index": "sitemap", "urlset": "url"}


@dataclass(frozen=True, slots=True)
class SitemapEntry:
    """A child sitemap (in an index) or an article URL (in a urlset); lastmod is aware UTC."""

    url: str
    lastmod: datetime | None


@dataclass(frozen=True, slots=True)
class SitemapDocument:
    kind: Kind
    entries: tuple[SitemapEntry, ...]  # in document order, one per URL (the newest lastmod)
    skipped: int  # entries without a usable loc or with an unreadable lastmod
    salvaged: bool  # the XML was malformed and recovery mode read what it could


@dataclass(frozen=True, slots=True)
class BackfillPlan:
    """What to do with one sitemap document; both lists are newest first."""

    sitemaps: tuple[SitemapEntry, ...]  # children of an index to fetch
    articles: tuple[SitemapEntry, ...]  # article URLs of a urlset to consider
    too_old: int  # entries whose lastmod is older than the age bound
    undated: int  # entries without lastmod: their age is unknown, so they are left out


def parse_sitemap(body: bytes, *, site_tz: tzinfo = SITE_TZ) -> SitemapDocument:
    """Read a sitemap index or urlset; raises ParseError when nothing at all is readable.

    ``site_tz`` is the zone of a ``lastmod`` written without an offset (a bare date).
    """
    root, salvaged = _root(_unpacked(body))
    kind = _KINDS.get(_local_name(root))
    if kind is None:
        raise ParseError(f"not a sitemap: root element <{_local_name(root)}>")
    entries: dict[str, SitemapEntry] = {}
    skipped = 0
    for element in root:
        if _local_name(element) != _ENTRY_TAGS[kind]:
            continue  # comments, processing instructions, extensions
        entry = _entry(element, site_tz)
        if entry is None:
            skipped += 1
        elif entry.url not in entries or _newer(entry, entries[entry.url]):
            entries[entry.url] = entry
    if skipped and not entries:
        raise ParseError(f"sitemap {kind} with {skipped} entries, none readable")
    return SitemapDocument(kind, tuple(entries.values()), skipped, salvaged)


def backfill_candidates(document: SitemapDocument, *, now: datetime,
                        max_age: timedelta) -> BackfillPlan:
    """Entries changed within ``max_age`` before ``now``, newest first.

    For an index these are the children worth fetching: a child's lastmod is the
    newest change inside it, so an older child holds nothing recent. For a urlset
    they are the article URLs to backfill. A lastmod after ``now`` (clock skew)
    counts as recent.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")  # a caller's bug, not a sitemap fault
    if max_age <= timedelta(0):
        raise ValueError(f"max_age must be positive, not {max_age}")
    cutoff = now - max_age
    dated = [e for e in document.entries if e.lastmod is not None]
    recent = sorted((e for e in dated if e.lastmod is not None and e.lastmod >= cutoff),
                    key=lambda e: (e.lastmod, e.url), reverse=True)
    chosen = tuple(recent)
    return BackfillPlan(
        sitemaps=chosen if document.kind == "index" else (),
        articles=chosen if document.kind == "urlset" else (),
        too_old=len(dated) - len(recent),
        undated=len(document.entries) - len(dated),
    )


# -- reading ---------------------------------------------------------------------------


def _unpacked(body: bytes) -> bytes:
    """A ``.xml.gz`` child is served as gzip bytes, not as a Content-Encoding."""
    if not body.startswith(_GZIP_MAGIC):
        return body[:MAX_SITEMAP_BYTES + 1]
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        return inflater.decompress(body, MAX_SITEMAP_BYTES + 1)
    except zlib.error as exc:
        raise ParseError(f"sitemap is not readable gzip: {exc}") from exc


def _root(xml: bytes) -> tuple[Any, bool]:
    if len(xml) > MAX_SITEMAP_BYTES:
        raise ParseError(f"sitemap larger than {MAX_SITEMAP_BYTES} bytes")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True, recover=True,
    )
    try:
        root = etree.fromstring(xml, parser)
    except (etree.LxmlError, ValueError) as exc:
        raise ParseError(f"sitemap is not readable XML: {exc}") from exc
    if root is None:
        raise ParseError("sitemap is not XML: no root element")
    return root, bool(parser.error_log)


def _local_name(element: Any) -> str:
    tag = element.tag
    if not isinstance(tag, str):
        return ""  # comment, entity reference or processing instruction
    return tag.rpartition("}")[2].rpartition(":")[2].lower()


def _entry(element: Any, site_tz: tzinfo) -> SitemapEntry | None:
    loc = _child_text(element, "loc")
    url = loc.strip() if loc else ""
    if not _absolute_http(url):
        return None
    written = _child_text(element, "lastmod")
    if written is None or not written.strip():
        return SitemapEntry(url, None)  # lastmod is optional in the protocol
    lastmod = parse_lastmod(written, site_tz)
    return None if lastmod is None else SitemapEntry(url, lastmod)


def _child_text(element: Any, name: str) -> str | None:
    for child in element:
        if _local_name(child) == name:
            if any(isinstance(node, etree._Entity) for node in child.iter()):
                return ""  # an entity left unresolved on purpose: the value is unknown
            return "".join(child.itertext())
    return None


def _absolute_http(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not any(
        c.isspace() for c in url)


def _newer(entry: SitemapEntry, than: SitemapEntry) -> bool:
    if entry.lastmod is None:
        return False
    return than.lastmod is None or entry.lastmod > than.lastmod


def parse_lastmod(written: str, site_tz: tzinfo = SITE_TZ) -> datetime | None:
    """A W3C Datetime as aware UTC; None when it is not one (or not a real moment)."""
    found = _W3C_DATETIME.fullmatch(written.strip())
    if found is None:
        return None
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = found.groups()
    try:
        zone = _zone(zulu, sign, off_h, off_m, site_tz)
        moment = datetime(
            int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
            int(second or 0), int((fraction or "0")[:6].ljust(6, "0")), tzinfo=zone)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None  # month 13, hour 25, offset beyond a day, a year 1 moment before UTC


def _zone(zulu: str | None, sign: str | None, hours: str | None, minutes: str | None,
          site_tz: tzinfo) -> tzinfo:
    if zulu:
        return UTC
    if sign and hours and minutes:
        offset = timedelta(hours=int(hours), minutes=int(minutes))
        return timezone(-offset if sign == "-" else offset)
    return site_tz  # no offset: the site's own clock, as for every date it writes
