"""Per-article topic matching time at 10, 1,000 and 10,000 topics.

Run: ``.venv/bin/python bench/bench_match.py`` (``--quick`` for a short run).

Articles are the replica's real-text articles (``feedsvc/replica/data/articles.json``:
title, lead, paragraphs, tags). Two generated topic sets are measured, both with a
fixed seed:

*realistic* (the target's workload). Operators build topics from distinctive
terms: names, places, organisations, specific phrases. So terms are drawn from
the corpus's content words (4+ letters, not digits) outside the ``COMMON_WORDS``
most frequent, weighted by inverse document frequency, so that words found in one
article are the likeliest; wildcards are stems of such words (the article ال
removed, 5+ letters). A topic set names entities from all of the news, while the
sample covers a few days, so only ``REALISTIC_SHARE`` of the terms are words of
these articles; the rest are Arabic word forms absent from them. That share is
the one calibrated assumption: it puts a typical article in a handful of the
10,000 topics (the "matched" column), as real topic sets do. Shapes: OR lists of
2 to 5 names, a phrase AND a term, a stem wildcard AND an OR list, an OR list
with a NOT, title:/tag: scopes, and some topics with an ``exclude`` or a section
filter.

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
import math
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feedsvc.models import Article  # noqa: E402
from feedsvc.normalize.arabic import clear_caches, tokenize  # noqa: E402
from feedsvc.topics import Topic, TopicIndex, compile_topics  # noqa: E402
from tests.topics.reference import reference  # noqa: E402
from tests.topics.topic_articles import replica_articles  # noqa: E402

SIZES = (10, 1_000, 10_000)
VOCABULARY_SIZE = 20_000
CORPUS_SHARE = 0.3
REALISTIC_SHARE = 0.03
COMMON_WORDS = 300
LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"


def article_tokens(article: Article) -> list[str]:
    return tokenize(f"{article.title} {article.summary} {article.content_text}")


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


def absent_words(rng: random.Random, known: set[str], count: int) -> list[str]:
    """Arabic-letter word forms missing from the corpus: names the sample lacks."""
    others: list[str] = []
    while len(others) < count:
        candidate = "".join(rng.choices(LETTERS, k=rng.randint(4, 8)))
        if candidate not in known:
            others.append(candidate)
    return others


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


def realistic_topics(count: int, articles: list[Article], share: float = REALISTIC_SHARE, seed: int = 7) -> list[Topic]:
    """Topics built from distinctive terms (see the module docstring)."""
    rng = random.Random(seed)
    documents: Counter[str] = Counter()
    pairs: list[tuple[str, str]] = []
    for article in articles:
        tokens = article_tokens(article)
        documents.update(set(tokens))
        pairs += list(zip(tokens, tokens[1:], strict=False))
    ranked = sorted(documents, key=lambda w: (-documents[w], w))  # no dependence on hash order
    common = set(ranked[:COMMON_WORDS])
    words = sorted(w for w in documents if len(w) >= 4 and not w.isdigit() and w not in common)
    weights = [math.log(len(articles) / documents[w]) for w in words]
    distinct_pairs = [(a, b) for a, b in pairs if not {a, b} & common and min(len(a), len(b)) >= 4]
    others = absent_words(rng, set(documents), VOCABULARY_SIZE)

    def name() -> str:
        return rng.choices(words, weights)[0] if rng.random() < share else rng.choice(others)

    def names(low: int, high: int) -> str:
        return " OR ".join(name() for _ in range(rng.randint(low, high)))

    def phrase() -> str:
        first, second = rng.choice(distinct_pairs) if rng.random() < share else (name(), name())
        return f'"{first} {second}"'

    def stem() -> str:
        word = name()
        word = word[2:] if word.startswith("ال") and len(word) > 6 else word
        return word[: max(5, len(word) - 2)] + "*"

    shapes = [
        lambda: names(2, 5),
        lambda: f"{phrase()} AND {name()}",
        lambda: f"{phrase()} OR {phrase()}",
        lambda: f"{stem()} AND ({names(2, 3)})",
        lambda: f"({names(2, 4)}) NOT {name()}",
        lambda: f"title:({names(1, 3)}) OR tag:{name()}",
        lambda: f"{name()} {name()}",
    ]
    topics = []
    for n in range(count):
        query = rng.choice(shapes)()
        exclude = "section:sport" if rng.random() < 0.1 else None
        sections = ("news", "world") if rng.random() < 0.05 else ()
        topics.append(Topic(f"t{n}", "t", "t", query, exclude, sections))
    return topics


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
