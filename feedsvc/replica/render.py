"""Pure rendering of the replica's documents: article pages, RSS, sitemaps, listings.

Every function takes values and returns bytes or text; none reads the clock or the
site state. The markup follows ``docs/site-markup.md`` to the letter, because the
extractor is written against that document, not against this module.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime

from feedsvc.replica.articles import (
    Frame,
    Markup,
    ReplicaArticle,
    article_path,
    canonical_url,
    credit_line,
    image_url,
)

UTM_QUERY = "utm_source=rss&utm_medium=rss&utm_campaign=RSS"
STORY_HEADLINES = (
    "العملية العسكرية الروسية في أوكرانيا",
    "جنوب اليمن.. تصعيد عسكري وسياسي",
    "كأس أمم إفريقيا 2025",
    "حصاد العام 2025",
)


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


# --- RSS ---------------------------------------------------------------------------


def render_rss(
    frame: Frame,
    entries: Sequence[tuple[ReplicaArticle, str]],
    *,
    section: str | None,
    built_at: datetime,
    ttl_minutes: int = 5,
) -> bytes:
    """An RSS 2.0 channel; each entry is an article and the URL this feed names it by."""
    name = frame.section_names.get(section, section) if section else None
    title = f"RT Arabic - {name}" if name else "RT Arabic"
    link = frame.base_url + (f"/{section}/" if section else "/")
    items = "".join(_rss_item(frame, article, url) for article, url in entries)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n'
        f"<title>{_esc(title)}</title>\n<link>{_esc(link)}</link>\n"
        "<description>آخر الأخبار من RT Arabic</description>\n<language>ar</language>\n"
        f"<lastBuildDate>{format_datetime(built_at.astimezone(UTC))}</lastBuildDate>\n"
        f"<ttl>{ttl_minutes}</ttl>\n{items}</channel>\n</rss>\n"
    ).encode()


def _rss_item(frame: Frame, article: ReplicaArticle, url: str) -> str:
    preview = ""
    enclosure = ""
    if article.image:
        large = image_url(frame, article.image, article.published, "l")
        preview = f'<img src="{_esc(large)}" /> '
        enclosure = f'<enclosure url="{_esc(large)}" type="image/jpeg" length="0"/>\n'
    separator = "&" if "?" in url else "?"
    return (
        f"<item>\n<title>{_esc(article.title)}</title>\n"
        f"<link>{_esc(url + separator + UTM_QUERY)}</link>\n"
        f'<guid isPermaLink="true">{_esc(url)}</guid>\n'
        f"<description>{_cdata(preview + _esc(article.lead))}</description>\n"
        f"<pubDate>{format_datetime(article.published.astimezone(UTC))}</pubDate>\n"
        f"<category>{_esc(frame.section_names.get(article.section, article.section))}</category>\n"
        f"{enclosure}</item>\n"
    )


# --- sitemap, listing, robots --------------------------------------------------------


def render_sitemap_index(frame: Frame, months: Sequence[tuple[str, datetime]]) -> bytes:
    """The index: one child per ``YYYY-MM`` with the newest change in it."""
    children = "".join(
        f"<sitemap><loc>{frame.base_url}/sitemap/{month}.xml</loc>"
        f"<lastmod>{lastmod.astimezone(frame.timezone).isoformat()}</lastmod></sitemap>\n"
        for month, lastmod in months
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{children}</sitemapindex>\n"
    ).encode()


def render_sitemap_month(frame: Frame, articles: Sequence[ReplicaArticle]) -> bytes:
    urls = "".join(
        f"<url><loc>{_esc(canonical_url(frame, article))}</loc>"
        f"<lastmod>{article.modified.astimezone(frame.timezone).isoformat()}</lastmod></url>\n"
        for article in articles
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{urls}</urlset>\n"
    ).encode()


def render_listing(articles: Sequence[ReplicaArticle]) -> bytes:
    """The trend listing fragment: relative ``a.heading`` links, no document around them."""
    cards = "".join(
        f'<div class="card"><a class="heading" href="{_esc(article_path(article))}">'
        f"{_esc(article.title)}</a></div>\n"
        for article in articles
    )
    return f'<div class="listing">\n{cards}</div>\n'.encode()


def render_robots(frame: Frame, *, allowed: bool, crawl_delay: float | None = 1.0) -> bytes:
    rule = "Allow: /" if allowed else "Disallow: /"
    delay = "" if crawl_delay is None else f"Crawl-delay: {crawl_delay:g}\n"
    return (
        f"User-agent: *\n{rule}\n{delay}\nSitemap: {frame.base_url}/sitemap.xml\n"
    ).encode()


# --- article page --------------------------------------------------------------------


def render_page(
    frame: Frame,
    article: ReplicaArticle,
    *,
    markup: Markup,
    read_more: Sequence[ReplicaArticle],
) -> bytes:
    """An article page; the "legacy" template never carries JSON-LD or OpenGraph, and
    without ``markup.modified_time`` the blocks leave out when it was modified."""
    legacy = article.template == "legacy"
    head_blocks = ""
    if markup.opengraph and not legacy:
        head_blocks += _opengraph(frame, article, modified=markup.modified_time)
    if markup.jsonld and not legacy:
        head_blocks += _jsonld(frame, article, modified=markup.modified_time)
    return (
        '<!DOCTYPE html>\n<html lang="ar" dir="rtl">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_esc(article.title)} - RT Arabic</title>\n"
        f'<meta name="description" content="{_esc(article.lead)}">\n'
        f'<link rel="canonical" href="{_esc(canonical_url(frame, article))}">\n'
        f"{head_blocks}</head>\n<body>\n{_chrome_header(frame)}"
        f"{_article_block(frame, article, legacy=legacy)}"
        '<div class="comments"><h3>التعليقات</h3></div>\n'
        f"{_read_more(read_more)}</body>\n</html>\n"
    ).encode()


def _opengraph(frame: Frame, article: ReplicaArticle, *, modified: bool) -> str:
    properties = [
        ("og:type", "article"),
        ("og:site_name", "RT Arabic"),
        ("og:title", article.title),
        ("og:description", article.lead),
        ("og:url", canonical_url(frame, article)),
    ]
    if article.image:
        properties.append(("og:image", image_url(frame, article.image, article.published, "article")))
    properties.append(("article:published_time", _site_iso(frame, article.published)))
    if modified:
        properties.append(("article:modified_time", _site_iso(frame, article.modified)))
    properties.append(
        ("article:section", frame.section_names.get(article.section, article.section)))
    properties += [("article:tag", tag.name) for tag in article.tags]
    return "".join(f'<meta property="{key}" content="{_esc(value)}">\n' for key, value in properties)


def _jsonld(frame: Frame, article: ReplicaArticle, *, modified: bool) -> str:
    author = (
        {"@type": "Person", "name": article.author}
        if article.author
        else {"@type": "Organization", "name": "RT Arabic"}
    )
    document: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "description": article.lead,
        "datePublished": _site_iso(frame, article.published),
    }
    if modified:
        document["dateModified"] = _site_iso(frame, article.modified)
    if article.image:
        document["image"] = {
            "@type": "ImageObject",
            "url": image_url(frame, article.image, article.published, "article"),
            "caption": article.image.caption,
        }
    document |= {
        "articleSection": frame.section_names.get(article.section, article.section),
        "keywords": [tag.name for tag in article.tags],
        "author": author,
        "publisher": {"@type": "Organization", "name": "RT Arabic"},
        "mainEntityOfPage": canonical_url(frame, article),
        "inLanguage": "ar",
    }
    # "</" would end the script element early; JSON allows the escaped slash.
    text = json.dumps(document, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return f'<script type="application/ld+json">\n{text}\n</script>\n'


def _site_iso(frame: Frame, moment: datetime) -> str:
    return moment.astimezone(frame.timezone).isoformat()


def _chrome_header(frame: Frame) -> str:
    nav = "".join(
        f'<li><a href="/{key}/">{_esc(name)}</a></li>' for key, name in frame.section_names.items()
    )
    stories = "".join(f'<li><a href="/story/">{_esc(title)}</a></li>' for title in STORY_HEADLINES)
    return (
        f'<header>\n<nav><ul><li><a href="/live/">مباشر</a></li>{nav}</ul></nav>\n'
        f'<div class="stories"><h2>قصص</h2><ul>{stories}</ul></div>\n</header>\n'
    )


def _article_block(frame: Frame, article: ReplicaArticle, *, legacy: bool) -> str:
    shown_at = article.published.astimezone(frame.timezone).strftime("%d.%m.%Y | %H:%M")
    body_class = "article__text" if legacy else "text js-text js-mediator-article"
    return (
        '<div class="article">\n'
        f'<div class="time-public"><span class="date">{shown_at}</span></div>\n'
        f'<h1 class="heading">{_esc(article.title)}</h1>\n'
        f'<div class="article__summary">{_esc(article.lead)}</div>\n'
        f"{_cover(frame, article)}{_author(article)}"
        f'<div class="{body_class}">\n{_body(article)}</div>\n{_tags(article)}</div>\n'
    )


def _cover(frame: Frame, article: ReplicaArticle) -> str:
    if not article.image:
        return ""
    src = image_url(frame, article.image, article.published, "article")
    return (
        f'<div class="article__cover">\n<img src="{_esc(src)}" alt="{_esc(article.title)}">\n'
        f'<div class="article__cover-caption">{_esc(article.image.caption)}</div>\n</div>\n'
    )


def _author(article: ReplicaArticle) -> str:
    return f'<div class="article__author">{_esc(article.author)}</div>\n' if article.author else ""


def _body(article: ReplicaArticle) -> str:
    paragraphs = list(article.paragraphs)
    # The real site leaves stray empty paragraphs and no-break spaces (as characters or
    # as "&nbsp;"); one page in four gets both when its data has none.
    if article.id % 4 == 1 and "" not in paragraphs:
        paragraphs.insert(1, "")
    if article.id % 4 == 1 and not any("\u00a0" in p or "&nbsp;" in p for p in paragraphs):
        paragraphs[0] = paragraphs[0].replace(" ", "&nbsp;", 1)
    credit = credit_line(article)
    if credit:
        paragraphs.append(_esc(credit))
    return "".join(f"<p>{paragraph}</p>\n" for paragraph in paragraphs)


def _tags(article: ReplicaArticle) -> str:
    links = "".join(
        f'<a href="/tags/{_esc(tag.slug)}/">{_esc(tag.name)}</a>\n' for tag in article.tags
    )
    return f'<div class="news-tags news-tags_article">\n<a href="/tags/">الوسوم</a>\n{links}</div>\n'


def _read_more(articles: Sequence[ReplicaArticle]) -> str:
    links = "".join(
        f'<a class="heading" href="{_esc(article_path(article))}">{_esc(article.title)}</a>\n'
        for article in articles
    )
    return f'<aside class="read-more">\n<h3>اقرأ المزيد</h3>\n{links}</aside>\n'
