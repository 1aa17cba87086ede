"""The index page ``/``: every topic with its page and feeds, in Arabic, right to left.

Plain HTML5 built from escaped strings: every interpolated value goes
through :func:`.htmlparts.text` or :func:`.htmlparts.attr`. Titles and descriptions
sit in ``<bdi>`` so stray bidi controls in them cannot reorder the text around them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from . import fields
from .htmlparts import ATOM_TYPE, BASE_STYLE, JSON_FEED_TYPE, attr, text, time_element
from .ids import anchor_for
from .model import IndexPaging, TopicSummary
from .xmlsafe import xml_line

# Beyond the shared rules: one section per topic.
STYLE = BASE_STYLE + "\n" + """
.topic { padding-block: 1rem; border-block-end: 1px solid var(--rule); }
.topic h2 { font-size: 1.3rem; margin-block: 0 .25rem; }
.topic h2 a { color: var(--fg); text-decoration-color: var(--accent); }
.topic p { margin-block: .25rem; }
.paging { display: flex; gap: 1rem; justify-content: space-between; padding-block: 1rem; }
""".strip()


def render_index(topics: Sequence[TopicSummary], *, site_title: str, opml_url: str,
                 paging: IndexPaging | None = None) -> bytes:
    """The index page listing ``topics`` in the order given, UTF-8 encoded; ``paging``
    when the topics are one page of several."""
    title = xml_line(site_title) or "feedsvc"
    lines = [
        "<!DOCTYPE html>",
        '<html lang="ar" dir="rtl">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{text(title)}</title>",
        *(link for topic in topics for link in _autodiscovery(topic)),
        f"<style>\n{STYLE}\n</style>",
        "</head>",
        "<body>",
        f"<header><h1>{text(title)}</h1>",
        "<p>افتح صفحة أي موضوع لتصفّح أحدث مقالاته، أو اشترك في خلاصته بصيغة Atom أو JSON Feed.</p>"
        "</header>",
        "<main>",
        *(_topic_section(topic) for topic in topics),
        *([] if topics else ["<p>لا توجد مواضيع بعد.</p>"]),
        *_paging(paging),
        "</main>",
        f'<footer><a href="{attr(opml_url)}" type="text/x-opml">'
        "قائمة كل المواضيع للاشتراك دفعة واحدة (OPML)</a></footer>",
        "</body>",
        "</html>",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _paging(paging: IndexPaging | None) -> list[str]:
    """Links to the neighbouring pages, and where this one is: «الصفحة 2 من 100»."""
    if paging is None or paging.pages <= 1:
        return []
    links = [f"<span>الصفحة {paging.page} من {paging.pages}</span>"]
    if paging.previous_url:
        links.insert(0, f'<a rel="prev" href="{attr(paging.previous_url)}">→ السابقة</a>')
    if paging.next_url:
        links.append(f'<a rel="next" href="{attr(paging.next_url)}">التالية ←</a>')
    return ['<nav class="paging" aria-label="صفحات المواضيع">', *links, "</nav>"]


def _autodiscovery(topic: TopicSummary) -> tuple[str, str]:
    name = _topic_title(topic)
    return (
        f'<link rel="alternate" type="{ATOM_TYPE}" title="{attr(name)} (Atom)"'
        f' href="{attr(topic.atom_url)}">',
        f'<link rel="alternate" type="{JSON_FEED_TYPE}" title="{attr(name)} (JSON)"'
        f' href="{attr(topic.json_url)}">',
    )


def _topic_section(topic: TopicSummary) -> str:
    description = xml_line(topic.description)
    parts = [
        f'<section class="topic" id="{attr(anchor_for(topic.slug))}">',
        _topic_heading(topic),
        f"<p><bdi>{text(description)}</bdi></p>" if description else "",
        f'<p class="meta">{text(count_phrase(topic.count))} · {_updated_html(topic.updated)}</p>',
        '<p class="subscribe">'
        f'<a href="{attr(topic.atom_url)}" type="{ATOM_TYPE}">Atom</a> '
        f'<a href="{attr(topic.json_url)}" type="{JSON_FEED_TYPE}">JSON Feed</a></p>',
        "</section>",
    ]
    return "\n".join(part for part in parts if part)


def _topic_heading(topic: TopicSummary) -> str:
    """The topic's title, linked to its page when it has one."""
    title = f"<bdi>{text(_topic_title(topic))}</bdi>"
    if topic.page_url:
        title = f'<a href="{attr(topic.page_url)}">{title}</a>'
    return f"<h2>{title}</h2>"


def _topic_title(topic: TopicSummary) -> str:
    return xml_line(topic.title) or xml_line(topic.slug) or fields.UNTITLED


def _updated_html(updated: datetime | None) -> str:
    if updated is None:
        return "لم يُحدَّث بعد"
    return f"آخر تحديث: {time_element(updated)}"


def count_phrase(count: int) -> str:
    """«N articles» with the Arabic plural forms: one, two, 3–10 (mod 100), other."""
    if count <= 0:
        return "لا مقالات"
    if count == 1:
        return "مقالة واحدة"
    if count == 2:
        return "مقالتان"
    if 3 <= count % 100 <= 10:
        return f"{count} مقالات"
    return f"{count} مقالة"
