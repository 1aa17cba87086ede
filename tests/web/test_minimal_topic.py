"""A topic written without a description is served by every renderer: Atom without a
subtitle, JSON Feed without a description, the OPML outline, the index page and the
topic's own page without one, /api/topics with an empty one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
from lxml import etree

from tests.web.conftest import Polled, web_settings
from tests.web.support import ATOM_NS, check_feed, get, get_json

MINIMAL = '[[topics]]\nslug = "syria"\ntitle = "سوريا"\nquery = "سوريا"\n'


async def test_a_topic_without_description_is_served_everywhere(
        polled: Polled, serve_feedsvc: Any, tmp_path: Path) -> None:
    polled.copy_to(tmp_path)
    topics_file = tmp_path / "topics.toml"
    topics_file.write_text(MINIMAL, encoding="utf-8")
    settings = replace(web_settings("http://127.0.0.1:9", tmp_path), topics_file=topics_file)
    _, http, base = await serve_feedsvc(settings)

    response, atom = await get(http, f"{base}/feeds/syria.atom")
    assert response.status == 200
    parsed = check_feed("atom", atom)
    assert parsed.entries, "the replica has Syria stories"
    assert etree.fromstring(atom).find("a:subtitle", ATOM_NS) is None

    response, body = await get(http, f"{base}/feeds/syria.json")
    check_feed("json", body)
    assert "description" not in orjson.loads(body)

    response, opml = await get(http, f"{base}/topics.opml")
    assert response.status == 200
    [outline] = [o for o in etree.fromstring(opml).iter("outline") if o.get("title") == "سوريا"]
    assert outline.get("description") is None

    response, index = await get(http, f"{base}/")
    assert response.status == 200 and "سوريا" in index.decode()
    response, page = await get(http, f"{base}/topics/syria")
    assert response.status == 200 and "سوريا" in page.decode()
    assert "<p><bdi></bdi></p>" not in index.decode() + page.decode(), "no empty description"

    listed = (await get_json(http, f"{base}/api/topics"))["topics"]
    syria = next(t for t in listed if t["slug"] == "syria")
    assert syria["description"] == "" and min(syria["count"], 50) == len(parsed.entries)
