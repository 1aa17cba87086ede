"""``feedsvc topics try`` and ``topics diff`` as processes, over a store filled by
polling the replica, checked against what the store and a real reload say."""

from __future__ import annotations

import asyncio
import re
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest

from feedsvc.errors import TopicConfigError
from feedsvc.replica import ReplicaSite
from feedsvc.store import Store
from feedsvc.topics import parse_topics
from tests.conftest import REPLICA_NOW, SHIPPED_TOPICS, settings_for

pytestmark = [pytest.mark.slow, pytest.mark.dates]
NOW_ARG = REPLICA_NOW.isoformat()
LAVROV = '''
[[topics]]
slug = "lavrov"
title = "لافروف"
description = "كل ما يقوله وزير الخارجية الروسي"
query = "لافروف"
'''


@dataclass
class Ran:
    code: int
    out: str
    err: str


async def feedsvc(*args: str) -> Ran:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "feedsvc", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    except TimeoutError:  # a process that never exits fails the test instead of hanging it
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


def write_config(tmp_path: Path, topics: Path, database: Path) -> Path:
    config = tmp_path / "feedsvc.toml"
    config.write_text(f'topics_file = "{topics}"\n[storage]\nurl = "sqlite:///{database}"\n'
                      '[[sources]]\nname = "rt-arabic"\nbase_url = "http://127.0.0.1:9"\n',
                      encoding="utf-8")
    return config


