"""Build the canonical :class:`~feedsvc.models.Article` from what the feed and the page said.

The page (when extracted) wins over the feed for every field it has, because the
feed carries only a teaser; the feed fills what the page lacked. ``published``
comes from the page's own time, then the feed's, then the first sighting, and is
never in the future. ``revise`` decides what an article stored again keeps of the
stored version: its ``published`` always, its ``updated`` unless the content changed.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime

from feedsvc.models import Article, FeedItem, Image, RawArticle
from feedsvc.normalize.html import clean_body, clean_text


def build_article(item: FeedItem, raw: RawArticle | None, *, fetched_at: datetime) -> Article:
    """Merge feed item and extracted page into one sanitized article."""
    page = raw or RawArticle(url=item.url)
    title = clean_text(page.title or "") or item.title
    summary = clean_text(page.summary or "") or item.summary
    if page.body_html:
        content = clean_body(page.body_html, item.url)
        content_html, content_text = content.html, content.text
    else:  # only the feed's teaser is known (page not fetched yet, or not extractable)
        content_html, content_text = clean_body(_paragraph(summary), item.url).html, summary
    published = min(page.published or item.published or fetched_at, fetched_at)
    updated = max(min(page.modified or published, fetched_at), published)
    image = _image(page.image, item.image)
    tags = tuple(dict.fromkeys(clean_text(t) for t in (page.tags or item.categories) if clean_text(t)))
    author = clean_text(page.author or item.author or "") or None
    credit = clean_text(page.credit or "") or None
    return Article(
        id=item.article_id, source=item.source, url=item.url, title=title, summary=summary,
        content_html=content_html, content_text=content_text, published=published,
        updated=updated, fetched_at=fetched_at,
        content_hash=content_hash(title, summary, content_html, image, tags, author, credit,
                                  item.section),
        author=author, section=item.section, tags=tags, image=image,
        language=page.language or "ar", credit=credit,
    )


def revise(previous: Article, current: Article) -> Article:
    """``current`` as it replaces the stored ``previous``: the same ``published``, and an
    ``updated`` that follows every real change and nothing else.

    - the content is unchanged (equal ``content_hash``): ``updated`` stays, whatever the
      page now declares;
    - it changed and the page declares a newer modified time: that time (``build_article``
      already cut it to the fetch time, so a time in the future counts as "now");
    - it changed and the page declares no newer time (older templates declare none):
      the time feedsvc saw the change, ``current.fetched_at``.

    ``updated`` never goes back. Readers of Atom and JSON Feed key on it, so an edit
    that left it in place would never be shown.
    """
    if current.content_hash == previous.content_hash:
        updated = previous.updated
    elif current.updated > previous.updated:
        updated = current.updated
    else:
        updated = current.fetched_at
    return replace(current, published=previous.published,
                   updated=max(updated, previous.updated, previous.published))


def content_hash(title: str, summary: str, content_html: str, image: Image | None,
                 tags: tuple[str, ...], author: str | None, credit: str | None,
                 section: str | None) -> str:
    """A hash of everything a reader sees; equal hashes mean "no real change", so no write."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (title, summary, content_html, image.url if image else "",
                 image.caption if image else "", "\x1f".join(tags), author or "", credit or "",
                 section or ""):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x1e")
    return digest.hexdigest()


def _image(page_image: Image | None, feed_image: Image | None) -> Image | None:
    if page_image is None:
        return feed_image
    return Image(page_image.url, clean_text(page_image.caption))


def _paragraph(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<p>{escaped}</p>" if text else ""
