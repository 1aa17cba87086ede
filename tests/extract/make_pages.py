"""Render saved article pages for the extractor's tests, each with its expected extraction.

    python tests/extract/make_pages.py           # (re)write tests/extract/pages/
    python tests/extract/make_pages.py --check   # fail if a saved file differs

Pages come from the replica's renderer and data, on the real site's base URL, so a
change to either shows up here as a diff to review.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from feedsvc.replica.render import render_page
from feedsvc.replica.site import ReplicaSite

PAGES_DIR = Path(__file__).parent / "pages"
BASE_URL = "https://arabic.rt.com"


@dataclass(frozen=True, slots=True)
class SavedPage:
    name: str
    article_id: int
    jsonld: bool = True
    opengraph: bool = True
    why: str = ""


SAVED_PAGES = (
    SavedPage("reference-780269", 780269, why="the Lavrov article of the reference page text"),
    SavedPage("no-jsonld-1978045", 1978045, jsonld=False, why="OpenGraph only"),
    SavedPage("no-opengraph-1978354", 1978354, opengraph=False, why="JSON-LD only"),
    SavedPage("no-blocks-1978612", 1978612, jsonld=False, opengraph=False,
              why="selectors only; modified is not on the page"),
    SavedPage("legacy-1793317", 1793317, why="legacy template: article__text body"),
    SavedPage("author-1978464", 1978464, why="a named author"),
    SavedPage("quirks-1979237", 1979237, why="&nbsp;, an empty <p>, an inline link"),
    SavedPage("nbsp-1979581", 1979581, why="U+00A0 characters from the data, an empty <p>"),
    SavedPage("sport-1978741", 1978741, why="sport section"),
    SavedPage("business-1978015", 1978015, why="business section, edited after publication"),
)


def rendered(site: ReplicaSite, saved: SavedPage) -> dict[Path, bytes]:
    """The two files of one saved page, by path."""
    site.set_markup(jsonld=saved.jsonld, opengraph=saved.opengraph, article_id=saved.article_id)
    article = site.article(saved.article_id)
    if article is None:
        raise SystemExit(f"{saved.name}: article {saved.article_id} is not published")
    page = render_page(site.frame, article, markup=site.markup_for(saved.article_id),
                       read_more=site.read_more(saved.article_id))
    truth = json.dumps(site.ground_truth(saved.article_id), ensure_ascii=False, indent=2) + "\n"
    return {
        PAGES_DIR / f"{saved.name}.html": page,
        PAGES_DIR / f"{saved.name}.expected.json": truth.encode(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    site = ReplicaSite(base_url=BASE_URL)
    stale = []
    for saved in SAVED_PAGES:
        for path, content in rendered(site, saved).items():
            if args.check:
                if not path.exists() or path.read_bytes() != content:
                    stale.append(path.name)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
    for name in stale:
        print(f"stale: {name}", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
