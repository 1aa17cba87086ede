"""The index page ``/``: every topic with its feeds, in Arabic, right to left.

Plain HTML5 built from escaped strings: every interpolated value goes
through :func:`_text` or :func:`_attr`. Titles and descriptions sit in
``<bdi>`` so stray bidi controls in them cannot reorder the text around them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from . import fields
from .ids import anchor_for
from .model import TopicSummary
from .xmlsafe import xml_line, xml_text

ATOM_TYPE = "application/atom+xml"
JSON_FEED_TYPE = "application/feed+json"

# Logical properties only (inline/block, start/end), so the layout follows dir="rtl".
STYLE = """
:root { color-scheme: light dark; --accent: #c8102e; --muted: #6b6b6b;
  font-family: "Noto Naskh Arabic", "Segoe UI", Tahoma, sans-serif; line-height: 1.7; }
body { max-inline-size: 46rem; margin-block: 0; margin-inline: auto;
  padding-block: 1.5rem; padding-inline: 1rem; }
header { border-block-end: 3px solid var(--accent); margin-block-end: 1rem; }
h1 { font-size: 1.9rem; margin-block: 0 .25rem; }
.topic { padding-block: 1rem; border-block-end: 1px solid #8884; }
.topic h2 { font-size: 1.3rem; margin-block: 0 .25rem; }
.topic p { margin-block: .25rem; }
.meta { color: var(--muted); font-size: .9rem; }
.subscribe a { display: inline-block; margin-inline-end: .5rem; padding-block: .15rem;
  padding-inline: .8rem; border: 1px solid var(--accent); border-radius: 1rem;
  color: var(--accent); text-decoration: none; }
.subscribe a:hover, .subscribe a:focus { background: var(--accent); color: #fff; }
footer { margin-block-start: 1.5rem; font-size: .9rem; }
""".strip()


def render_index(topics: Sequence[TopicSummary], *, site_title: str, opml_url: str) -> bytes:
    """The index page listing ``topics`` in the order given, UTF-8 encoded."""
    title = xml_line(site_title) or "feedsvc"
    lines = [
        "<!DOCTYPE html>",
        '<html lang="ar" dir="rtl">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_text(title)}</title>",
        *(link for topic in topics for link in _autodiscovery(topic)),
        f"<style>\n{STYLE}\n</style>",
        "</head>",
        "<body>",
        f"<header><h1>{_text(title)}</h1>",
        "<p>اشترك في خلاصة كل موضوع بصيغة Atom أو JSON Feed.</p></header>",
        "<main>",
        *(_topic_section(topic) for topic in topics),
        *([] if topics else ["<p>لا توجد مواضيع بعد.</p>"]),
        "</main>",
        f'<footer><a href="{_attr(opml_url)}" type="text/x-opml">'
        "قائمة كل المواضيع للاشتراك دفعة واحدة (OPML)</a></footer>",
        "</body>",
        "</html>",
    ]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _autodiscovery(topic: TopicSummary) -> tuple[str, str]:
    name = _topic_title(topic)
    return (
        f'<link rel="alternate" type="{ATOM_TYPE}" title="{_attr(name)} (Atom)"'
        f' href="{_attr(topic.atom_url)}">',
        f'<link rel="alternate" type="{JSON_FEED_TYPE}" title="{_attr(name)} (JSON)"'
        f' href="{_attr(topic.json_url)}">',
    )


def _topic_section(topic: TopicSummary) -> str:
    description = xml_line(topic.description)
    parts = [
        f'<section class="topic" id="{_attr(anchor_for(topic.slug))}">',
        f"<h2><bdi>{_text(_topic_title(topic))}</bdi></h2>",
        f"<p><bdi>{_text(description)}</bdi></p>" if description else "",
        f'<p class="meta">{_text(count_phrase(topic.count))} · {_updated_html(topic.updated)}</p>',
        '<p class="subscribe">'
        f'<a href="{_attr(topic.atom_url)}" type="{ATOM_TYPE}">Atom</a> '
        f'<a href="{_attr(topic.json_url)}" type="{JSON_FEED_TYPE}">JSON Feed</a></p>',
        "</section>",
    ]
    return "\n".join(part for part in parts if part)


def _topic_title(topic: TopicSummary) -> str:
    return xml_line(topic.title) or xml_line(topic.slug) or fields.UNTITLED


def _updated_html(updated: datetime | None) -> str:
    if updated is None:
        return "لم يُحدَّث بعد"
    moment = fields.utc(updated)
    shown = moment.strftime("%Y-%m-%d %H:%M") + " UTC"
    return f'آخر تحديث: <time datetime="{moment.isoformat()}" dir="ltr">{shown}</time>'


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


def _text(value: str) -> str:
    return escape(xml_text(value), quote=False)


def _attr(value: str) -> str:
    return escape(xml_text(value), quote=True)