@pytest.fixture
async def polled(replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> Any:
    """feedsvc with the replica's articles stored (the feed and a month of sitemap)."""
    topics_file = tmp_path / "topics.toml"
    topics_file.write_text(SHIPPED_TOPICS.read_text(encoding="utf-8"), encoding="utf-8")
    settings = settings_for(replica.base_url, tmp_path, topics_file=topics_file,
                            backfill_max_age=timedelta(days=30), max_pages_per_poll=200)
    service, _, _ = await serve_feedsvc(settings)
    report = await service.poller.poll(settings.sources[0])
    assert report.new > 40 and report.page_errors == 0
    config = write_config(tmp_path, topics_file, tmp_path / "feedsvc.db")
    return service, config, topics_file


async def members(store: Store, slug: str) -> list[Any]:
    return await store.topic_page(slug, limit=10_000)


def shipped(slug: str) -> dict[str, Any]:
    topics = tomllib.loads(SHIPPED_TOPICS.read_text(encoding="utf-8"))["topics"]
    return next(topic for topic in topics if topic["slug"] == slug)


async def test_try_finds_what_the_saved_topic_holds_newest_first_with_fourteen_days(
        polled: Any) -> None:
    service, config, _ = polled
    gaza = shipped("gaza")
    stored = await members(service.store, "gaza")
    assert len(stored) > 3
    ran = await feedsvc("topics", "try", gaza["query"], "--exclude", gaza["exclude"],
                        "--limit", "3", "--now", NOW_ARG, "--config", str(config))
    assert (ran.code, ran.err) == (0, ""), ran.err
    lines = ran.out.splitlines()
    listed = [line.split("  ")[1] for line in lines[0:6:2]]
    assert listed == [a.id for a in stored[:3]], "newest first, as the feed lists them"
    for line, article in zip(lines[0:6:2], stored, strict=False):
        assert line.endswith(f"  {article.title}")
    assert all(re.fullmatch(r"    matched: \S.*", line) for line in lines[1:6:2])
    assert lines[6] == f"{len(stored)} article(s) match; the newest 3 listed"

    days = [line.split() for line in lines[8:]]
    assert lines[7] == "matches per day (UTC), 2026-11-16 to 2026-11-29:" and len(days) == 14
    expected = Counter(a.published.astimezone(UTC).date().isoformat() for a in stored)
    assert [d for d, _ in days] == [(REPLICA_NOW - timedelta(days=13 - n)).date().isoformat()
                                    for n in range(14)]
    assert {d: int(count) for d, count in days} == {d: expected[d] for d, _ in days}
    assert any(count == "0" for _, count in days), "days without a match are shown too"


async def test_try_reads_arabic_spellings_alike_and_ends_the_days_at_nows_utc_day(
        polled: Any) -> None:
    _, config, _ = polled
    plain = await feedsvc("topics", "try", "غزه", "--now", NOW_ARG, "--config", str(config))
    marked = await feedsvc("topics", "try", "غزّة", "--now", "2026-11-29T01:30:00+03:00",
                           "--config", str(config))
    assert plain.code == marked.code == 0
    assert plain.out.splitlines()[0].startswith("2026-")
    cut = plain.out.index("matches per day")
    assert marked.out[:cut] == plain.out[:cut], "same matches, whatever the spelling"
    assert "2026-11-15 to 2026-11-28:" in marked.out, "01:30 in Riyadh is still the 28th in UTC"


async def test_diff_figures_are_what_the_reload_then_changes(polled: Any) -> None:
    service, config, topics_file = polled
    store = service.store
    head, *tables = topics_file.read_text(encoding="utf-8").split("[[topics]]\n")
    edits = {
        "gaza": lambda t: t.replace('exclude = "section:sport"',
                                    'exclude = "section:sport OR النازحين OR اونروا"'),
        "sport": lambda t: t + 'sections = ["no_such_section"]\n',
        "economy-sanctions": lambda t: "",
    }
    edited = [edits.get(slug_of(table), lambda t: t)(table) for table in tables]
    candidate_text = head + "".join(f"[[topics]]\n{t}" for t in edited if t) + LAVROV
    candidate = topics_file.with_name("candidate.toml")
    candidate.write_text(candidate_text, encoding="utf-8")
    slugs = ["gaza", "sport", "economy-sanctions", "lavrov"]
    before = {slug: {a.id: a.title for a in await members(store, slug)} for slug in slugs}

    ran = await feedsvc("topics", "diff", str(candidate), "--config", str(config))
    assert (ran.code, ran.err) == (0, ""), ran.err
    blocks = parse_diff(ran.out)

    topics_file.write_text(candidate_text, encoding="utf-8")
    assert await service.topics.reload()
    after = {slug: {a.id: a.title for a in await members(store, slug)} for slug in slugs}
    kinds = {"gaza": "changed", "sport": "changed", "economy-sanctions": "removed",
             "lavrov": "added"}
    assert {slug: block.kind for slug, block in blocks.items()} == kinds
    for slug in slugs:
        gained, lost = set(after[slug]) - set(before[slug]), set(before[slug]) - set(after[slug])
        block = blocks[slug]
        assert (block.added, block.removed) == (len(gained), len(lost)), slug
        assert (block.before, block.after) == (len(before[slug]), len(after[slug])), slug
        assert len(block.plus) == min(3, len(gained)) and len(block.minus) == min(3, len(lost))
        assert all(after[slug][i] == title for i, title in block.plus)
        assert all(before[slug][i] == title for i, title in block.minus)
    assert blocks["gaza"].removed > 0 and blocks["lavrov"].added > 0, "the test moves articles"
    assert blocks["sport"].after == 0 and blocks["economy-sanctions"].before > 0
    unchanged = [line for line in ran.out.splitlines() if line.startswith("unchanged ")]
    assert unchanged == ["unchanged 3 topic(s): syria-diplomacy, ukraine-war, russia-us-relations"]


def slug_of(table: str) -> str:
    found = re.match(r'slug = "([^"]+)"', table)
    assert found is not None, table
    return found[1]


@dataclass
class Block:
    kind: str
    added: int
    removed: int
    before: int
    after: int
    plus: list[tuple[str, str]]
    minus: list[tuple[str, str]]


def parse_diff(output: str) -> dict[str, Block]:
    blocks: dict[str, Block] = {}
    current: Block | None = None
    for line in output.splitlines():
        head = re.fullmatch(r"(added|changed|removed) +(\S+): would add (\d+), remove (\d+) "
                            r"\(now (\d+) articles, then (\d+)\)", line)
        example = re.fullmatch(r"    ([+-]) (\S+)  (.+)", line)
        if head is not None:
            numbers = [int(n) for n in head.groups()[2:]]
            current = blocks[head[2]] = Block(head[1], *numbers, [], [])  # type: ignore[arg-type]
        elif example is not None and current is not None:
            (current.plus if example[1] == "+" else current.minus).append((example[2], example[3]))
        else:
            assert line.startswith("unchanged "), line
    return blocks


async def test_diff_of_the_file_in_force_changes_nothing(polled: Any) -> None:
    _, config, topics_file = polled
    ran = await feedsvc("topics", "diff", str(topics_file), "--config", str(config))
    assert ran.code == 0 and ran.out.splitlines() == [
        "no topic added, changed or removed",
        "unchanged 6 topic(s): syria-diplomacy, ukraine-war, gaza, russia-us-relations, "
        "economy-sanctions, sport"]


# --- bad input: one line (or one per fault), exit non-zero, never a traceback ------

def offline_config(tmp_path: Path) -> tuple[Path, Path]:
    database = tmp_path / "data" / "feedsvc.db"
    return write_config(tmp_path, SHIPPED_TOPICS, database), database


async def test_a_bad_query_gets_the_topics_files_reason_and_position(tmp_path: Path) -> None:
    config, _ = offline_config(tmp_path)
    ran = await feedsvc("topics", "try", "غزة AND (رفح", "--config", str(config))
    assert (ran.code, ran.out) == (1, "")
    assert ran.err == "query:1:9: unbalanced '(': no ')' closes it\n"
    with pytest.raises(TopicConfigError) as in_file:
        parse_topics('[[topics]]\nslug = "t"\ntitle = "t"\ndescription = "d"\n'
                     'query = "غزة AND (رفح"\n', "topics.toml")
    assert in_file.value.problems == ["topics.toml:5:18: query: unbalanced '(': no ')' closes it"]

    ran = await feedsvc("topics", "try", "غزة", "--exclude", "NOT رفح", "--config", str(config))
    assert ran.code == 1 and ran.err.splitlines() == [
        "exclude:1:1: query would match every article: it needs a term that must be present"]


async def test_a_missing_database_is_named_and_not_created(tmp_path: Path) -> None:
    config, database = offline_config(tmp_path)
    for args in (("try", "غزة"), ("diff", str(SHIPPED_TOPICS))):
        ran = await feedsvc("topics", *args, "--config", str(config))
        assert (ran.code, ran.out) == (1, "")
        assert ran.err == (f"no database at {database} (storage.url): poll first, "
                           "or pass --config\n")
    assert not database.exists() and not database.parent.exists()


async def test_an_unreadable_database_is_one_line(tmp_path: Path) -> None:
    config, database = offline_config(tmp_path)
    database.parent.mkdir()
    database.write_bytes(b"these bytes are not a SQLite database" * 200)
    ran = await feedsvc("topics", "try", "غزة", "--config", str(config))
    assert ran.code == 1 and "Traceback" not in ran.err
    assert ran.err.startswith(f"cannot open {database}:") and len(ran.err.splitlines()) == 1


async def test_a_missing_or_invalid_candidate_file(tmp_path: Path) -> None:
    config, _ = offline_config(tmp_path)
    missing = tmp_path / "nowhere.toml"
    ran = await feedsvc("topics", "diff", str(missing), "--config", str(config))
    assert ran.code == 1 and len(ran.err.splitlines()) == 1
    assert ran.err == f"{missing}: cannot read the file: No such file or directory\n"

    invalid = tmp_path / "candidate.toml"
    invalid.write_text(LAVROV.replace('"لافروف"\n', '"(لافروف"\n') + LAVROV, encoding="utf-8")
    ran = await feedsvc("topics", "diff", str(invalid), "--config", str(config))
    checked = await feedsvc("check-config", "--config",
                            str(write_config(tmp_path, invalid, tmp_path / "x.db")))
    assert ran.code == checked.code == 1
    assert ran.err == checked.err and ran.err.splitlines() == [
        f"{invalid}:6:10: query: unbalanced '(': no ')' closes it",
        f"{invalid}:9:8: duplicate slug 'lavrov' (first defined on line 3)"]


async def test_bad_options_are_refused_by_the_parser(tmp_path: Path) -> None:
    config, _ = offline_config(tmp_path)
    for option, value, reason in (("--now", "yesterday", "not an ISO 8601 time"),
                                  ("--limit", "-1", "not a whole number")):
        ran = await feedsvc("topics", "try", "غزة", option, value, "--config", str(config))
        assert ran.code == 2 and reason in ran.err and "Traceback" not in ran.err
