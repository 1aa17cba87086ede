"""Precision and recall of the matcher on the labelled evaluation set.

``eval_set.json`` holds small synthetic Arabic articles, each with the topics it must
(true) or must not (false) match: clitics, spelling variants, diacritics, digits,
phrases, NOT and field scopes, plus the configured topics of ``config/topics.toml``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feedsvc.topics import Topic, compile_topics, load_topics
from tests.topics.topic_articles import make_article

HERE = Path(__file__).parent
CONFIG = HERE.parents[1] / "config" / "topics.toml"
THRESHOLD = 0.97


def _eval_topics(data: dict[str, dict[str, dict[str, str]]]) -> list[Topic]:
    extra = [
        Topic(slug, slug, slug, spec["query"], spec.get("exclude"))
        for slug, spec in data["topics"].items()
    ]
    return [*load_topics(CONFIG), *extra]


def test_precision_and_recall(pytestconfig: pytest.Config) -> None:
    data = json.loads((HERE / "eval_set.json").read_text(encoding="utf-8"))
    index = compile_topics(_eval_topics(data))
    counts = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    misses: list[str] = []
    for number, case in enumerate(data["articles"]):
        article = make_article(
            case["title"], case["body"], section=case["section"], tags=tuple(case["tags"]),
            source=case.get("source", "rt-arabic"),
        )
        matched = index.match(article)
        for slug, expected in case["expect"].items():
            got = slug in matched
            counts[("t" if got == expected else "f") + ("p" if got else "n")] += 1
            if got != expected:
                misses.append(f"  #{number} {slug}: expected {expected}, got {got}: {case['title']}")
    precision = counts["tp"] / max(counts["tp"] + counts["fp"], 1)
    recall = counts["tp"] / max(counts["tp"] + counts["fn"], 1)
    report = (
        f"\ntopic eval set: {sum(counts.values())} pairs {counts}\n"
        f"  precision {precision:.3f}  recall {recall:.3f}\n" + "\n".join(misses)
    )
    capture = pytestconfig.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():  # type: ignore[union-attr]
        print(report)
    assert precision >= THRESHOLD and recall >= THRESHOLD, report
