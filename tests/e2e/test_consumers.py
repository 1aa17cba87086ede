"""What consumers learn when an article leaves a feed: the deleted entries the feeds list
(Atom tombstones, RFC 6721; the JSON Feed's ``_feedsvc.deleted``) and the change stream
(``/api/changes``), against the replica over loopback HTTP.

An article leaves a feed when the site retracts it, when an edit makes it stop matching
a topic, and when the topic's rules change; each is followed through the feeds as a
reader reads them (feedparser, JSON) and through the stream as a mirroring consumer
would, then the clock moves past the deleted-entry window and the retention.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import feedparser
import orjson
from lxml import etree

from feedsvc.replica import ReplicaSite
from tests.conftest import SHIPPED_TOPICS, Clock, settings_for
from tests.faults.support import poll_when_due
from tests.render.checks import assert_clean_atom, assert_clean_json_feed

SOURCE = "rt-arabic"
TOMBSTONE = "{http://purl.org/atompub/tombstones/1.0}deleted-entry"
ENTRY_ID = re.compile(rf"{SOURCE}:(\d+)$")


async def feed(http: Any, base: str, slug: str, fmt: str) -> bytes:
    async with http.get(f"{base}/feeds/{slug}.{fmt}?limit=200") as response:
        assert response.status == 200
        body: bytes = await response.read()
    if fmt == "atom":
        assert_clean_atom(body)
        assert not feedparser.parse(body).bozo
    else:
        assert_clean_json_feed(body)
    return body


def native(entry_id: str) -> int:
    found = ENTRY_ID.search(entry_id)
    assert found is not None, entry_id
    return int(found.group(1))


async def listing(http: Any, base: str, slug: str) -> tuple[set[int], set[int]]:
    """The articles a topic's JSON Feed lists, and those it lists as deleted; checked
    against its Atom feed, which must say the same."""
    document = orjson.loads(await feed(http, base, slug, "json"))
    items = {native(item["id"]) for item in document["items"]}
    deleted = {native(d["id"]) for d in document.get("_feedsvc", {}).get("deleted", [])}
    atom = etree.fromstring(await feed(http, base, slug, "atom"))
    entries = {native(e.text) for e in atom.iterfind("{http://www.w3.org/2005/Atom}entry/"
                                                    "{http://www.w3.org/2005/Atom}id")}
    tombstones = {native(t.get("ref")) for t in atom.iterfind(TOMBSTONE)}
    assert (entries, tombstones) == (items, deleted), "Atom and JSON Feed agree"
    assert not items & deleted
    return items, deleted


class Mirror:
    """A consumer that keeps a copy of one feed from the change stream alone."""

    def __init__(self, http: Any, base: str, topic: str | None = None) -> None:
        self.http, self.base, self.topic = http, base, topic
        self.items: dict[int, dict[str, Any]] = {}
        self.token: str | None = None
        self.seen: list[tuple[str, int]] = []

    async def start(self) -> None:
        """The head of the stream (nothing before it is sent: the feeds hold it)."""
        body = await self._get(None)
        assert body["changes"] == []
        self.token = body["next"]

    async def follow(self, limit: int = 7) -> int:
        """Read the stream to its end, a few changes an answer; the changes applied."""
        applied = 0
        while True:
            body = await self._get(limit)
            for change in body["changes"]:
                article = native(change["id"])
                self.seen.append((change["op"], article))
                if change["op"] == "upsert":
                    assert change["item"]["id"] == change["id"]
                    self.items[article] = change["item"]
                else:
                    assert change["item"] is None
                    self.items.pop(article, None)
            applied += len(body["changes"])
            self.token = body["next"]
            if len(body["changes"]) < limit:
                return applied

    async def _get(self, limit: int | None) -> dict[str, Any]:
        params = {k: v for k, v in (("since", self.token), ("topic", self.topic),
                                    ("limit", str(limit) if limit else None)) if v}
        async with self.http.get(f"{self.base}/api/changes", params=params) as response:
            assert response.status == 200, await response.text()
            parsed: dict[str, Any] = orjson.loads(await response.read())
            return parsed


async def test_every_way_out_of_a_feed_reaches_readers_and_consumers(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    topics_file = tmp_path / "topics.toml"
    shipped = SHIPPED_TOPICS.read_text(encoding="utf-8")
    topics_file.write_text(shipped, encoding="utf-8")
    settings = settings_for(replica.base_url, tmp_path, topics_file=topics_file)
    service, http, base = await serve_feedsvc(settings)
    everything, ukraine = Mirror(http, base), Mirror(http, base, "ukraine-war")
    await everything.start()
    await ukraine.start()
    early = everything.token  # a position from before everything that follows
    await service.poller.poll(settings.sources[0])
    await everything.follow()
    await ukraine.follow()
    stored, _ = await listing(http, base, "all")
    assert set(everything.items) == stored
    assert all(op == "upsert" for op, _ in everything.seen), "a first sync is upserts only"
    in_ukraine, _ = await listing(http, base, "ukraine-war")
    assert len(in_ukraine) >= 3 and set(ukraine.items) == in_ukraine

    # retracted on the site: deleted from every feed it was in
    retracted = sorted(in_ukraine)[0]
    replica.retract(retracted)
    assert (await poll_when_due(service, clock)).retracted == 1
    for slug in ("all", "ukraine-war"):
        items, deleted = await listing(http, base, slug)
        assert retracted not in items and retracted in deleted

    # edited so that it no longer matches: deleted from the topic, still in all (an edit
    # changes no tags, so the article is one the topic matched by its words)
    edited = next(a for a in sorted(in_ukraine - {retracted})
                  if not any("العسكرية" in tag.name for tag in replica.article(a).tags))
    replica.edit(edited, title="حالة الطقس في موسكو", lead="أمطار خفيفة متوقعة",
                 paragraphs=["توقعت الأرصاد الجوية أمطارا خفيفة في العاصمة خلال الأيام المقبلة."])
    assert (await poll_when_due(service, clock)).updated == 1
    items, deleted = await listing(http, base, "ukraine-war")
    assert edited not in items and edited in deleted
    items, deleted = await listing(http, base, "all")
    assert edited in items and edited not in deleted

    # the topic's rules change: what no longer matches is deleted from it
    kept = sorted(in_ukraine - {retracted, edited})
    section = replica.article(kept[0]).section  # excluded from now on
    head, ukraine_table = shipped.split('slug = "ukraine-war"', 1)
    ukraine_table = ukraine_table.replace('exclude = "section:sport"',
                                          f'exclude = "section:sport OR section:{section}"', 1)
    topics_file.write_text(head + 'slug = "ukraine-war"' + ukraine_table, encoding="utf-8")
    assert await service.topics.reload()
    after_reload, deleted = await listing(http, base, "ukraine-war")
    dropped = set(kept) - after_reload
    assert kept[0] in dropped and dropped <= deleted, "every article the new rules dropped"

    # consumers that followed the stream hold exactly what the feeds show
    await everything.follow()
    await ukraine.follow()
    assert set(everything.items) == (await listing(http, base, "all"))[0]
    assert set(ukraine.items) == after_reload
    assert ("delete", retracted) in everything.seen and ("delete", edited) in ukraine.seen
    assert ("delete", edited) not in everything.seen
    assert everything.items[edited]["title"] == "حالة الطقس في موسكو"

    # past the window the feeds stop listing them; the stream still has them
    clock.advance(days=8)
    await poll_when_due(service, clock)
    for slug in ("all", "ukraine-war"):
        assert (await listing(http, base, slug))[1] == set()
    assert await ukraine.follow() == 0, "expiry is not a change of any item"

    # past the retention, a position from before the expired changes cannot go on; one
    # after them misses nothing and goes on
    clock.advance(days=30)
    await poll_when_due(service, clock)
    async with http.get(f"{base}/api/changes", params={"since": early}) as response:
        assert response.status == 410
        assert "read the feeds again" in (await response.json())["error"]["message"]
    assert await everything.follow() == 0 and await ukraine.follow() == 0
    fresh = Mirror(http, base)
    await fresh.start()
    assert await fresh.follow() == 0


async def test_the_stream_answers_304_and_refuses_what_it_did_not_issue(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path, clock: Clock) -> None:
    settings = settings_for(replica.base_url, tmp_path)
    service, http, base = await serve_feedsvc(settings)
    await service.poller.poll(settings.sources[0])
    mirror = Mirror(http, base)
    await mirror.start()
    url = f"{base}/api/changes?since={mirror.token}"
    async with http.get(url) as response:
        etag, modified = response.headers["ETag"], response.headers["Last-Modified"]
        assert response.headers["Cache-Control"] == "no-cache"
    async with http.get(url, headers={"If-None-Match": etag}) as response:
        assert response.status == 304
    async with http.get(url, headers={"If-Modified-Since": modified}) as response:
        assert response.status == 304
    replica.publish_next()
    await poll_when_due(service, clock)
    async with http.get(url, headers={"If-None-Match": etag}) as response:
        assert response.status == 200 and response.headers["ETag"] != etag
        assert len((await response.json())["changes"]) >= 1

    forged = mirror.token[:-2] + ("AA" if not mirror.token.endswith("AA") else "BB")
    for params, status in ((f"since={forged}", 400), ("since=WzAsIngiXQ", 400),
                           ("since=", 400), ("limit=0", 400), ("limit=100000", 400),
                           ("topic=no-such-topic", 404), ("since=1&since=2", 400),
                           ("cursor=x", 400)):
        async with http.get(f"{base}/api/changes?{params}") as response:
            assert response.status == status, params
            assert (await response.json())["error"]["status"] == status
    # a feed cursor is no position, and a position is no cursor
    async with http.get(f"{base}/feeds/all.json?cursor={mirror.token}") as response:
        assert response.status == 400
    async with http.get(f"{base}/feeds/all.json?limit=5") as response:
        first = orjson.loads(await response.read())
    cursor = re.search(r"cursor=([^&]+)", first["next_url"])
    assert cursor is not None
    async with http.get(f"{base}/api/changes?since={cursor.group(1)}") as response:
        assert response.status == 400
