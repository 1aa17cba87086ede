"""A structural Atom 1.0 validator, written from RFC 4287.

It checks what the RFC says about elements, their cardinality and the
syntax of their values (sections 3 and 4), the deleted entries of RFC 6721, plus three things feedsvc
requires of its own feeds: ``xml:lang`` on the feed, a ``self`` link, and a
feed ``updated`` no older than any entry's. Each finding is one string
``path: message``; ``errors`` break a MUST, ``warnings`` a SHOULD or a
likely mistake.

Not checked: the ``length`` that RFC 4287 asks of enclosure links (the size
of an upstream image is unknown without fetching it), base64 content, and
anything inside ``xhtml`` divs.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from lxml import etree

from .atom_constructs import (
    ATOM,
    DATE_TIME,
    LANGUAGE_TAG,
    Report,
    atom,
    check_category,
    check_content,
    check_date,
    check_iri,
    check_links,
    check_no_children,
    check_person,
    check_text_construct,
    children,
    needs_summary,
)

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
TOMBSTONES = "http://purl.org/atompub/tombstones/1.0"  # RFC 6721

FEED_ONCE = ("id", "title", "updated")
FEED_AT_MOST_ONCE = ("generator", "icon", "logo", "rights", "subtitle")
FEED_CHILDREN = {
    *FEED_ONCE,
    *FEED_AT_MOST_ONCE,
    "author",
    "category",
    "contributor",
    "link",
    "entry",
}
ENTRY_ONCE = ("id", "title", "updated")
ENTRY_AT_MOST_ONCE = ("content", "published", "rights", "source", "summary")
ENTRY_CHILDREN = {*ENTRY_ONCE, *ENTRY_AT_MOST_ONCE, "author", "category", "contributor", "link"}
TEXT_CONSTRUCTS = ("title", "subtitle", "summary", "rights")
DATE_CONSTRUCTS = ("updated", "published")


def validate_atom(document: bytes) -> Report:
    """Errors and warnings for ``document``; both empty for a clean feed."""
    report = Report()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.fromstring(document, parser)
    except etree.XMLSyntaxError as exc:
        report.errors.append(f"document: not well-formed XML: {exc}")
        return report
    if root.tag != atom("feed"):
        report.errors.append(f"document: root is {root.tag}, not atom:feed")
        return report
    _check_feed(root, report)
    return report


def _check_feed(feed: etree._Element, report: Report) -> None:
    _check_cardinality(feed, "feed", FEED_ONCE, FEED_AT_MOST_ONCE, report)
    _check_tombstones(feed, report)
    _check_known_children(feed, "feed", FEED_CHILDREN, report)
    _check_common(feed, "feed", report)
    if not feed.get(XML_LANG):
        report.errors.append("feed: no xml:lang (feedsvc requires the feed language)")
    if not any(link.get("rel") == "self" for link in children(feed, "link")):
        report.errors.append("feed: no link rel=self (feedsvc requires it; RFC 4287 SHOULD)")
    for name in ("icon", "logo"):
        for element in children(feed, name):
            check_iri(element.text, f"feed/{name}", report, absolute=False)
    for generator in children(feed, "generator"):
        check_no_children(generator, "feed/generator", report)
    entries = children(feed, "entry")
    feed_has_author = bool(children(feed, "author"))
    for index, entry in enumerate(entries, 1):
        _check_entry(entry, f"feed/entry[{index}]", feed_has_author, report)
    _check_entry_ids(entries, report)
    _check_feed_updated(feed, entries, report)


def _check_entry(entry: etree._Element, path: str, feed_has_author: bool, report: Report) -> None:
    _check_cardinality(entry, path, ENTRY_ONCE, ENTRY_AT_MOST_ONCE, report)
    _check_known_children(entry, path, ENTRY_CHILDREN, report)
    _check_common(entry, path, report)
    if not feed_has_author and not children(entry, "author"):
        report.errors.append(f"{path}: no atom:author and the feed has none (4.1.1)")
    contents = children(entry, "content")
    for content in contents:
        check_content(content, path, report)
    alternates = [
        link for link in children(entry, "link") if link.get("rel", "alternate") == "alternate"
    ]
    if not contents and not alternates:
        report.errors.append(f"{path}: neither atom:content nor an alternate link (4.1.2)")
    if any(needs_summary(content) for content in contents) and not children(entry, "summary"):
        report.errors.append(f"{path}: out-of-line or binary content without atom:summary")
    title = children(entry, "title")
    if title and not "".join(title[0].itertext()).strip():
        report.warnings.append(f"{path}/title: empty")


def _check_common(element: etree._Element, path: str, report: Report) -> None:
    """What feeds and entries share: id, dates, text constructs, people, links, categories."""
    for id_element in children(element, "id"):
        check_iri(id_element.text, f"{path}/id", report, absolute=True)
    for name in DATE_CONSTRUCTS:
        for date in children(element, name):
            check_date(date.text, f"{path}/{name}", report)
    for name in TEXT_CONSTRUCTS:
        for text in children(element, name):
            check_text_construct(text, f"{path}/{name}", report)
    for name in ("author", "contributor"):
        for person in children(element, name):
            check_person(person, f"{path}/{name}", report)
    for category in children(element, "category"):
        check_category(category, f"{path}/category", report)
    check_links(children(element, "link"), f"{path}/link", report)
    language = element.get(XML_LANG)
    if language is not None and language and not LANGUAGE_TAG.fullmatch(language):
        report.errors.append(f"{path}: xml:lang {language!r} is not a language tag")


def _check_cardinality(
    element: etree._Element,
    path: str,
    once: tuple[str, ...],
    at_most_once: tuple[str, ...],
    report: Report,
) -> None:
    for name in once:
        count = len(children(element, name))
        if count != 1:
            report.errors.append(f"{path}: {count} atom:{name}, exactly one required")
    for name in at_most_once:
        count = len(children(element, name))
        if count > 1:
            report.errors.append(f"{path}: {count} atom:{name}, at most one allowed")


def _check_known_children(
    element: etree._Element, path: str, known: set[str], report: Report
) -> None:
    for child in element:
        if not isinstance(child.tag, str) or not child.tag.startswith(f"{{{ATOM}}}"):
            continue  # foreign markup is allowed (section 6)
        name = etree.QName(child).localname
        if name not in known:
            report.errors.append(f"{path}: atom:{name} is not allowed here")


def _check_tombstones(feed: etree._Element, report: Report) -> None:
    """RFC 6721 section 3: ``at:deleted-entry`` has an IRI ``ref`` and a date-time
    ``when``; a feed must not hold an entry and a tombstone for the same id."""
    entry_ids = {entry.findtext(atom("id")) for entry in children(feed, "entry")}
    for index, tombstone in enumerate(feed.iterfind(f"{{{TOMBSTONES}}}deleted-entry")):
        path = f"feed/at:deleted-entry[{index}]"
        check_iri(tombstone.get("ref"), f"{path}/@ref", report, absolute=True)
        check_date(tombstone.get("when"), f"{path}/@when", report)
        if tombstone.get("ref") in entry_ids:
            report.errors.append(f"{path}: {tombstone.get('ref')} is also an entry")
    for element in feed.iter(f"{{{TOMBSTONES}}}deleted-entry"):
        if element.getparent() is not feed:
            report.errors.append("at:deleted-entry: only allowed as a child of atom:feed here")


def _check_entry_ids(entries: list[etree._Element], report: Report) -> None:
    seen: Counter[tuple[str, str]] = Counter()
    for entry in entries:
        seen[(entry.findtext(atom("id")) or "", entry.findtext(atom("updated")) or "")] += 1
    for (entry_id, updated), count in seen.items():
        if count > 1:
            report.errors.append(f"feed: {count} entries share id {entry_id} and updated {updated}")
    ids = Counter(entry_id for entry_id, _ in seen.elements())
    for entry_id, count in ids.items():
        if count > 1:
            report.warnings.append(f"feed: {count} entries share id {entry_id}")


def _check_feed_updated(
    feed: etree._Element, entries: list[etree._Element], report: Report
) -> None:
    feed_updated = _instant(feed.findtext(atom("updated")))
    entry_updates = [_instant(entry.findtext(atom("updated"))) for entry in entries]
    newest = max((moment for moment in entry_updates if moment), default=None)
    if feed_updated and newest and feed_updated < newest:
        report.warnings.append("feed/updated: older than an entry's updated")


def _instant(text: str | None) -> datetime | None:
    if not text or not DATE_TIME.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
