"""Per-article topic matching time at 10, 1,000 and 10,000 topics.

Run: ``.venv/bin/python bench/bench_match.py`` (``--quick`` for a short run).

Articles are the replica's real-text articles (``feedsvc/replica/data/articles.json``:
title, lead, paragraphs, tags). Two generated topic sets are measured, both with a
fixed seed:

*realistic* (the target's workload; ``realistic_topics`` in ``bench/support.py``,
whose docstring tells how it is built, also used by ``bench/scale.py``). Operators build topics
from distinctive terms: names, places, organisations, specific phrases, and only
``REALISTIC_SHARE`` of the terms are words of these articles, which puts a typical
article in a handful of the 10,000 topics (the "matched" column), as real topic
sets do.

*dense* (a stress figure, kept from the first version of this benchmark): terms
from the corpus's content words outside the 150 most frequent, weighted by
frequency (``--corpus-share`` of them, 0.3 by default), 4-letter wildcard
prefixes, so an article hits about 1.2 % of all topics, over 100 at 10,000.

Each size is compared in the same run with the 10-topic figure and with a naive
loop that evaluates every topic's query tree term by term (``tests/topics/reference.py``,
the answer the tests check the index against). Times include
``prepare`` (normalizing and tokenizing the article), so they are what one
article costs, with the memos warm (median of the rounds); "cold" is the first
pass over the articles on a fresh index with the normalization memos cleared.
"""

from __future__ import annotations

import argparse
import functools
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable

from support import (
    REALISTIC_SHARE,
    VOCABULARY_SIZE,
    absent_words,
    article_tokens,
    realistic_topics,
    replica_articles,
)

from feedsvc.models import Article
from feedsvc.normalize.arabic import clear_caches, tokenize
from feedsvc.topics import Topic, TopicIndex, compile_topics
from tests.topics.reference import reference

SIZES = (10, 1_000, 10_000)
CORPUS_SHARE = 0.3


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
    """The dense stress set: frequent content words, short wildcard prefixes."""
    rng = random.Random(seed)
    words, weights, pairs = vocabulary(articles)
    others = absent_words(rng, set(words), VOCABULARY_SIZE - len(words))

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


def per_article(match: Callable[[Article], object], articles: list[Article]) -> float:
    """Mean seconds per article over one pass."""
    start = time.perf_counter()
    for article in articles:
        match(article)
    return (time.perf_counter() - start) / len(articles)


def run(name: str, make: Callable[[int], list[Topic]], articles: list[Article], rounds: int) -> None:
    """Rounds alternate between the sizes, so a burst of load elsewhere on the
    machine falls on all of them alike; each figure is the median of its rounds,
    each timed pass following an untimed one over the same index."""
    indexes: list[TopicIndex] = []
    cold: list[float] = []
    for size in SIZES:
        topics = make(size)
        clear_caches()
        indexes.append(compile_topics(topics))
        cold.append(per_article(indexes[-1].match, articles))
    samples: list[list[float]] = [[] for _ in SIZES]
    for _ in range(rounds):
        for index, sample in zip(indexes, samples, strict=True):
            per_article(index.match, articles)  # untimed: bring this index back into the CPU caches
            sample.append(per_article(index.match, articles))
    print(f"\n{name}")
    print(f"{'topics':>7} {'index µs/article':>17} {'articles/s':>11} {'vs 10':>6} {'cold µs':>8}"
          f" {'naive µs/article':>17} {'naive/index':>12} {'matched/article':>16}")
    baseline = statistics.median(samples[0])
    for size, index, sample, first in zip(SIZES, indexes, samples, cold, strict=True):
        indexed = statistics.median(sample)
        scan = functools.partial(reference, [index.topic(slug) for slug in index.slugs])
        naive = statistics.median(per_article(scan, articles) for _ in range(1 if size > 1000 else 3))
        hits = statistics.mean(len(index.match(a)) for a in articles)
        assert all(index.match(a) == scan(a) for a in articles)
        print(f"{size:>7} {indexed * 1e6:>17.0f} {1 / indexed:>11.0f} {indexed / baseline:>6.2f} {first * 1e6:>8.0f}"
              f" {naive * 1e6:>17.0f} {naive / indexed:>12.1f} {hits:>16.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--share", type=float, default=REALISTIC_SHARE,
                        help="realistic set: share of terms from the articles (default %(default)s)")
    parser.add_argument("--corpus-share", type=float, default=CORPUS_SHARE,
                        help="dense set: share of terms from the articles (default %(default)s)")
    args = parser.parse_args()
    articles = replica_articles()
    if not articles:
        sys.exit("no replica articles found")
    rounds = 5 if args.quick else 31
    tokens = statistics.mean(len(article_tokens(a)) for a in articles)
    print(f"{len(articles)} articles, {tokens:.0f} tokens each on average; median of {rounds} rounds")
    run(f"realistic topics (share {args.share})",
        lambda size: realistic_topics(size, articles, args.share), articles, rounds)
    run(f"dense topics, stress (corpus share {args.corpus_share})",
        lambda size: make_topics(size, articles, args.corpus_share), articles, rounds)


if __name__ == "__main__":
    main()
