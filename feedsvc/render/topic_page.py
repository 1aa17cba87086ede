"""A topic's page ``/topics/{slug}``: its newest articles for people, in Arabic,
right to left, from the same :class:`.model.FeedPage` the feeds are rendered from.

Each article shows its headline (linked to the article on the site), time, section,
lead and image; never its body, which is for the feeds. Paging links come from the
page as given (``first_url``, ``next_url``), so the page walks the same cursors as
the feeds. The head announces both feeds for autodiscovery. No script at all.

Plain HTML5 built from escaped strings (:func:`.htmlparts.text`, :func:`.htmlparts.attr`);
text from articles sits in ``<bdi>`` so stray bidi controls cannot reorder what is
around it, and only http(s) URLs become links or images (:func:`.htmlparts.web_url`).
"""

from __future__ import annotations

from feedsvc.models import Article

from . import fields
from .htmlparts import ATOM_TYPE, BASE_STYLE, JSON_FEED_TYPE, attr, text, time_element, web_url
from .model import FeedMeta, FeedPage
from .xmlsafe import xml_line

LEAD_EXCERPT = 400  # characters of a lead shown; RT Arabic leads are one sentence or two

# Beyond the shared rules: the list of articles, each with its image at the inline end.
STYLE = BASE_STYLE + "\n" + """
.story { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: flex-start;
  padding-block: 1rem; border-block-end: 1px solid var(--rule); }
.story .text { flex: 1 1 18rem; }
.story h2 { font-size: 1.2rem; line-height: 1.5; margin-block: 0 .25rem; }
.story h2 a { color: var(--fg); text-decoration-color: var(--accent); }
.story p { margin-block: .25rem; }
.story img { flex: 0 0 12rem; inline-size: 12rem; block-size: auto; aspect-ratio: 16 / 9;
  object-fit: cover; border-radius: .25rem; }
@media (max-width: 34rem) { .story img { flex-basis: 100%; inline-size: 100%; } }
.paging { display: flex; justify-content: space-between; margin-block-start: 1rem; }
.paging a { margin-inline-start: auto; }
.paging a[rel="first"] { margin-inline-start: 0; }
""".strip()


def render_topic_page(page: FeedPage, *, site_title: str, index_url: str) -> bytes:
    """The HTML page of ``page``, UTF-8 encoded; same bytes for the same arguments.

    ``site_title`` and ``index_url`` name and link the index page in the header.
    """
    meta = page.meta
    title = fields.feed_title(meta)
    site = xml_line(site_title) or "feedsvc"
    lines = [
        "<!DOCTYPE html>",
        f'<html lang="{attr(fields.feed_language(meta))}" dir="rtl">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{text(title)} – {text(site)}</title>",
        *_head_links(page, title),
        f"<style>\n{STYLE}\n</style>",
        "</head>",
        "<body>",
        _header(meta, title, site, index_url),
        "<main>",
        *(_story(meta, article) for article in page.articles),
        *([] if page.articles else [_nothing_here(page)]),
        "</main>",
        _paging(page),
        f'<footer><a href="{attr(index_url)}">كل المواضيع</a></footer>',
        "</body>",
        "</html>",
    ]
    return ("\n".join(line for line in lines if line) + "\n").encode("utf-8")


def _head_links(page: FeedPage, title: str) -> list[str]:
    meta = page.meta
    links = [
        f'<link rel="alternate" type="{ATOM_TYPE}" title="{attr(title)} (Atom)"'
        f' href="{attr(meta.atom_url)}">',
        f'<link rel="alternate" type="{JSON_FEED_TYPE}" title="{attr(title)} (JSON Feed)"'
        f' href="{attr(meta.json_url)}">',
    ]
    if page.next_url:
        links.append(f'<link rel="next" href="{attr(page.next_url)}">')
    return links


def _header(meta: FeedMeta, title: str, site: str, index_url: str) -> str:
    description = xml_line(meta.description)
    parts = [
        "<header>",
        f'<p class="meta"><a href="{attr(index_url)}">{text(site)}</a></p>',
        f"<h1><bdi>{text(title)}</bdi></h1>",
        f"<p><bdi>{text(description)}</bdi></p>" if description else "",
        '<p class="subscribe">اشترك: '
        f'<a href="{attr(meta.atom_url)}" type="{ATOM_TYPE}">Atom</a> '
        f'<a href="{attr(meta.json_url)}" type="{JSON_FEED_TYPE}">JSON Feed</a></p>',
        "</header>",
    ]
    return "\n".join(part for part in parts if part)


def _story(meta: FeedMeta, article: Article) -> str:
    language = fields.entry_language(article, meta)
    lang = f' lang="{attr(language)}"' if language != fields.feed_language(meta) else ""
    parts = [
        f'<article class="story"{lang}>',
        '<div class="text">',
        f"<h2>{_headline(article)}</h2>",
        f'<p class="meta">{_dateline(article)}</p>',
        _lead(article),
        "</div>",
        _image(article),
        "</article>",
    ]
    return "\n".join(part for part in parts if part)


def _headline(article: Article) -> str:
    headline = f"<bdi>{text(fields.entry_title(article))}</bdi>"
    url = web_url(article.url)
    return f'<a href="{attr(url)}">{headline}</a>' if url else headline


def _dateline(article: Article) -> str:
    section = fields.entry_section(article)
    shown = time_element(article.published)
    return f"{shown} · <bdi>{text(section)}</bdi>" if section else shown


def _lead(article: Article) -> str:
    lead = fields.excerpt(fields.entry_summary(article), LEAD_EXCERPT)
    return f'<p class="lead"><bdi>{text(lead)}</bdi></p>' if lead else ""


def _image(article: Article) -> str:
    """The article's image, loaded only when scrolled near; its caption is the alt text
    (an empty alt, when there is no caption, tells screen readers it is decoration)."""
    if article.image is None or (url := web_url(article.image.url)) is None:
        return ""
    caption = xml_line(article.image.caption)
    return f'<img src="{attr(url)}" alt="{attr(caption)}" loading="lazy" decoding="async">'


def _nothing_here(page: FeedPage) -> str:
    if _is_first(page):
        return "<p>لا مقالات في هذا الموضوع بعد.</p>"
    return "<p>لا مقالات أقدم.</p>"


def _paging(page: FeedPage) -> str:
    links = []
    if page.first_url and not _is_first(page):
        links.append(f'<a rel="first" href="{attr(page.first_url)}">→ الأحدث</a>')
    if page.next_url:
        links.append(f'<a rel="next" href="{attr(page.next_url)}">مقالات أقدم ←</a>')
    if not links:
        return ""
    return '<nav class="paging" aria-label="الصفحات">' + " ".join(links) + "</nav>"


def _is_first(page: FeedPage) -> bool:
    """Whether this is the newest page: the feeds' ``first`` page is this very document."""
    return page.first_url is None or page.first_url == page.meta.self_url
