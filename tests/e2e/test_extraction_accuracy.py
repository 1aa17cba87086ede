"""Extraction accuracy over every article of the replica, field by field, end to end.

Every held article is published, feedsvc polls the site feed and every section feed
(together they list every article), and each STORED article is compared with what
the replica says a correct extractor reads from its page (``ground_truth``). Run
twice: with the page's JSON-LD and OpenGraph blocks, and without them, when the
site selectors and the generic fallback carry the whole load.

Field mapping, stored ``Article`` ← ground truth:

    url, title, summary, credit, author, tags equal as they are (url: the canonical URL,
                                              also for articles a feed names by a variant)
    body          content_text paragraphs     ← body_text (plain text per paragraph)
    section       Article.section (URL key)   ← section
    image_url, image_caption                  ← image.url, image.caption (both None when no image)
    published                                 ← published
    updated       the page's modified time, else its published time (never earlier)

Republished copies are folded into their original by dedupe, so they have no stored
article of their own: they are checked to name the survivor and counted as skipped.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from feedsvc.models import Article
from feedsvc.replica import ReplicaSite
from feedsvc.store import Store
from tests.conftest import settings_for

SOURCE = "rt-arabic"
FIELDS = ("url", "title", "summary", "body", "credit", "author", "section", "tags", "image_url",
          "image_caption", "published", "updated")
REQUIRED_ACCURACY = 0.99


@dataclass
class Tally:
    correct: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    compared: set[int] = field(default_factory=set)

    def add(self, article_id: int, name: str, stored: Any, truth: Any) -> None:
        self.compared.add(article_id)
        self.total[name] += 1
        if stored == truth:
            self.correct[name] += 1
        else:
            self.misses.append(f"{article_id} {name}: stored {stored!r} != truth {truth!r}")

    @property
    def overall(self) -> float:
        return sum(self.correct.values()) / max(1, sum(self.total.values()))

    def report(self, label: str) -> str:
        lines = [f"extraction accuracy ({label}): {len(self.compared)} articles, "
                 f"{len(self.skipped)} republished copies skipped {sorted(self.skipped)}"]
        for name in FIELDS:
            lines.append(f"  {name:<14} {self.correct[name]:>3}/{self.total[name]:<3} "
                         f"{self.correct[name] / max(1, self.total[name]):.4f}")
        lines.append(f"  {'overall':<14} {sum(self.correct.values()):>3}/"
                     f"{sum(self.total.values()):<3} {self.overall:.4f}")
        lines += [f"  miss {miss}" for miss in self.misses[:40]]
        return "\n".join(lines)


def _stored_fields(article: Article) -> dict[str, Any]:
    return {
        "url": article.url,
        "title": article.title,
        "summary": article.summary,
        "body": [p for p in article.content_text.split("\n\n") if p],
        "credit": article.credit,
        "author": article.author,
        "section": article.section,
        "tags": list(article.tags),
        "image_url": article.image.url if article.image else None,
        "image_caption": article.image.caption if article.image else None,
        "published": article.published,
        "updated": article.updated,
    }


def _truth_fields(truth: dict[str, Any]) -> dict[str, Any]:
    published = datetime.fromisoformat(truth["published"])
    modified = datetime.fromisoformat(truth["modified"]) if truth["modified"] else None
    image = truth["image"]
    return {
        "url": truth["url"],
        "title": truth["title"],
        "summary": truth["summary"],
        "body": truth["body_text"],
        "credit": truth["credit"],
        "author": truth["author"],
        "section": truth["section"],
        "tags": truth["tags"],
        "image_url": image["url"] if image else None,
        "image_caption": image["caption"] if image else None,
        "published": published,
        "updated": max(modified or published, published),
    }


async def _measure(replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path) -> Tally:
    for article_id in replica.unpublished():
        replica.publish(article_id)
    feeds = ("/rss/", *(f"/rss/{section}/" for section in replica.sections))
    settings = settings_for(replica.base_url, tmp_path, feeds=feeds, max_pages_per_poll=1000)
    service, _, _ = await serve_feedsvc(settings)
    report = await service.poller.poll(settings.sources[0])
    assert (report.failed, report.feed_errors, report.page_errors, report.deferred) == (
        False, [], 0, 0)
    return await _compare_all(replica, service.store)


async def _compare_all(replica: ReplicaSite, store: Store) -> Tally:
    tally = Tally()
    for article_id in sorted(replica.known_ids()):
        copy_of = replica.article(article_id).republish_of  # type: ignore[union-attr]
        stored = await store.get_article(f"{SOURCE}:{article_id}")
        if copy_of is not None and stored is None:
            survivor = await store.resolve_alias(f"id:{SOURCE}:{article_id}")
            assert survivor == f"{SOURCE}:{copy_of}", f"{article_id} is folded into its original"
            tally.skipped.append(article_id)
            continue
        assert stored is not None, f"article {article_id} was not stored"
        truth = _truth_fields(replica.ground_truth(article_id))
        for name, value in _stored_fields(stored).items():
            tally.add(article_id, name, value, truth[name])
    return tally


def _check(tally: Tally, replica: ReplicaSite, label: str,
           capsys: pytest.CaptureFixture[str]) -> None:
    with capsys.disabled():
        print("\n" + tally.report(label))
    assert len(tally.compared) + len(tally.skipped) == len(replica.known_ids())
    assert len(tally.skipped) == sum(
        replica.article(i).republish_of is not None for i in replica.known_ids())  # type: ignore[union-attr]
    assert tally.overall >= REQUIRED_ACCURACY, tally.report(label)


async def test_extraction_accuracy_with_structured_blocks(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    tally = await _measure(replica, serve_feedsvc, tmp_path)
    _check(tally, replica, "JSON-LD and OpenGraph on", capsys)


async def test_extraction_accuracy_from_the_fallbacks_alone(
        replica: ReplicaSite, serve_feedsvc: Any, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    replica.set_markup(jsonld=False, opengraph=False)
    tally = await _measure(replica, serve_feedsvc, tmp_path)
    _check(tally, replica, "JSON-LD and OpenGraph off", capsys)
