"""The topic page: structure, escaping, paging, times, and contrast computed from its CSS."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import html5lib
import pytest
from hypothesis import HealthCheck, given, settings

from feedsvc.models import Image
from feedsvc.render import render_topic_page
from feedsvc.render.htmlparts import MONTHS, shown_time
from feedsvc.render.index_page import STYLE as INDEX_STYLE
from feedsvc.render.topic_page import LEAD_EXCERPT
from feedsvc.render.topic_page import STYLE as TOPIC_STYLE

from .factory import PUBLIC_URL, make_article, make_meta, make_page
from .test_hostile import HOSTILE, any_text, hostile_article, hostile_meta

SITE = "RT Arabic حسب الموضوع"
PAGE_URL = f"{PUBLIC_URL}topics/economy"
NEXT_URL = f"{PAGE_URL}?cursor=WzE3"


def render(page):
    return render_topic_page(page, site_title=SITE, index_url=PUBLIC_URL)


def parse(document: bytes):
    """A strict WHATWG HTML5 parse: any parse error fails the test."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    return parser.parse(document)


def html_page(count: int = 3, **overrides):
    """A page as the web layer builds it: self and first URLs are the page's own."""
    meta = make_meta(self_url=PAGE_URL)
    return make_page(count, meta=meta, **{"first_url": PAGE_URL, **overrides})


def test_arabic_right_to_left_html5_with_autodiscovery() -> None:
    document = render(html_page())
    assert document.startswith(b"<!DOCTYPE html>\n")
    root = parse(document)
    assert (root.get("lang"), root.get("dir")) == ("ar", "rtl")
    head = root.find("head")
    assert head.find("meta").get("charset") == "utf-8"
    assert head.findtext("title") == f"اقتصاد – {SITE}"
    alternates = [(link.get("type"), link.get("href"), link.get("title"))
                  for link in head.iterfind("link[@rel='alternate']")]
    assert alternates == [
        ("application/atom+xml", f"{PUBLIC_URL}topics/economy.atom", "اقتصاد (Atom)"),
        ("application/feed+json", f"{PUBLIC_URL}topics/economy.json", "اقتصاد (JSON Feed)"),
    ]


def test_headings_and_subscribe_buttons() -> None:
    root = parse(render(html_page()))
    header = root.find("body/header")
    assert [h.findtext("bdi") for h in root.iter("h1")] == ["اقتصاد"]
    assert header.find("p/a").get("href") == PUBLIC_URL  # back to the index
    buttons = header.findall("p[@class='subscribe']/a")
    assert [(a.text, a.get("href"), a.get("type")) for a in buttons] == [
        ("Atom", f"{PUBLIC_URL}topics/economy.atom", "application/atom+xml"),
        ("JSON Feed", f"{PUBLIC_URL}topics/economy.json", "application/feed+json"),
    ]
    assert root.find("body/footer/a").get("href") == PUBLIC_URL


def test_each_article_shows_headline_lead_image_time_and_section_but_not_its_body() -> None:
    page = html_page()
    document = render(page)
    stories = parse(document).findall("body/main/article")
    assert len(stories) == len(page.articles) == 3
    for story, article in zip(stories, page.articles, strict=True):
        link = story.find("div/h2/a")
        assert link.get("href") == article.url
        assert link.findtext("bdi") == article.title
        time = story.find("div/p[@class='meta']/time")
        assert time.get("datetime") == article.published.isoformat()
        assert time.text == shown_time(article.published)
        assert story.findtext("div/p[@class='meta']/bdi") == "العالم"
        assert story.findtext("div/p[@class='lead']/bdi") == article.summary
        image = story.find("img")
        assert image.attrib == {"src": article.image.url, "alt": "صورة أرشيفية",
                                "loading": "lazy", "decoding": "async"}
    assert "نص الخبر".encode() not in document  # the body is for the feeds


def test_no_script_no_event_handlers_no_inline_style() -> None:
    root = parse(render(html_page()))
    assert root.findall(".//script") == []
    assert [e.tag for e in root.iter() if any(a.startswith("on") for a in e.attrib)] == []
    assert [e.tag for e in root.iter() if "style" in e.attrib] == []


def test_first_page_links_older_articles() -> None:
    root = parse(render(html_page(next_url=NEXT_URL)))
    assert [(a.get("rel"), a.get("href")) for a in root.findall("body/nav/a")] == [
        ("next", NEXT_URL)]
    assert root.find("body/nav").get("aria-label")
    assert root.find("head/link[@rel='next']").get("href") == NEXT_URL


