"""Extraction throughput on saved article pages, against a bare parse of the same pages.

    python bench/bench_extract.py [--seconds 2] [--pad KIB] [--pages DIR ...]

Prints pages/s for:

- ``parse``    selectolax (Lexbor) parse of the bytes: the floor any extractor pays;
- ``extract``  ``extract_article``: decode, parse, the whole step chain, checks;
- ``+clean``   ``extract_article`` then ``clean_body`` on its body: the page's
               whole cost before normalization proper.

Single-threaded, so the figures are for one core. Each measurement repeats the
page set until ``--seconds`` have passed and keeps the best of three runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from selectolax.lexbor import LexborHTMLParser

from feedsvc.errors import ExtractError
from feedsvc.extract import extract_article
from feedsvc.normalize.html import clean_body

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIRS = (ROOT / "tests/extract/pages", ROOT / "tests/extract/handmade")
NOW = datetime(2100, 1, 1, tzinfo=UTC)
URL = "https://arabic.rt.com/news/1-x/"


def load_pages(dirs: list[Path]) -> list[bytes]:
    return [path.read_bytes() for folder in dirs for path in sorted(folder.glob("*.html"))]


def padded(page: bytes, kib: int) -> bytes:
    """The page with ``kib`` KiB of page chrome after ``<body>``: live pages carry far
    more navigation, scripts and "read more" lists than the replica renders."""
    if kib <= 0:
        return page
    item = '<li><a class="heading" href="/middle_east/1979000-x/">عنوان خبر آخر من قائمة الأخبار</a></li>'
    script = "<script>window.dataLayer=window.dataLayer||[];dataLayer.push({event:'view'});</script>"
    block = (f"<aside class='read-more'><ul>{item * 20}</ul></aside>{script}").encode()
    chrome = block * max(1, kib * 1024 // len(block))
    return page.replace(b"<body>", b"<body>" + chrome, 1)


def bare_parse(page: bytes) -> object:
    # Returns no node, so the tree is freed here, as it is inside extract_article.
    return LexborHTMLParser(page).body is not None


def extract(page: bytes) -> object:
    try:
        return extract_article(page, URL, now=NOW)
    except ExtractError:  # the refused pages in the set cost time too
        return None


def extract_and_clean(page: bytes) -> object:
    raw = extract(page)
    if raw is None or not getattr(raw, "body_html", None):
        return None
    return clean_body(raw.body_html, URL)  # type: ignore[attr-defined]


def rate(work: Callable[[bytes], object], pages: list[bytes], seconds: float) -> float:
    """Best pages/s of three runs of ``seconds`` each."""
    best = 0.0
    for _ in range(3):
        done, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            for page in pages:
                work(page)
            done += len(pages)
        best = max(best, done / elapsed)
    return best


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="length of one timed run")
    parser.add_argument("--pages", type=Path, nargs="*", default=list(DEFAULT_DIRS))
    parser.add_argument("--pad", type=int, default=0, metavar="KIB",
                        help="add this much page chrome to each page (live pages weigh ~150 KiB)")
    args = parser.parse_args(argv)
    pages = [padded(page, args.pad) for page in load_pages(args.pages)]
    if not pages:
        print("no pages found", file=sys.stderr)
        return 1
    size = sum(map(len, pages)) / len(pages) / 1024
    print(f"{len(pages)} pages, {size:.1f} KiB average, python {sys.version.split()[0]}")
    workloads = (("parse", bare_parse), ("extract", extract), ("+clean", extract_and_clean))
    # One untimed round of everything first: the allocator's first large-page
    # cycles otherwise land on whichever workload happens to run first.
    for _, work in workloads:
        for page in pages:
            work(page)
    baseline = rate(bare_parse, pages, args.seconds)
    for name, work in workloads:
        pages_per_s = baseline if work is bare_parse else rate(work, pages, args.seconds)
        print(f"{name:8} {pages_per_s:9.0f} pages/s  {1000 / pages_per_s:6.3f} ms/page  "
              f"{pages_per_s / baseline:5.2f}x parse")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
