"""Near-duplicate lookups against 100k stored articles, with baselines from the same run.

Synthetic bodies are drawn from the replica's vocabulary with Zipf-like word
frequencies (random letters when the replica content is missing). Queries are half
lightly edited copies of stored bodies (must be found), half fresh bodies (must not).
Run: ``.venv/bin/python bench/bench_near.py [--stored 100000] [--queries 2000]``
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedsvc.dedupe.fingerprint import body_tokens, jaccard, shingles_of, signature_of
from feedsvc.dedupe.near import NearDuplicateIndex, NearMatch
from feedsvc.dedupe.policy import DedupePolicy

DATA = Path(__file__).resolve().parent.parent / "feedsvc" / "replica" / "data" / "articles.json"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = DedupePolicy()
Query = tuple[str, frozenset[int], datetime, str | None]  # text, shingles, published, expected id


def vocabulary() -> tuple[list[str], list[float]]:
    if DATA.exists():
        from feedsvc.replica.articles import load_articles, paragraph_text

        counts = Counter(w for a in load_articles(DATA)[2].values() for p in a.paragraphs for w in paragraph_text(p).split())
        words = [w for w, _ in counts.most_common()]
    else:
        rng = random.Random(7)
        words = ["".join(rng.choice("ابتثجحخدذرزسشصضطظعغفقكلمنهوي") for _ in range(rng.randint(2, 8))) for _ in range(5000)]
    return words, [1.0 / rank for rank in range(1, len(words) + 1)]


class Corpus:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.words, self.weights = vocabulary()

    def text(self) -> str:
        count = self.rng.randint(90, 250)
        words = self.rng.choices(self.words, self.weights, k=count)
        return "\n\n".join(" ".join(words[i : i + 30]) for i in range(0, count, 30))

    def edit(self, text: str) -> str:
        words = text.split(" ")
        for _ in range(max(1, len(words) // 40)):  # about one word in forty replaced
            words[self.rng.randrange(len(words))] = self.rng.choice(self.words)
        return " ".join(words)


def published(number: int) -> datetime:
    return T0 + timedelta(minutes=5 * number)  # about 300 a day, as on the site


def build(corpus: Corpus, stored: int) -> tuple[NearDuplicateIndex, list[str], float]:
    index, texts = NearDuplicateIndex(POLICY), []
    started = time.perf_counter()
    for number in range(stored):
        text = corpus.text()
        shingle_set = shingles_of(body_tokens(text))
        index.add(f"rt:{number}", signature_of(shingle_set, num_perm=POLICY.num_perm), shingle_set, published(number))
        texts.append(text)
    return index, texts, time.perf_counter() - started


def queries(corpus: Corpus, texts: list[str], count: int) -> list[Query]:
    made: list[Query] = []
    for i in range(count):
        if i % 2 == 0:
            number = corpus.rng.randrange(len(texts))
            text, at, expected = corpus.edit(texts[number]), published(number) + timedelta(hours=2), f"rt:{number}"
        else:
            text, at, expected = corpus.text(), published(corpus.rng.randrange(len(texts))), None
        made.append((text, shingles_of(body_tokens(text)), at, expected))
    return made


def run(label: str, lookup: Callable[[Query], NearMatch | str | None], batch: list[Query]) -> float:
    for query in batch[:50]:  # warm caches before timing
        lookup(query)
    started = time.perf_counter()
    answers = [lookup(query) for query in batch]
    rate = len(batch) / (time.perf_counter() - started)
    found = sum(1 for a, q in zip(answers, batch, strict=True) if q[3] and _id(a) == q[3])
    wrong = sum(1 for a, q in zip(answers, batch, strict=True) if a is not None and _id(a) != q[3])
    expected = sum(1 for q in batch if q[3])
    print(f"  {label:<46} {rate:>10,.0f} lookups/s   found {found}/{expected}, wrong {wrong}")
    return rate


def _id(answer: NearMatch | str | None) -> str | None:
    return answer.article_id if isinstance(answer, NearMatch) else answer


def brute_force(index_texts: list[frozenset[int]]) -> Callable[[Query], str | None]:
    def scan(query: Query) -> str | None:
        best = max(range(len(index_texts)), key=lambda n: jaccard(query[1], index_texts[n]))
        return f"rt:{best}" if jaccard(query[1], index_texts[best]) >= POLICY.threshold else None

    return scan


def measure(stored: int, count: int, corpus: Corpus) -> dict[str, float]:
    index, texts, seconds = build(corpus, stored)
    print(f"\n{stored:,} stored articles (built in {seconds:.1f} s, {stored / seconds:,.0f} adds/s)")
    batch = queries(corpus, texts, count)
    options = {"window": POLICY.window, "threshold": POLICY.threshold}
    rates = {
        "shingles": run("find_shingles (body already shingled)", lambda q: index.find_shingles(q[1], q[2], **options), batch),
        "text": run("find (from raw text, incl. normalization)", lambda q: index.find(q[0], q[2], min_tokens=POLICY.min_tokens, **options), batch),
    }
    if stored <= 2000:
        sets = [shingles_of(body_tokens(t)) for t in texts]
        rates["brute"] = run("brute-force exact Jaccard scan", brute_force(sets), batch[: max(1, count // 10)])
    return rates


def memory_per_article(corpus: Corpus, sample: int = 5000) -> float:
    texts = [corpus.text() for _ in range(sample)]
    prepared = [(shingles_of(body_tokens(t))) for t in texts]
    tracemalloc.start()
    index = NearDuplicateIndex(POLICY)
    for number, shingle_set in enumerate(prepared):
        index.add(f"rt:{number}", signature_of(shingle_set, num_perm=POLICY.num_perm), shingle_set, published(number))
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    words = sum(len(s) for s in prepared) / sample
    print(f"\nmemory: {size / sample:,.0f} bytes per indexed article (mean {words:.0f} shingles)")
    return size / sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    print(f"policy: num_perm {POLICY.num_perm}, bands {POLICY.bands}, threshold {POLICY.threshold}, "
          f"window {POLICY.window.days} days, min_tokens {POLICY.min_tokens}")
    baseline = measure(1000, args.queries, Corpus(1))
    large = measure(args.stored, args.queries, Corpus(2))
    memory_per_article(Corpus(3))
    print(f"\n{args.stored:,} vs 1,000 stored: find_shingles {large['shingles'] / baseline['shingles']:.2f}x, "
          f"find {large['text'] / baseline['text']:.2f}x; LSH vs brute force at 1,000: "
          f"{baseline['shingles'] / baseline['brute']:.0f}x")


if __name__ == "__main__":
    main()