def test_later_page_links_back_to_the_newest() -> None:
    meta = make_meta(self_url=NEXT_URL)
    page = make_page(2, meta=meta, first_url=PAGE_URL, next_url=f"{PAGE_URL}?cursor=WzE4")
    rels = [(a.get("rel"), a.get("href")) for a in parse(render(page)).findall("body/nav/a")]
    assert rels == [("first", PAGE_URL), ("next", f"{PAGE_URL}?cursor=WzE4")]


def test_last_page_has_no_paging() -> None:
    root = parse(render(html_page()))
    assert root.find("body/nav") is None
    assert root.find("head/link[@rel='next']") is None


def test_empty_pages_say_so() -> None:
    assert "لا مقالات في هذا الموضوع بعد" in _text(render(html_page(0)))
    past_the_end = make_page(0, meta=make_meta(self_url=NEXT_URL), first_url=PAGE_URL)
    assert "لا مقالات أقدم" in _text(render(past_the_end))


def test_only_web_links_become_links_or_images() -> None:
    hostile = make_article(1, url="javascript:alert(1)",
                           image=Image("data:image/svg+xml,<svg onload=alert(1)>", "x"))
    document = render(html_page(0, articles=(hostile, make_article(2, url="  HTTPS://a.example/x "))))
    root = parse(document)
    first, second = root.findall("body/main/article")
    assert first.find("div/h2/a") is None and first.find("img") is None
    assert first.findtext("div/h2/bdi") == hostile.title
    assert second.find("div/h2/a").get("href") == "HTTPS://a.example/x"
    assert b"javascript:" not in document and b"data:image" not in document


def test_image_without_caption_is_decoration_and_article_without_image_has_none() -> None:
    articles = (make_article(1, image=Image("https://cdn.rt.com/images/1.jpg")),
                make_article(2, image=None))
    first, second = parse(render(html_page(0, articles=articles))).findall("body/main/article")
    assert first.find("img").get("alt") == ""
    assert second.find("img") is None


def test_fallbacks_for_missing_fields() -> None:
    bare = make_article(1, title="", summary="", section=None,
                        content_text="نص طويل " * 100)
    story = parse(render(html_page(0, articles=(bare,)))).find("body/main/article")
    assert story.findtext("div/h2/a/bdi").startswith("نص طويل")  # the title falls back
    lead = story.findtext("div/p[@class='lead']/bdi")
    assert lead.startswith("نص طويل") and len(lead) <= LEAD_EXCERPT + 1
    assert story.find("div/p[@class='meta']/bdi") is None  # no section, no separator
    assert "·" not in "".join(story.find("div/p[@class='meta']").itertext())


def test_long_lead_is_cut_at_a_word() -> None:
    article = make_article(1, summary="كلمة " * 200)
    lead = parse(render(html_page(0, articles=(article,)))).findtext(
        "body/main/article/div/p[@class='lead']/bdi")
    assert lead.endswith("كلمة…") and len(lead) <= LEAD_EXCERPT + 1


def test_an_article_in_another_language_says_so() -> None:
    english = make_article(1, language="en")
    stories = parse(render(html_page(0, articles=(english, make_article(2))))).findall(
        "body/main/article")
    assert [story.get("lang") for story in stories] == ["en", None]


@pytest.mark.parametrize("month", range(1, 13))
def test_times_use_arabic_month_names_and_utc(month: int) -> None:
    moment = datetime(2026, month, 9, 23, 5, 59, 999, tzinfo=UTC)
    assert shown_time(moment) == f"9 {MONTHS[month - 1]} 2026، 23:05 بتوقيت غرينتش"


def test_times_are_converted_to_utc() -> None:
    moscow = datetime(2026, 1, 1, 1, 30, tzinfo=timezone(timedelta(hours=3)))
    assert shown_time(moscow) == "31 ديسمبر 2025، 22:30 بتوقيت غرينتش"
    article = make_article(1, published=moscow)
    time = parse(render(html_page(0, articles=(article,)))).find(".//time")
    assert time.get("datetime") == "2025-12-31T22:30:00+00:00"


def test_deterministic() -> None:
    assert render(html_page()) == render(html_page())


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_text_stays_text(text: str) -> None:
    _assert_clean(text)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=any_text)
def test_any_text_in_every_field(text: str) -> None:
    _assert_clean(text)


