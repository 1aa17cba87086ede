"""Deleted entries in rendered feeds: Atom tombstones (RFC 6721) and the JSON Feed's
``_feedsvc.deleted``, valid for the validators and parsers readers use."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import feedparser
import orjson
from lxml import etree

from feedsvc.models import DeletedEntry
from feedsvc.render import entry_id_for, render_atom, render_json_feed
from feedsvc.render.atom import TOMBSTONES_NS

from .atom_validator import validate_atom
from .checks import assert_clean_atom, assert_clean_json_feed
from .factory import PUBLIC_URL, make_page

LATER = datetime(2026, 11, 21, 8, 30, tzinfo=UTC)
DELETED = (DeletedEntry("rt-arabic:900", LATER), DeletedEntry("rt-arabic:800", datetime(2026, 3, 1, tzinfo=UTC)))


def test_atom_lists_each_deleted_entry_as_a_child_of_the_feed() -> None:
    document = render_atom(replace(make_page(2), deleted=DELETED))
    assert_clean_atom(document)
    feed = etree.fromstring(document)
    tombstones = feed.findall(f"{{{TOMBSTONES_NS}}}deleted-entry")
    assert [(t.get("ref"), t.get("when")) for t in tombstones] == [
        (entry_id_for(PUBLIC_URL, "rt-arabic:900"), "2026-11-21T08:30:00+00:00"),
        (entry_id_for(PUBLIC_URL, "rt-arabic:800"), "2026-03-01T00:00:00+00:00"),
    ]
    # a deletion is a change of the feed: its updated moves with it
    assert feed.findtext("{http://www.w3.org/2005/Atom}updated") == "2026-11-21T08:30:00+00:00"


def test_feedparser_reads_a_feed_with_tombstones_as_before() -> None:
    plain = feedparser.parse(render_atom(make_page(2)))
    with_deleted = feedparser.parse(render_atom(replace(make_page(2), deleted=DELETED)))
    assert not with_deleted.bozo
    assert [e.id for e in with_deleted.entries] == [e.id for e in plain.entries]
    assert [e.title for e in with_deleted.entries] == [e.title for e in plain.entries]


def test_no_deletions_no_namespace() -> None:
    document = render_atom(make_page(2))
    assert TOMBSTONES_NS.encode() not in document


def test_the_validator_catches_a_broken_tombstone() -> None:
    """The check above can fail: a tombstone without a date, or beside its own entry."""
    document = render_atom(replace(make_page(1), deleted=(DeletedEntry("rt-arabic:1512001", LATER),)))
    broken = document.replace(b'when="2026-11-21T08:30:00+00:00"', b'when="yesterday"')
    errors = validate_atom(broken).errors
    assert any("@when" in error for error in errors)
    assert any("is also an entry" in error for error in errors)


def test_json_feed_lists_deletions_at_the_top_level() -> None:
    document = render_json_feed(replace(make_page(2), deleted=DELETED))
    assert_clean_json_feed(document)
    feed = orjson.loads(document)
    assert feed["_feedsvc"] == {"deleted": [
        {"id": entry_id_for(PUBLIC_URL, "rt-arabic:900"), "when": "2026-11-21T08:30:00+00:00"},
        {"id": entry_id_for(PUBLIC_URL, "rt-arabic:800"), "when": "2026-03-01T00:00:00+00:00"},
    ]}
    assert len(feed["items"]) == 2
    assert "_feedsvc" not in orjson.loads(render_json_feed(make_page(2)))
