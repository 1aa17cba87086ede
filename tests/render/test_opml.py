from __future__ import annotations

from datetime import UTC, datetime

from feedsvc.render import render_opml

from .checks import strict_xml
from .factory import PUBLIC_URL, make_topic

CREATED = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


def render(topics):
    return render_opml(topics, title="RT Arabic", owner_url=PUBLIC_URL, date_created=CREATED)


def test_one_outline_per_topic() -> None:
    topics = [make_topic("economy"), make_topic("sport", title="رياضة", updated=None, count=0)]
    root = strict_xml(render(topics))
    assert root.tag == "opml"
    assert root.get("version") == "2.0"
    outlines = root.findall("body/outline")
    assert len(outlines) == 2
    economy = dict(outlines[0].attrib)
    assert economy == {
        "type": "rss",
        "text": "اقتصاد",
        "title": "اقتصاد",
        "xmlUrl": f"{PUBLIC_URL}topics/economy.atom",
        "htmlUrl": f"{PUBLIC_URL}#topic-economy",
        "description": "أخبار الاقتصاد والطاقة",
    }
    assert outlines[1].get("text") == "رياضة"


def test_head_dates_are_rfc822_from_the_data() -> None:
    head = strict_xml(render([make_topic()])).find("head")
    assert head.findtext("title") == "RT Arabic"
    assert head.findtext("dateCreated") == "Sun, 01 Feb 2026 08:00:00 GMT"
    assert head.findtext("dateModified") == "Sun, 01 Mar 2026 09:30:00 GMT"
    assert head.findtext("ownerId") == PUBLIC_URL


def test_no_topics_and_determinism() -> None:
    root = strict_xml(render([]))
    assert root.findall("body/outline") == []
    assert root.find("head/dateModified") is None
    assert render([make_topic()]) == render([make_topic()])
