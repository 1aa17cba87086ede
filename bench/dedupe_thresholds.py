"""Measure body similarity on the replica's articles to choose the near-duplicate threshold.

Prints the word-shingle Jaccard of every pair at or above a floor, every marked pair
(``republish_of``: must merge; ``similar_to``: must not), the short «عاجل» items, and
the gap between the lowest must-merge and the highest must-not-merge similarity for
shingle sizes 1 to 4. Run: ``.venv/bin/python bench/dedupe_thresholds.py [--floor 0.1]``
"""

from __future__ import annotations

import argparse
import itertools
import zlib
from collections.abc import Iterable
from pathlib import Path

from feedsvc.dedupe.fingerprint import SHINGLE_SIZE, body_tokens, content_fingerprint, jaccard
from feedsvc.dedupe.policy import DedupePolicy
from feedsvc.replica.articles import ReplicaArticle, credit_line, load_articles, paragraph_text

DATA = Path(__file__).resolve().parent.parent / "feedsvc" / "replica" / "data" / "articles.json"
Pair = tuple[int, int]


def body_text(article: ReplicaArticle) -> str:
    """The body as the pipeline's plain text has it: paragraphs, then the credit line."""
    paragraphs = [paragraph_text(p) for p in article.paragraphs]
    credit = credit_line(article)
    return "\n\n".join([*paragraphs, credit] if credit else paragraphs)


def shingle_set(tokens: list[str], size: int) -> frozenset[int]:
    grams = (" ".join(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1)))
    return frozenset(zlib.crc32(gram.encode()) for gram in grams)


def marked_pairs(articles: dict[int, ReplicaArticle]) -> tuple[set[Pair], set[Pair]]:
    same = {_pair(a.id, a.republish_of) for a in articles.values() if a.republish_of in articles}
    different = {_pair(a.id, a.similar_to) for a in articles.values() if a.similar_to in articles}
    return same, different


def urgent_items(articles: dict[int, ReplicaArticle]) -> list[ReplicaArticle]:
    return [a for a in articles.values() if "عاجل" in a.title]


def similarities(tokens: dict[int, list[str]], size: int) -> dict[Pair, float]:
    sets = {aid: shingle_set(words, size) for aid, words in tokens.items()}
    return {_pair(a, b): jaccard(sets[a], sets[b]) for a, b in itertools.combinations(sorted(sets), 2)}


def _pair(a: int, b: int | None) -> Pair:
    assert b is not None
    return (min(a, b), max(a, b))


def _report_pairs(title: str, pairs: Iterable[Pair], sims: dict[Pair, float],
                  articles: dict[int, ReplicaArticle]) -> None:
    print(f"\n{title}")
    for pair in sorted(pairs, key=lambda p: -sims[p]):
        left, right = (articles[i].title[:38] for i in pair)
        print(f"  {sims[pair]:.3f}  {pair[0]} {left}  |  {pair[1]} {right}")


def _gap_table(tokens: dict[int, list[str]], same: set[Pair]) -> None:
    print("\nshingle size | lowest must-merge | highest other pair | gap")
    for size in (1, 2, 3, 4):
        sims = similarities(tokens, size)
        low = min((sims[p] for p in same), default=float("nan"))
        high = max((s for p, s in sims.items() if p not in same), default=float("nan"))
        print(f"  {size}{' (used)' if size == SHINGLE_SIZE else '       '}   | {low:17.3f} | {high:18.3f} | {low - high:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--floor", type=float, default=0.1, help="print every pair at or above this")
    args = parser.parse_args()
    _, _, articles = load_articles(DATA)
    policy = DedupePolicy()
    tokens = {aid: body_tokens(body_text(a)) for aid, a in articles.items()}
    same, different = marked_pairs(articles)
    sims = similarities(tokens, SHINGLE_SIZE)
    lengths = sorted(len(t) for t in tokens.values())
    print(f"{len(articles)} articles, {len(sims)} pairs; body words min {lengths[0]}, "
          f"median {lengths[len(lengths) // 2]}, max {lengths[-1]}; shingle size {SHINGLE_SIZE}")
    _report_pairs(f"pairs with Jaccard >= {args.floor}", [p for p, s in sims.items() if s >= args.floor], sims, articles)
    _report_pairs("republish_of pairs (must merge)", same, sims, articles)
    _report_pairs("similar_to pairs (must not merge)", different, sims, articles)
    print("\nitems titled «عاجل» (must not merge)")
    for article in urgent_items(articles):
        print(f"  {article.id}: {len(tokens[article.id])} body words, fingerprint "
              f"{content_fingerprint(article.title, body_text(article), min_tokens=policy.min_tokens)}")
    _gap_table(tokens, same)
    others = [s for p, s in sims.items() if p not in same]
    low, high = min((sims[p] for p in same), default=1.0), max(others, default=0.0)
    print(f"\nthreshold {policy.threshold}: margin above the highest other pair {policy.threshold - high:.3f}, "
          f"below the lowest must-merge pair {low - policy.threshold:.3f}")
    print(f"LSH ({policy.num_perm} values, {policy.bands} bands): candidate probability "
          f"{policy.candidate_probability(policy.threshold):.3f} at the threshold, "
          f"{policy.candidate_probability(low):.4f} at the lowest must-merge pair, "
          f"{policy.candidate_probability(high):.3f} at the highest other pair")


if __name__ == "__main__":
    main()
