"""Checks of the Atom constructs of RFC 4287 section 3 and 4.2: dates, text,
people, links, categories and content. Used by :mod:`.atom_validator`."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
XHTML = "http://www.w3.org/1999/xhtml"

# RFC 3339 date-time, with "T" and "Z" upper case as RFC 4287 section 3.3 demands.
DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
MEDIA_TYPE = re.compile(r"[\w!#$&^.+\-]+/[\w!#$&^.+\-]+(\s*;.*)?")
LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
RELATION_NAME = re.compile(r"[^\s/:?#]+")  # isegment-nz-nc of RFC 3987, roughly
EMAIL = re.compile(r"[^@\s]+@[^@\s]+")


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def atom(name: str) -> str:
    return f"{{{ATOM}}}{name}"


def children(parent: etree._Element, name: str) -> list[etree._Element]:
    return parent.findall(atom(name))


def check_iri(value: str | None, path: str, report: Report, *, absolute: bool) -> None:
    text = value or ""
    if not text or any(character.isspace() for character in text):
        report.errors.append(f"{path}: {text!r} is not an IRI")
    elif absolute and not SCHEME.match(text):
        report.errors.append(f"{path}: {text!r} is not an absolute IRI")


def check_date(value: str | None, path: str, report: Report) -> None:
    text = value or ""
    if not DATE_TIME.fullmatch(text):
        report.errors.append(f"{path}: {text!r} is not an RFC 3339 date-time")
        return
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        report.errors.append(f"{path}: {text!r} is not a real date")


def check_text_construct(element: etree._Element, path: str, report: Report) -> None:
    kind = element.get("type", "text")
    if kind in ("text", "html"):
        check_no_children(element, path, report)
    elif kind == "xhtml":
        check_xhtml(element, path, report)
    else:
        report.errors.append(f"{path}: type {kind!r} is not text, html or xhtml (3.1.1)")


def check_no_children(element: etree._Element, path: str, report: Report) -> None:
    if len(element):
        report.errors.append(f"{path}: has child elements; markup must be escaped")


def check_xhtml(element: etree._Element, path: str, report: Report) -> None:
    divs = [child for child in element if child.tag == f"{{{XHTML}}}div"]
    if len(element) != 1 or len(divs) != 1:
        report.errors.append(f"{path}: xhtml content must be exactly one xhtml:div")
    if (element.text or "").strip() or (len(element) and (element[-1].tail or "").strip()):
        report.errors.append(f"{path}: text outside the xhtml:div")


def check_content(content: etree._Element, entry_path: str, report: Report) -> None:
    path = f"{entry_path}/content"
    kind = content.get("type", "text")
    if content.get("src") is not None:
        if len(content) or (content.text or "").strip():
            report.errors.append(f"{path}: has src and is not empty (4.1.3.2)")
        check_iri(content.get("src"), f"{path}/@src", report, absolute=False)
        if kind in ("text", "html", "xhtml"):
            report.warnings.append(f"{path}: with src, type should be a media type")
    elif kind in ("text", "html", "xhtml"):
        check_text_construct(content, path, report)
    elif not MEDIA_TYPE.fullmatch(kind):
        report.errors.append(f"{path}: type {kind!r} is not a media type")


def needs_summary(content: etree._Element) -> bool:
    kind = content.get("type", "text")
    if content.get("src") is not None:
        return True
    textual = kind in ("text", "html", "xhtml") or kind.startswith("text/")
    return not textual and not kind.endswith(("/xml", "+xml"))


def check_person(person: etree._Element, path: str, report: Report) -> None:
    names = children(person, "name")
    if len(names) != 1:
        report.errors.append(f"{path}: {len(names)} atom:name, exactly one required (3.2)")
    elif not (names[0].text or "").strip():
        report.warnings.append(f"{path}/name: empty")
    for name in ("uri", "email"):
        if len(children(person, name)) > 1:
            report.errors.append(f"{path}: more than one atom:{name}")
    for uri in children(person, "uri"):
        check_iri(uri.text, f"{path}/uri", report, absolute=False)
    for email in children(person, "email"):
        if not EMAIL.fullmatch(email.text or ""):
            report.errors.append(f"{path}/email: {email.text!r} is not an address")


def check_category(category: etree._Element, path: str, report: Report) -> None:
    if not category.get("term"):
        report.errors.append(f"{path}: no term (4.2.2)")
    if category.get("scheme") is not None:
        check_iri(category.get("scheme"), f"{path}/@scheme", report, absolute=True)


def check_links(links: list[etree._Element], path: str, report: Report) -> None:
    alternates: Counter[tuple[str | None, str | None]] = Counter()
    for link in links:
        check_link(link, path, report)
        if link.get("rel", "alternate") == "alternate":
            alternates[(link.get("type"), link.get("hreflang"))] += 1
    for (media_type, language), count in alternates.items():
        if count > 1:
            report.errors.append(
                f"{path}: {count} alternate links with type={media_type} hreflang={language} (4.1.1)"
            )


def check_link(link: etree._Element, path: str, report: Report) -> None:
    href = link.get("href")
    if href is None:
        report.errors.append(f"{path}: no href (4.2.7.1)")
    else:
        check_iri(href, f"{path}/@href", report, absolute=False)
        if not SCHEME.match(href):
            report.warnings.append(f"{path}/@href: {href!r} is relative")
    rel = link.get("rel")
    if rel is not None and not (RELATION_NAME.fullmatch(rel) or SCHEME.match(rel)):
        report.errors.append(f"{path}/@rel: {rel!r} is neither a name nor an IRI (4.2.7.2)")
    media_type = link.get("type")
    if media_type is not None and not MEDIA_TYPE.fullmatch(media_type):
        report.errors.append(f"{path}/@type: {media_type!r} is not a media type")
    language = link.get("hreflang")
    if language is not None and not LANGUAGE_TAG.fullmatch(language):
        report.errors.append(f"{path}/@hreflang: {language!r} is not a language tag")
    length = link.get("length")
    if length is not None and not length.isdigit():
        report.errors.append(f"{path}/@length: {length!r} is not a byte count")