def _assert_clean(text: str) -> None:
    page = make_page(0, meta=hostile_meta(text),
                     articles=(hostile_article(text), make_article(2)))
    root = parse(render_topic_page(page, site_title=text, index_url=PUBLIC_URL))
    assert (root.get("lang"), root.get("dir")) == ("ar", "rtl")
    assert root.findall(".//script") == [] and root.findall(".//b") == []
    assert len(root.findall("body/main/article")) == 2
    assert len(root.findall(".//h1")) == 1


def _text(document: bytes) -> str:
    return "".join(parse(document).itertext())


# --- contrast: WCAG 2 AA, computed from the stylesheets ------------------------------

AA_TEXT = 4.5
_DARK = re.compile(r"@media \(prefers-color-scheme: dark\) \{\s*:root \{([^{}]*)\}\s*\}")
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_COLOUR_LITERAL = re.compile(r"#[0-9a-fA-F]{3,8}\b|\b(?:rgba?|hsla?|hwb|lab|lch|color)\(")


def _declarations(body: str) -> dict[str, str]:
    pairs = (part.split(":", 1) for part in body.split(";") if ":" in part)
    return {name.strip(): value.strip() for name, value in pairs}


def _rules(css: str) -> list[tuple[str, dict[str, str]]]:
    outside_media = _DARK.sub("", css)
    return [(selector.strip(), _declarations(body)) for selector, body in _RULE.findall(outside_media)]


def _palettes(css: str) -> dict[str, dict[str, str]]:
    root = dict(_rules(css))[":root"]
    light = {name: value for name, value in root.items() if name.startswith("--")}
    dark_block = _DARK.search(css)
    assert dark_block, "no dark palette: a dark scheme would get the browser's colours"
    return {"light": light, "dark": {**light, **_declarations(dark_block.group(1))}}


def _rgba(hex_colour: str) -> tuple[float, float, float, float]:
    digits = hex_colour.lstrip("#")
    if len(digits) in (3, 4):
        digits = "".join(d * 2 for d in digits)
    channels = [int(digits[i:i + 2], 16) / 255 for i in range(0, len(digits), 2)]
    return (channels[0], channels[1], channels[2], channels[3] if len(channels) == 4 else 1.0)


def _luminance(rgb: tuple[float, float, float]) -> float:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio; a translucent foreground is composited over the background."""
    fr, fg, fb, alpha = _rgba(foreground)
    br, bg, bb, _ = _rgba(background)
    shown = (fr * alpha + br * (1 - alpha), fg * alpha + bg * (1 - alpha),
             fb * alpha + bb * (1 - alpha))
    lighter, darker = sorted((_luminance(shown), _luminance((br, bg, bb))), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _var(value: str) -> str:
    found = re.fullmatch(r"var\((--[\w-]+)\)", value)
    assert found, f"a colour outside the palette: {value!r}"
    return found.group(1)


def text_colour_pairs(css: str) -> list[tuple[str, str, str]]:
    """``(selector, text colour, background)`` for every rule that sets a text colour;
    a rule without its own background is drawn on the page's (``:root``'s)."""
    rules = _rules(css)
    page_background = _var(dict(rules)[":root"]["background"])
    pairs = []
    for selector, declarations in rules:
        if "color" in declarations:
            background = declarations.get("background", declarations.get("background-color"))
            pairs.append((selector, _var(declarations["color"]),
                          _var(background) if background else page_background))
    return pairs


@pytest.mark.parametrize("css", [TOPIC_STYLE, INDEX_STYLE], ids=["topic page", "index"])
def test_every_text_colour_meets_wcag_aa_in_light_and_dark_schemes(css: str) -> None:
    pairs = text_colour_pairs(css)
    assert {(":root", "--fg", "--bg"), ("a", "--accent", "--bg")} <= set(pairs)
    for scheme, palette in _palettes(css).items():
        for selector, foreground, background in pairs:
            ratio = contrast(palette[foreground], palette[background])
            assert ratio >= AA_TEXT, f"{scheme}: {selector}: {ratio:.2f}:1"


@pytest.mark.parametrize("css", [TOPIC_STYLE, INDEX_STYLE], ids=["topic page", "index"])
def test_colours_are_only_set_in_the_palette(css: str) -> None:
    for selector, declarations in _rules(css):
        for name, value in declarations.items():
            if not name.startswith("--"):
                assert not _COLOUR_LITERAL.search(value), f"{selector} {{ {name}: {value} }}"


def test_contrast_formula() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near miss
    assert contrast("#0000", "#ffffff") == pytest.approx(1.0)  # transparent text is invisible
