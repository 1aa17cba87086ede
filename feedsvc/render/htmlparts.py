"""What the HTML pages (the index and the topic pages) share: escaping, the
stylesheet's palette and common rules, safe link targets, and how a time is shown.

Times. An Arabic reader of RT Arabic expects what the site itself writes: the day,
the month by its Arabic name as used in Egypt and the Gulf («مارس», not «آذار»),
the year, in Western digits, and a 24-hour clock: «1 مارس 2026، 09:30». Pages show
UTC, named as Arabic news sites name it («بتوقيت غرينتش»), because rendering is
pure (there is no reader's zone to know) and the feeds carry UTC too; every time is
a ``<time datetime="…">`` element holding the exact instant for machines.

Colours. Every colour of the pages is a custom property set in :data:`BASE_STYLE`,
once for light and once for dark schemes, and every text colour meets WCAG AA
(4.5:1) on the background it is drawn on, in both schemes (tested from this CSS).
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from urllib.parse import urlsplit

from . import fields
from .xmlsafe import xml_text

ATOM_TYPE = "application/atom+xml"
JSON_FEED_TYPE = "application/feed+json"

MONTHS = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو",
          "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر")
ZONE_NAME = "بتوقيت غرينتش"  # "Greenwich time": how Arabic news names UTC

# Logical properties only (inline/block, start/end), so the layout follows dir="rtl".
# Colours only through the palette's custom properties (see the module docstring).
BASE_STYLE = """
:root { color-scheme: light dark;
  --fg: #1b1b1b; --bg: #ffffff; --accent: #c8102e; --muted: #6b6b6b; --rule: #8884;
  color: var(--fg); background: var(--bg);
  font-family: "Noto Naskh Arabic", "Segoe UI", Tahoma, sans-serif; line-height: 1.7; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #ececec; --bg: #15171a; --accent: #ff8a95; --muted: #a9adb3; } }
body { max-inline-size: 46rem; margin-block: 0; margin-inline: auto;
  padding-block: 1.5rem; padding-inline: 1rem; }
a { color: var(--accent); }
header { border-block-end: 3px solid var(--accent); margin-block-end: 1rem; }
h1 { font-size: 1.9rem; margin-block: 0 .25rem; }
.meta { color: var(--muted); font-size: .9rem; }
.subscribe a { display: inline-block; margin-inline-end: .5rem; padding-block: .15rem;
  padding-inline: .8rem; border: 1px solid var(--accent); border-radius: 1rem;
  color: var(--accent); text-decoration: none; }
.subscribe a:hover, .subscribe a:focus { background: var(--accent); color: var(--bg); }
footer { margin-block-start: 1.5rem; font-size: .9rem; }
""".strip()


def text(value: str) -> str:
    """``value`` as HTML element content."""
    return escape(xml_text(value), quote=False)


def attr(value: str) -> str:
    """``value`` as a double-quoted HTML attribute value."""
    return escape(xml_text(value), quote=True)


def web_url(url: str) -> str | None:
    """``url`` when it is an absolute http(s) URL, else None: article URLs come from
    outside, and a ``javascript:`` or ``data:`` link must never reach a page."""
    cleaned = xml_text(url).strip()
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return cleaned


def shown_time(moment: datetime) -> str:
    """«1 مارس 2026، 09:30 بتوقيت غرينتش»: ``moment`` in UTC, as an Arabic reader reads it."""
    at = fields.utc(moment)
    return f"{at.day} {MONTHS[at.month - 1]} {at.year}، {at:%H:%M} {ZONE_NAME}"


def time_element(moment: datetime) -> str:
    """``<time>`` showing :func:`shown_time`, with the exact instant in ``datetime``."""
    return f'<time datetime="{fields.rfc3339(moment)}">{text(shown_time(moment))}</time>'
