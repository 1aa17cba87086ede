"""The source credit line (``المصدر: نوفوستي``) at the end of an article body.

RT Arabic ends most agency-based stories with a paragraph naming the agency.
It is metadata, not body text: the extractor moves it to ``RawArticle.credit``
so it is neither served twice nor matched against topics.

Recognised forms, on the last non-empty body paragraph, or as the only text of
the element that follows the paragraphs (in their container, or right after
it)::

    المصدر: نوفوستي
    المصدر: "نوفوستي"
    المصدر : «نوفوستي».
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from selectolax.lexbor import LexborNode

from feedsvc.normalize.html import clean_text

__all__ = ["parse_credit", "split_credit"]

_CREDIT = re.compile(
    r"^المصدر\s*[:：]\s*"
    r"[\"'«“”„]?\s*(?P<name>[^\"'«»“”„]+?)\s*[\"'»”“]?\s*[.。]?$"
)
# A credit names an agency or two; a long paragraph that happens to start with
# the word is body text.
_MAX_CREDIT_CHARS = 80


def parse_credit(text: str) -> str | None:
    """The agency name of a credit line, without label or quotes; None if ``text`` is not one."""
    line = clean_text(text)
    if len(line) > _MAX_CREDIT_CHARS:
        return None
    match = _CREDIT.match(line)
    return match.group("name") if match else None


def split_credit(paragraphs: Sequence[LexborNode]) -> tuple[list[LexborNode], str | None]:
    """The body paragraphs without the credit line, and the credit if there was one."""
    kept = _without_trailing_empty(list(paragraphs))
    if not kept:
        return kept, None
    credit = parse_credit(kept[-1].text(deep=True))
    if credit is not None:
        return _without_trailing_empty(kept[:-1]), credit
    return kept, _trailing_credit(kept[-1])


def _without_trailing_empty(paragraphs: list[LexborNode]) -> list[LexborNode]:
    while paragraphs and not _has_text(paragraphs[-1]):
        paragraphs.pop()
    return paragraphs


def _trailing_credit(last: LexborNode) -> str | None:
    """A credit in the first element with text after the last paragraph, e.g. a ``<div>``.

    When the paragraphs' container ends with them, the container's next sibling
    is looked at instead (one level up only): older templates put the source
    line right after the body block.
    """
    for start in (last, last.parent):
        if start is None:
            return None
        sibling = _next_with_text(start)
        if sibling is not None:
            return parse_credit(sibling.text(deep=True)) if sibling.is_element_node else None
    return None


def _next_with_text(node: LexborNode) -> LexborNode | None:
    sibling = node.next
    while sibling is not None and not _has_text(sibling):
        sibling = sibling.next
    return sibling


def _has_text(node: LexborNode) -> bool:
    return bool(clean_text(node.text(deep=True)))
