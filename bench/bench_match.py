"""Per-article topic matching time at 10, 1,000 and 10,000 topics.

Run: ``.venv/bin/python bench/bench_match.py`` (``--quick`` for a short run).

Articles are the replica's real-text articles (``feedsvc/replica/data/articles.json``:
title, lead, paragraphs, tags). Topic terms are drawn from a 20,000-word vocabulary:
the corpus's own content words (4+ letters, outside the 150 most frequent) plus other
Arabic-letter word forms absent from it, because a real topic set names far more
people, places and things than any one article mentions; ``CORPUS_SHARE`` of the
terms come from the corpus, weighted by frequency. Queries take the shapes real
topics use: OR lists, implicit AND, phrases taken from the text, prefix wildcards,
NOT and field scopes. The "matched" column shows how many topics an article hits.
Each size is compared in the same run with the 10-topic figure and with a naive loop
that evaluates every topic (``TopicIndex.match_scan``). Times include ``prepare``
(normalizing and tokenizing the article), so they are what one article costs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feedsvc.models import Article  # noqa: E402
from feedsvc.normalize.arabic import tokenize  # noqa: E402
from feedsvc.topics import Topic, TopicIndex, compile_topics  # noqa: E402
from tests.topics.topic_articles import replica_articles  # noqa: E402

SIZES = (10, 1_000, 10_000)
VOCABULARY_SIZE = 20_000
CORPUS_SHARE = 0.3
LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"


def vocabulary(articles: list[Article]) -> tuple[list[str], list[int], list[tuple[str, str]]]:
    counts: Counter[str] = Counter()
    pairs: list[tuple[str, str]] = []
    for article in articles:
        tokens = tokenize(f"{article.title} {article.content_text}")
        counts.update(tokens)
        pairs += [(a, b) for a, b in zip(tokens, tokens[1:], strict=False) if len(a) > 3 and len(b) > 3]
    common = {word for word, _ in counts.most_common(150)}
    words = [w for w in counts if len(w) >= 4 and not w.isdigit() and w not in common]
    return words, [counts[w] for w in words], pairs


def make_topics(count: int, articles: list[Article], share: float = CORPUS_SHARE, seed: int = 7) -> list[Topic]:
    rng = random.Random(seed)
    words, weights, pairs = vocabulary(articles)
    known = set(words)
    others: list[str] = []
    while len(others) < VOCABULARY_SIZE - len(words):
        candidate = "".join(rng.choices(LETTERS, k=rng.randint(4, 8)))
        if candidate not in known:
            others.append(candidate)

    def word() -> str:
        if rng.random() < share:
            return rng.choices(words, weights)[0]
        return rng.choice(others)

    shapes = [
        lambda: f"{word()} OR {word()} OR {word()}",
        lambda: f"{word()} {word()}",
        lambda: '"{} {}"'.format(*rng.choice(pairs)) if rng.random() < share else f'"{word()} {word()}"',
        lambda: f"{word()[:4]}* AND ({word()} OR {word()})",
        lambda: f"({word()} OR {word()}) NOT {word()}",
        lambda: f"title:{word()} OR tag:{word()}",
    ]
    return [Topic(f"t{n}", "t", "t", rng.choice(shapes)()) for n in range(count)]


def per_article(match: object, articles: list[Article], rounds: int) -> float:
    """Median over rounds of the mean seconds per article."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for article in articles:
            match(article)  # type: ignore[operator]
        samples.append((time.perf_counter() - start) / len(articles))
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--corpus-share", type=float, default=CORPUS_SHARE,
                        help="share of topic terms drawn from the corpus (default %(default)s)")
    args = parser.parse_args()
    articles = replica_articles()
    if not articles:
        sys.exit("no replica articles found")
    rounds = 3 if args.quick else 7
    tokens = statistics.mean(len(tokenize(f"{a.title} {a.summary} {a.content_text}")) for a in articles)
    print(f"{len(articles)} articles, {tokens:.0f} tokens each on average; corpus share {args.corpus_share}; median of {rounds} rounds")
    print(f"{'topics':>7} {'index µs/article':>17} {'articles/s':>11} {'vs 10':>6} {'naive µs/article':>17} {'naive/index':>12} {'matched/article':>16}")
    baseline = 0.0
    for size in SIZES:
        index: TopicIndex = compile_topics(make_topics(size, articles, args.corpus_share))
        indexed = per_article(index.match, articles, rounds)
        naive = per_article(index.match_scan, articles, 1 if size > 1000 else rounds)
        baseline = baseline or indexed
        hits = statistics.mean(len(index.match(a)) for a in articles)
        assert all(index.match(a) == index.match_scan(a) for a in articles[:10])
        print(f"{size:>7} {indexed * 1e6:>17.0f} {1 / indexed:>11.0f} {indexed / baseline:>6.2f} {naive * 1e6:>17.0f} {naive / indexed:>12.1f} {hits:>16.1f}")


if __name__ == "__main__":
    main()
